import {realpath} from 'node:fs/promises';
import {parseArgs} from 'node:util';
import {LyipcError} from '../errors.js';
import {resolveTarget, type ViewerTarget} from '../viewer/client.js';
import {printFailure, type CliIo} from './io.js';
import {didYouMean} from './did-you-mean.js';

const OPTIONS = {
	new: {type: 'boolean'},
	add: {type: 'boolean'},
	json: {type: 'boolean'},
	width: {type: 'string'},
	height: {type: 'string'},
	window: {type: 'boolean'},
	target: {type: 'string'},
	timeout: {type: 'string'},
	uninstall: {type: 'boolean'},
	'no-autostart': {type: 'boolean'},
	port: {type: 'string'},
	host: {type: 'string'},
	klive: {type: 'boolean'},
	'no-klive': {type: 'boolean'},
	'klive-port': {type: 'string'},
	'allow-remote-v1': {type: 'boolean'},
	'no-allow-remote-v1': {type: 'boolean'},
	klayout: {type: 'string'},
	global: {type: 'boolean'},
	interval: {type: 'string'},
	loop: {type: 'boolean'},
	force: {type: 'boolean'},
	help: {type: 'boolean', short: 'h'},
	version: {type: 'boolean', short: 'V'},
} as const;

/** Options that mean something to some commands only; the others are common to all. */
const OPTIONS_FOR: Partial<Record<string, readonly string[]>> = {
	new: ['load'],
	add: ['load'],
	json: ['status'],
	width: ['screenshot'],
	height: ['screenshot'],
	window: ['screenshot'],
	interval: ['animate'],
	loop: ['animate'],
	uninstall: ['server', 'git-setup'],
	global: ['git-setup'],
	'no-autostart': ['server'],
	'allow-remote-v1': ['server'],
	'no-allow-remote-v1': ['server'],
	port: ['viewer', 'server'],
	host: ['viewer', 'server'],
	klive: ['viewer', 'server'],
	'no-klive': ['viewer', 'server'],
	'klive-port': ['viewer', 'server'],
	klayout: ['viewer'],
	force: ['quit'],
};

export function usage(message: string): LyipcError {
	return new LyipcError('USAGE', message, {hint: "Run 'lyipc --help' for the commands."});
}

export function positiveNumber(option: string, text: string | undefined, fallback: number): number {
	if (text === undefined) {
		return fallback;
	}

	const value = Number(text);
	if (!Number.isFinite(value) || value <= 0) {
		throw usage(`--${option}: expected a positive number, got '${text}'`);
	}

	return value;
}

export function portNumber(option: string, text: string): number {
	const value = Number(text);
	if (!Number.isInteger(value) || value < 1 || value > 65_535) {
		throw usage(`--${option}: expected a TCP port from 1 to 65535, got '${text}'`);
	}

	return value;
}

export async function absoluteFile(file: string): Promise<string> {
	try {
		return await realpath(file);
	} catch {
		throw new LyipcError('INPUT_NOT_FOUND', `${file}: no such file`, {path: file});
	}
}

type Values = ReturnType<typeof parseArgs<{args: string[]; options: typeof OPTIONS; allowPositionals: true; strict: true}>>['values'];

/** A parsed `lyipc` command line: the command, its arguments and what every command shares. */
export interface LyipcArgs {
	command: string;
	rest: string[];
	values: Values;
	/** The viewer to talk to (--target, LYIPC_TARGET, LYIPCTARGET, default). */
	target: ViewerTarget;
	/** Milliseconds to wait for a viewer's answer. */
	timeout: number;
	/** LYIPC_TOKEN (set but empty: none). */
	envToken: string | undefined;
	/** --port / --klive-port as a number, if given. */
	port(option: 'port' | 'klive-port'): number | undefined;
	/** Throws a usage error unless there are `count` arguments. */
	expectArgs(count: number, what: string): void;
}

/** Parses and checks the options every command shares; 'help' and 'version' are answered by the caller. */
export function parseLyipcArgs(argv: readonly string[], env: NodeJS.ProcessEnv): LyipcArgs | {help: boolean} | 'version' {
	let parsed: ReturnType<typeof parseArgs<{args: string[]; options: typeof OPTIONS; allowPositionals: true; strict: true}>>;
	try {
		parsed = parseArgs({args: [...argv], options: OPTIONS, allowPositionals: true, strict: true});
	} catch (error) {
		const {code, message} = error as Error & {code?: string};
		const option = /'([^']+)'/.exec(message)?.[1];
		throw usage(code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? `unknown option ${option ?? ''}${didYouMean(option, Object.keys(OPTIONS))}` : message);
	}

	const {values, positionals} = parsed;
	if (values.version && !values.help) {
		return 'version';
	}

	if (values.help || positionals.length === 0) {
		return {help: Boolean(values.help)};
	}

	const [command, ...rest] = positionals as [string, ...string[]];
	const target = resolveTarget(values.target, env);
	const timeout = positiveNumber('timeout', values.timeout, 30) * 1000;
	const misplaced = Object.keys(values).find(option => !(OPTIONS_FOR[option]?.includes(command) ?? true));
	if (misplaced) {
		throw usage(`--${misplaced} is not an option of '${command}' (it is for: ${OPTIONS_FOR[misplaced]!.join(', ')})`);
	}

	for (const option of ['klive', 'allow-remote-v1'] as const) {
		if (values[option] && values[`no-${option}`]) {
			throw usage(`--${option} and --no-${option} exclude each other`);
		}
	}

	return {
		command,
		rest,
		values,
		target,
		timeout,
		envToken: env.LYIPC_TOKEN || undefined,
		port: option => (values[option] === undefined ? undefined : portNumber(option, values[option])),
		expectArgs(count, what) {
			if (rest.length !== count) {
				throw usage(`${command}: expected ${what}`);
			}
		},
	};
}

/** Prints an error the way every lyipc command does; returns the exit code for it. */
export function reportFailure(io: CliIo, error: unknown): number {
	return printFailure(io, 'lyipc', error);
}
