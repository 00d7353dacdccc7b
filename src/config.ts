import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {LyipcError} from './errors.js';
import {ENGINE_MODES, STRUCTURE_CHOICES, parseLayerList, type EngineMode, type StructureChoice, type XorOptions} from './xor/options.js';

/** When a failing layout assertion opens in the viewer (the Vitest matcher). */
export type OpenChoice = 'on-failure' | 'never' | 'always';
export const OPEN_CHOICES: readonly OpenChoice[] = ['on-failure', 'never', 'always'];

/**
 * Shared defaults from `lyipc.config.json` or the `lyipc` key of package.json. Command-line
 * options and per-call options win over them.
 */
export interface LyipcConfig {
	/** µm; differences no wider are slivers. */
	tolerance?: number;
	/** Layers to compare, e.g. ["1/0", "2"] or "1/0,2". */
	layers?: string[];
	ignoreLayers?: string[];
	mode?: EngineMode;
	structure?: StructureChoice;
	threads?: number;
	maxMarkers?: number;
	/** Refuse files whose context meta data the running KLayout cannot read, as `--strict-read`. */
	strictRead?: boolean;
	/** Seconds one comparison may take (0 = no limit), as `--timeout`. */
	timeout?: number;
	/** KLayout workers in directory mode and for the Vitest matcher. */
	workers?: number;
	/** Directory mode reporters, as `--reporter` takes them: ["console", "junit=reports/layout.xml"]. */
	reporters?: string[];
	include?: string[];
	exclude?: string[];
	/** The Vitest matcher: when a failure opens in the viewer. */
	open?: OpenChoice;
}

export interface LoadedConfig {
	config: LyipcConfig;
	/** The file it came from (package.json for the `lyipc` key), or null when none was found. */
	file: string | null;
}

export const CONFIG_FILE = 'lyipc.config.json';

type Check = (value: unknown) => string | null;

const isNumber =
	(min: number, whole = false): Check =>
	value =>
		typeof value === 'number' && Number.isFinite(value) && value >= min && (!whole || Number.isInteger(value)) ? null : `expected ${whole ? 'a whole number' : 'a number'} >= ${min}`;
const isFlag: Check = value => (typeof value === 'boolean' ? null : 'expected true or false');
const isStrings: Check = value => (Array.isArray(value) && value.every(item => typeof item === 'string') ? null : 'expected a list of strings');
const isLayers: Check = value => {
	const list = typeof value === 'string' ? [value] : value;
	if (isStrings(list)) {
		return 'expected layers like ["1/0", "2"] or "1/0,2"';
	}

	for (const item of list as string[]) {
		try {
			parseLayerList(item);
		} catch (error) {
			return (error as Error).message;
		}
	}

	return null;
};

const oneOf =
	(choices: readonly string[]): Check =>
	value =>
		choices.includes(value as string) ? null : `expected one of ${choices.join(', ')}`;

const CHECKS: Record<keyof LyipcConfig, Check> = {
	tolerance: isNumber(0),
	layers: isLayers,
	ignoreLayers: isLayers,
	mode: oneOf(ENGINE_MODES),
	structure: oneOf(STRUCTURE_CHOICES),
	threads: isNumber(1, true),
	maxMarkers: isNumber(0, true),
	strictRead: isFlag,
	timeout: isNumber(0),
	workers: isNumber(1, true),
	reporters: isStrings,
	include: isStrings,
	exclude: isStrings,
	open: oneOf(OPEN_CHOICES),
};

/** Checks a parsed config object; every problem is a USAGE error naming the file and the key. */
export function validateConfig(value: unknown, file: string): LyipcConfig {
	const fail = (message: string) => new LyipcError('USAGE', `${file}: ${message}`, {path: file, hint: `The keys: ${Object.keys(CHECKS).join(', ')} (README, "Shared defaults").`});
	if (typeof value !== 'object' || value === null || Array.isArray(value)) {
		throw fail('the lyipc settings must be a JSON object');
	}

	const config: Record<string, unknown> = {};
	for (const [key, item] of Object.entries(value)) {
		const check = CHECKS[key as keyof LyipcConfig];
		if (!check) {
			throw fail(`unknown key '${key}'`);
		}

		const problem = check(item);
		if (problem) {
			throw fail(`${key}: ${problem}, got ${JSON.stringify(item)}`);
		}

		config[key] = (key === 'layers' || key === 'ignoreLayers') && typeof item === 'string' ? [item] : item;
	}

	return config as LyipcConfig;
}

async function readJson(file: string): Promise<unknown> {
	let text: string;
	try {
		text = await readFile(file, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
			return undefined;
		}

		throw new LyipcError('USAGE', `${file}: cannot read (${(error as Error).message})`, {path: file});
	}

	try {
		return JSON.parse(text) as unknown;
	} catch (error) {
		throw new LyipcError('USAGE', `${file}: not valid JSON (${(error as Error).message})`, {path: file});
	}
}

/**
 * The settings that apply in `dir`: the nearest `lyipc.config.json` or package.json with a
 * `lyipc` key, looking in `dir` and then its parents. A package.json without the key does not
 * stop the search (a workspace package may take its root's settings).
 */
export async function findConfig(dir: string): Promise<LoadedConfig> {
	for (let current = path.resolve(dir); ; current = path.dirname(current)) {
		const own = path.join(current, CONFIG_FILE);
		const config = await readJson(own);
		if (config !== undefined) {
			return {config: validateConfig(config, own), file: own};
		}

		const manifestFile = path.join(current, 'package.json');
		const manifest = await readJson(manifestFile);
		if (manifest && typeof manifest === 'object' && 'lyipc' in manifest) {
			return {config: validateConfig((manifest as {lyipc: unknown}).lyipc, `${manifestFile} ("lyipc")`), file: manifestFile};
		}

		if (path.dirname(current) === current) {
			return {config: {}, file: null};
		}
	}
}

/** An explicit settings file (`--config FILE`): a lyipc.config.json-style file, or a package.json's `lyipc` key. */
export async function loadConfigFile(file: string): Promise<LoadedConfig> {
	const resolved = path.resolve(file);
	const value = await readJson(resolved);
	if (value === undefined) {
		throw new LyipcError('INPUT_NOT_FOUND', `${file}: config file not found`, {path: file});
	}

	if (path.basename(resolved) === 'package.json') {
		return {config: validateConfig((value as {lyipc?: unknown}).lyipc ?? {}, `${resolved} ("lyipc")`), file: resolved};
	}

	return {config: validateConfig(value, resolved), file: resolved};
}

/** The comparison options a config sets, as `compareLayouts` takes them (timeout in ms). */
export function compareDefaults(config: LyipcConfig): XorOptions & {timeout?: number} {
	const {tolerance, layers, ignoreLayers, mode, structure, threads, maxMarkers, strictRead, timeout} = config;
	const options = {tolerance, layers, ignoreLayers, mode, structure, threads, maxMarkers, strictRead, timeout: timeout === undefined ? undefined : timeout * 1000};
	return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}
