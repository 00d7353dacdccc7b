import {parseArgs} from 'node:util';
import {LyipcError} from '../errors.js';
import {didYouMean} from './did-you-mean.js';
import type {CompareOptions} from '../xor/compare.js';
import {ENGINE_MODES, STRUCTURE_CHOICES, type EngineMode, type StructureChoice} from '../xor/options.js';
import {parseShard, type Shard} from '../suite/shard.js';

export type DiffCommand =
	| {kind: 'help'}
	| {kind: 'version'}
	| MergeCommand
	| {
			kind: 'compare';
			a: string;
			b: string;
			options: CompareOptions;
			json: boolean;
			quiet: boolean;
			verbose: boolean;
			view: ViewChoice;
			target: string | undefined;
			suite: SuiteArgs;
			config: ConfigChoice;
			remote: RemoteArgs | undefined;
			/** --slurm [--slurm-args "..."]: the workers are Slurm tasks. */
			slurm: {args: string | undefined} | undefined;
			warmWorker: boolean;
	  };

/** lyipc-diff merge-reports DIR... : the shards' blobs into one report. */
export interface MergeCommand {
	kind: 'merge';
	dirs: string[];
	reporters: string[] | undefined;
	outDir: string | undefined;
	/** --json: the result, or the error as JSON, alone on stdout. */
	json: boolean;
	quiet: boolean;
	verbose: boolean;
}

const MERGE_OPTIONS = {
	json: {type: 'boolean'},
	reporter: {type: 'string', multiple: true},
	'out-dir': {type: 'string'},
	quiet: {type: 'boolean', short: 'q'},
	verbose: {type: 'boolean', short: 'v'},
	help: {type: 'boolean', short: 'h'},
} as const;

/** --remote [user@]host[:dir] and --remote-paths. */
export interface RemoteArgs {
	host: string;
	remotePaths: boolean;
}

/** Where shared defaults come from: found from the working directory, a named file (--config), or nowhere (--no-config). */
export type ConfigChoice = {kind: 'find'} | {kind: 'file'; file: string} | {kind: 'none'};

/** Options of directory mode (two directories); their presence is checked against the mode in runDiff. */
export interface SuiteArgs {
	include: string[] | undefined;
	exclude: string[] | undefined;
	workers: number | undefined;
	reporters: string[] | undefined;
	/** --picture-size WxH: the size pictures are shown at (drawn at twice that). */
	pictureSize: {width: number; height: number} | undefined;
	/** --closeups N: XOR close-ups per failing pair beyond the first. */
	closeups: number | undefined;
	/** --picture-budget S: seconds one pair's pictures may take before they are skipped. */
	pictureBudget: number | undefined;
	/** --update: copy outputs over their references where they differ or the reference is missing. */
	update: boolean;
	/** --prune (with --update): delete references whose output is gone. */
	prune: boolean;
	/** --shard i/n: this machine's part of the pairs (a CI matrix). */
	shard: Shard | undefined;
}

/** Whether a difference opens in the viewer: try quietly (default), always (--view), never (--no-view). */
export type ViewChoice = 'try' | 'always' | 'never';

const OPTIONS = {
	json: {type: 'boolean'},
	quiet: {type: 'boolean', short: 'q'},
	help: {type: 'boolean', short: 'h'},
	version: {type: 'boolean', short: 'V'},
	tolerance: {type: 'string'},
	layers: {type: 'string'},
	'ignore-layers': {type: 'string'},
	'top-a': {type: 'string'},
	'top-b': {type: 'string'},
	mode: {type: 'string'},
	structure: {type: 'string'},
	threads: {type: 'string'},
	'tile-size': {type: 'string'},
	timeout: {type: 'string'},
	klayout: {type: 'string'},
	'out-dir': {type: 'string'},
	out: {type: 'string'},
	rdb: {type: 'string'},
	'max-markers': {type: 'string'},
	'strict-read': {type: 'boolean'},
	view: {type: 'boolean'},
	'no-view': {type: 'boolean'},
	'no-warm-worker': {type: 'boolean'},
	target: {type: 'string'},
	include: {type: 'string', multiple: true},
	exclude: {type: 'string', multiple: true},
	workers: {type: 'string'},
	reporter: {type: 'string', multiple: true},
	config: {type: 'string'},
	'no-config': {type: 'boolean'},
	remote: {type: 'string'},
	'remote-paths': {type: 'boolean'},
	'picture-size': {type: 'string'},
	closeups: {type: 'string'},
	'picture-budget': {type: 'string'},
	update: {type: 'boolean', short: 'u'},
	prune: {type: 'boolean'},
	shard: {type: 'string'},
	slurm: {type: 'boolean'},
	'slurm-args': {type: 'string'},
	verbose: {type: 'boolean', short: 'v'},
} as const;

/** Every long option, for "did you mean". */
export const DIFF_OPTION_NAMES = Object.keys(OPTIONS);

function usage(message: string): LyipcError {
	return new LyipcError('USAGE', message, {hint: "Run 'lyipc-diff --help' for the options."});
}

function number(option: string, text: string | undefined, what: string): number | undefined {
	if (text === undefined) {
		return undefined;
	}

	const value = Number(text);
	if (text.trim() === '' || !Number.isFinite(value)) {
		throw usage(`--${option}: expected ${what}, got '${text}'`);
	}

	return value;
}

/** `merge-reports DIR... [--reporter NAME[=PATH]]... [--out-dir DIR] [-q] [-v]`. */
function parseMergeArgs(argv: readonly string[]): DiffCommand {
	let parsed: ReturnType<typeof parseArgs<{args: string[]; options: typeof MERGE_OPTIONS; allowPositionals: true; strict: true}>>;
	try {
		parsed = parseArgs({args: [...argv], options: MERGE_OPTIONS, allowPositionals: true, strict: true});
	} catch (error) {
		throw usage(`merge-reports: ${describeParseError(error as Error & {code?: string}, Object.keys(MERGE_OPTIONS))}`);
	}

	const {values, positionals} = parsed;
	if (values.help) {
		return {kind: 'help'};
	}

	if (positionals.length === 0) {
		throw usage('merge-reports: expected the blob folders of the shards (written with --reporter blob=DIR)');
	}

	// As for a run: --json is --reporter json.
	const reporters = values.reporter ?? (values.json ? ['json'] : undefined);
	return {kind: 'merge', dirs: positionals, reporters, outDir: values['out-dir'], json: values.json ?? false, quiet: values.quiet ?? false, verbose: values.verbose ?? false};
}

/** Turns lyipc-diff's argv (without node and script) into a command; bad usage throws USAGE. */
export function parseDiffArgs(argv: readonly string[]): DiffCommand {
	if (argv[0] === 'merge-reports') {
		return parseMergeArgs(argv.slice(1));
	}

	let parsed: ReturnType<typeof parseArgs<{args: string[]; options: typeof OPTIONS; allowPositionals: true; strict: true}>>;
	try {
		parsed = parseArgs({args: [...argv], options: OPTIONS, allowPositionals: true, strict: true});
	} catch (error) {
		throw usage(describeParseError(error as Error & {code?: string}));
	}

	const {values, positionals} = parsed;
	if (values.help) {
		return {kind: 'help'};
	}

	if (values.version) {
		return {kind: 'version'};
	}

	if (positionals.length !== 2) {
		throw usage(
			positionals.length < 2
				? `expected two layout files A and B (or two directories), got ${positionals.length === 0 ? 'none' : 'one'}`
				: `expected two layout files A and B (or two directories), got ${positionals.length}: ${positionals.join(' ')}`,
		);
	}

	const mode = values.mode;
	if (mode !== undefined && !ENGINE_MODES.includes(mode as EngineMode)) {
		throw usage(`--mode: expected one of ${ENGINE_MODES.join(', ')}, got '${mode}'`);
	}

	const structure = values.structure;
	if (structure !== undefined && !STRUCTURE_CHOICES.includes(structure as StructureChoice)) {
		throw usage(`--structure: expected one of ${STRUCTURE_CHOICES.join(', ')}, got '${structure}'`);
	}

	const timeout = number('timeout', values.timeout, 'seconds (0 = no limit)');
	if (timeout !== undefined && timeout < 0) {
		throw usage(`--timeout: expected seconds >= 0, got '${values.timeout}'`);
	}

	const options: CompareOptions = {
		tolerance: number('tolerance', values.tolerance, 'a width in µm'),
		layers: values.layers === undefined ? undefined : [values.layers],
		ignoreLayers: values['ignore-layers'] === undefined ? undefined : [values['ignore-layers']],
		topA: values['top-a'],
		topB: values['top-b'],
		mode: mode as EngineMode | undefined,
		structure: structure as StructureChoice | undefined,
		threads: number('threads', values.threads, 'a whole number'),
		tileSize: number('tile-size', values['tile-size'], 'a tile edge in µm'),
		timeout: timeout === undefined ? undefined : timeout * 1000,
		klayout: values.klayout,
		outDir: values['out-dir'],
		out: values.out,
		rdb: values.rdb,
		maxMarkers: number('max-markers', values['max-markers'], 'a whole number'),
		strictRead: values['strict-read'],
	};
	// Leave unset options out, so library defaults apply.
	for (const key of Object.keys(options) as Array<keyof CompareOptions>) {
		if (options[key] === undefined) {
			delete options[key];
		}
	}

	if (values.view && values['no-view']) {
		throw usage('--view and --no-view exclude each other');
	}

	const view: ViewChoice = values.view ? 'always' : values['no-view'] ? 'never' : 'try';
	const workers = number('workers', values.workers, 'a whole number >= 1');
	if (workers !== undefined && (!Number.isInteger(workers) || workers < 1)) {
		throw usage(`--workers: expected a whole number >= 1, got '${values.workers}'`);
	}

	if (values.config !== undefined && values['no-config']) {
		throw usage('--config and --no-config exclude each other');
	}

	if (values['remote-paths'] && values.remote === undefined) {
		throw usage('--remote-paths needs --remote HOST: A and B are paths on that host');
	}

	if (values.remote !== undefined && values.klayout !== undefined) {
		throw usage("--klayout names a KLayout on this machine; with --remote the host's KLayout runs (LYIPC_REMOTE_KLAYOUT names another one there)");
	}

	if (values['slurm-args'] !== undefined && !values.slurm) {
		throw usage('--slurm-args goes with --slurm');
	}

	if (values.slurm && (values.remote !== undefined || values.klayout !== undefined)) {
		throw usage(
			`--slurm runs the workers on the cluster; ${values.remote === undefined ? "--klayout names a KLayout on this machine (LYIPC_SLURM_KLAYOUT names the nodes' one)" : '--remote is another way (ssh hosts)'}`,
		);
	}

	const slurm = values.slurm ? {args: values['slurm-args']} : undefined;
	const remote = values.remote === undefined ? undefined : {host: values.remote, remotePaths: values['remote-paths'] ?? false};
	const config: ConfigChoice = values['no-config'] ? {kind: 'none'} : values.config === undefined ? {kind: 'find'} : {kind: 'file', file: values.config};
	const pictureSize = values['picture-size'] === undefined ? undefined : parsePictureSize(values['picture-size']);
	const closeups = number('closeups', values.closeups, 'a whole number >= 0');
	if (closeups !== undefined && (!Number.isInteger(closeups) || closeups < 0 || closeups > 50)) {
		throw usage(`--closeups: expected a whole number from 0 to 50, got '${values.closeups}'`);
	}

	const pictureBudget = number('picture-budget', values['picture-budget'], 'seconds > 0');
	if (pictureBudget !== undefined && !(pictureBudget >= 0.1 && pictureBudget <= 3600)) {
		throw usage(`--picture-budget: expected seconds from 0.1 to 3600, got '${values['picture-budget']}'`);
	}

	if (values.prune && !values.update) {
		throw usage('--prune deletes references whose output is gone; it goes with --update');
	}

	const shard = values.shard === undefined ? undefined : parseShard(values.shard);
	if (shard && values.update) {
		throw usage('--update accepts the outputs of every pair; run it without --shard');
	}

	const suite: SuiteArgs = {
		include: values.include,
		exclude: values.exclude,
		workers,
		reporters: values.reporter,
		pictureSize,
		closeups,
		pictureBudget,
		update: values.update ?? false,
		prune: values.prune ?? false,
		shard,
	};
	return {
		kind: 'compare',
		a: positionals[0]!,
		b: positionals[1]!,
		options,
		json: values.json ?? false,
		quiet: values.quiet ?? false,
		verbose: values.verbose ?? false,
		view,
		target: values.target,
		suite,
		config,
		remote,
		slurm,
		warmWorker: !values['no-warm-worker'],
	};
}

/** Room for the frame (title, legend, scale bar) and at most 2000 each way: pictures are drawn at twice their size. */
function parsePictureSize(text: string): {width: number; height: number} {
	const match = /^(\d+)x(\d+)$/i.exec(text.trim());
	const [width, height] = match ? [Number(match[1]), Number(match[2])] : [Number.NaN, Number.NaN];
	if (!(width >= 320 && width <= 2000 && height >= 240 && height <= 2000)) {
		throw usage(`--picture-size: expected WIDTHxHEIGHT in pixels, from 320x240 to 2000x2000, got '${text}'`);
	}

	return {width, height};
}

function describeParseError(error: Error & {code?: string}, names: readonly string[] = DIFF_OPTION_NAMES): string {
	const option = /'([^']+)'/.exec(error.message)?.[1];
	switch (error.code) {
		case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
			return `unknown option ${option ?? ''}`.trim() + didYouMean(option, names);
		}

		case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
			const name = option?.split(' ')[0] ?? 'option';
			return error.message.includes('does not take') ? `option ${name} takes no value` : `option ${name} needs a value`;
		}

		default: {
			return error.message;
		}
	}
}
