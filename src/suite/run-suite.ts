import {mkdtemp, rmdir} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import pLimit from 'p-limit';
import {LyipcError, toLyipcError} from '../errors.js';
import {retryLostWorker} from '../engine/retry-lost-worker.js';
import type {RequestOptions, WorkerRequests} from '../engine/worker.js';
import {guardOutputs, identify, resolveTrees, type PlannedOutput} from '../output-guard.js';
import {removeLeftovers} from '../write-file-atomically.js';
import {prepareReportDir, recordWritten} from './report-dir.js';
import {refuseOutsideTree} from './update-references.js';
import {PIPELINE_DEPTH} from '../engine/pipeline-depth.js';
import {type RunPool, WorkerPool, type WorkerRuns} from '../engine/pool.js';
import {compareWithPictures} from '../xor/compare-with-pictures.js';
import {layoutStem} from '../xor/artifacts.js';
import type {XorOptions} from '../xor/options.js';
import {drawLayout, type PictureSize, type Pictures} from '../xor/pictures.js';
import type {CompareResult} from '../xor/result.js';
import {Placements, type Placement} from './placements.js';
import {MadeDirs} from './made-dirs.js';
import {findPairs, type LayoutPair, type PairFilter} from './pairs.js';
import {itemsOfShard, type Shard} from './shard.js';

/** Bumped when a field changes meaning or disappears; new fields do not bump it. */
export const SUITE_FORMAT_VERSION = 2; // 2: `ms` is the pair's own time (was counted with the wait for a worker)

/** What became of one relative path: compared (identical/different), on one side only, or not comparable. */
export type PairStatus = 'identical' | 'different' | 'missing-reference' | 'missing-output' | 'error';

export interface PairOutcome {
	/** Relative path, forward slashes. */
	path: string;
	status: PairStatus;
	reference: string | null;
	output: string | null;
	/** The comparison (reference = A, output = B) when both sides were there and it ran. */
	result: CompareResult | null;
	error: ReturnType<LyipcError['toJSON']> | null;
	/** Pictures of a failing pair when asked for (`pictures` option), else null. */
	pictures: Pictures | null;
	/** The pair's own time: checks, comparison and pictures, without waiting for a worker. */
	ms: number;
	/** Time spent waiting for a free worker. */
	queueMs: number;
	/** Comparisons begun: 2 when the first one's worker was lost (Slurm) and the pair was tried again. */
	attempts: number;
}

export interface SuiteCounts {
	total: number;
	identical: number;
	different: number;
	missingReference: number;
	missingOutput: number;
	error: number;
}

export interface SuiteResult {
	formatVersion: number;
	/** identical: every pair identical; error: some pair could not be compared; else different. */
	status: 'identical' | 'different' | 'error';
	referenceDir: string;
	outputDir: string;
	/** Where the XOR layouts and marker databases of the differing pairs were written. */
	outDir: string;
	counts: SuiteCounts;
	pairs: PairOutcome[];
	/** Why the run may not be what was meant (e.g. no relative path in both folders), else null. */
	hint: string | null;
	/** KLayout workers: at most `size` at once, `started` by this run; `warm`: the warm worker server's, already running. */
	workers: {size: number; started: number; warm: boolean};
	/**
	 * `startupMs`: how long the run waited for KLayout to start (the longest start of a worker, or
	 * of the warm worker server with its first KLayout); no pair's `ms` holds it.
	 */
	timings: {totalMs: number; startupMs: number};
	/** The shard this run compared (`--shard i/n`): its pairs only; null for all of them. */
	shard: Shard | null;
}

export type SuiteEvent = {type: 'start'; total: number} | {type: 'pair'; pair: PairOutcome; done: number; total: number; failures: number};

export interface SuiteOptions extends XorOptions, PairFilter {
	/** KLayout workers (default one per core); ignored when `pool` is given. */
	workers?: number | undefined;
	/** A pool to share (the caller closes it); by default one is made for the run. */
	pool?: WorkerPool | undefined;
	/**
	 * Run the pairs on this user's warm worker server (src/engine/warm-worker.ts: started when
	 * none runs, its KLayouts already up on a repeated run) instead of starting KLayouts for the
	 * run. Ignored with `pool`, `remote` or `slurm`.
	 */
	warmWorker?: boolean | undefined;
	/** Run on these hosts (`[user@]host[:dir]`) over ssh instead of here: one pool of `workers` each. */
	remote?: readonly string[] | undefined;
	/**
	 * Run the workers on a Slurm cluster with srun (src/slurm): inside the current allocation, or
	 * each in its own with `args` (srun's options: partition, account, time, cpus). A pair whose
	 * worker is lost (a node, a preemption) is tried once more on a new one.
	 */
	slurm?: {args?: string | undefined} | undefined;
	/** Environment for ssh/rsync with `remote` (LYIPC_SSH, LYIPC_RSYNC, LYIPC_REMOTE_KLAYOUT), srun with `slurm`. */
	env?: NodeJS.ProcessEnv | undefined;
	klayout?: string | undefined;
	/** Milliseconds one pair may take; 0 = no limit. */
	timeout?: number | undefined;
	/**
	 * Draw pictures of every failing pair with KLayout (an overview, A, B and the XOR zoomed to
	 * the differences, further close-ups; the one file of a pair with a side missing), beside its
	 * artifacts: `size` as shown (drawn at twice that), `closeups` beyond the first (default 3),
	 * `budget` the seconds one pair's pictures may take (default 30; over it they are skipped).
	 */
	pictures?: {size?: PictureSize | undefined; closeups?: number | undefined; budget?: number | undefined} | undefined;
	/** Folder for the artifacts, mirroring the relative paths (default: a new temp folder); never inside or around a tree. */
	outDir?: string | undefined;
	/**
	 * `outDir` is the default report folder (lyipc-report/), not one the caller named: refused when
	 * it holds files and no manifest of an earlier run. Either way the files an earlier run
	 * recorded in the folder's manifest are removed first, and this run's are recorded
	 * (src/suite/report-dir.ts).
	 */
	reportDir?: boolean | undefined;
	/**
	 * What the caller writes after the run (reports, blob folders): checked with `outDir` before
	 * anything is written, so that no output lands on an input or in a tree (USAGE).
	 */
	outputs?: readonly PlannedOutput[] | undefined;
	/**
	 * The caller writes the references after the run (`--update`, {@link acceptOutputs}): every
	 * reference's place must lie inside the reference tree, not through a symlinked folder out of
	 * it (USAGE before anything is compared).
	 */
	update?: boolean | undefined;
	/** Compare one shard of the pairs only ({@link itemsOfShard}: by path, balanced by the references' sizes). */
	shard?: Shard | undefined;
	signal?: AbortSignal | undefined;
	onEvent?: ((event: SuiteEvent) => void) | undefined;
}

/**
 * Compares a tree of reference layouts with a tree of fresh outputs, pair by relative path, on
 * a pool of long-lived KLayout workers. Small pairs go first; byte-identical pairs never reach
 * KLayout; a pair that cannot be compared (or whose worker crashed or timed out) is reported
 * as an error of its own while the others go on. Rejects only when the run cannot start
 * (a directory missing, a bad option, an output among the inputs: nothing is written then).
 */
export async function compareDirectories(referenceDir: string, outputDir: string, options: SuiteOptions = {}): Promise<SuiteResult> {
	const started = performance.now();
	const found = await findPairs(referenceDir, outputDir, options);
	const trees = await resolveTrees(referenceDir, outputDir);
	// Each input once: its size orders the pairs (small first) and weighs them for a shard; its
	// identity keeps every output off it.
	const files = found.flatMap(pair => [pair.reference, pair.output]).filter(file => file !== null);
	const inputs = new Map(await Promise.all(files.map(async file => [file, await identify(file)] as const)));
	await guardOutputs(
		[...(options.outDir === undefined ? [] : [{flag: options.reportDir ? 'the report folder' : '--out-dir', path: options.outDir, kind: 'folder' as const}]), ...(options.outputs ?? [])],
		[
			{real: trees.reference, name: 'the reference tree'},
			{real: trees.output, name: "the run's output tree"},
		],
		[...inputs.values()].filter(input => input !== undefined),
	);
	if (options.update) {
		await refuseOutsideTree(
			found.map(pair => ({reference: pair.reference ?? path.join(trees.reference, ...pair.path.split('/'))})),
			referenceDir,
		);
	}

	if (found.length === 0 && (options.include !== undefined || options.exclude !== undefined)) {
		await refuseNothingSelected(referenceDir, outputDir);
	}

	await removeLeftovers(trees.reference);
	// A folder given (or the default report folder) loses what the last run wrote there, and only that.
	const outDir = options.outDir === undefined ? await mkdtemp(path.join(tmpdir(), 'lyipc-diff-')) : await prepareReportDir(options.outDir, [], options.reportDir ? {} : {others: 'keep', make: false});
	const sizeOf = (file: string | null) => (file === null ? 0 : (inputs.get(file)?.size ?? 0));
	const sizes = new Map(found.map(pair => [pair, {reference: sizeOf(pair.reference), output: sizeOf(pair.output)}] as const));
	const pairs = options.shard ? shardOf(found, options.shard, sizes) : found;
	const total = (pair: LayoutPair) => sizes.get(pair)!.reference + sizes.get(pair)!.output;
	const order = [...pairs].sort((x, y) => total(x) - total(y));
	const stems = artifactStems(found);

	const {
		include: _include,
		exclude: _exclude,
		workers,
		pool: shared,
		onEvent: _onEvent,
		outDir: _outDir,
		reportDir: _reportDir,
		outputs: _outputs,
		remote,
		env: _env,
		shard: _shard,
		slurm,
		warmWorker,
		...compare
	} = options;
	const warm = Boolean(warmWorker && !shared && !remote?.length && !slurm);
	const places = remote?.length
		? Placements.remote(remote, {workers, signal: options.signal, env: options.env})
		: slurm
			? await Placements.slurm({...slurm, workers, signal: options.signal, env: options.env})
			: Placements.local(shared ?? (warm ? await warmRuns(options) : new WorkerPool({size: workers, depth: PIPELINE_DEPTH, klayout: options.klayout})), !shared);
	// Enough pairs in flight to keep every worker busy while cheap checks settle the others.
	const inFlight = pLimit(places.size + 16);
	const outcomes = new Map<LayoutPair, PairOutcome>();
	const dirs = new MadeDirs();
	/** The longest start-up a pair waited for inside its job (the warm worker server's). */
	const startup = {ms: 0};
	let failures = 0;
	options.onEvent?.({type: 'start', total: pairs.length});
	try {
		await Promise.all(
			order.map(async pair =>
				inFlight(async () => {
					const outcome = await places.run(async place => comparePair(pair, place, {dir: path.join(outDir, path.dirname(pair.path)), stem: stems.get(pair)!}, dirs, startup, compare));
					outcomes.set(pair, outcome);
					failures += outcome.status === 'identical' ? 0 : 1;
					options.onEvent?.({type: 'pair', pair: outcome, done: outcomes.size, total: pairs.length, failures});
				}),
			),
		);
	} finally {
		await places.close();

		await dirs.removeEmpty();
		if (options.outDir === undefined) {
			await rmdir(outDir).catch(() => undefined); // our temp folder, if nothing was written into it
		} else {
			// Also after Ctrl+C: what the finished pairs wrote is the next run's to remove.
			await recordWritten(outDir, [...outcomes.values()].flatMap(filesOf));
		}
	}

	const ordered = pairs.map(pair => outcomes.get(pair)!);
	const counts = countOutcomes(ordered);
	const hint = noMatchHint(ordered);
	return {
		formatVersion: SUITE_FORMAT_VERSION,
		status: statusOf(counts),
		referenceDir: path.resolve(referenceDir),
		outputDir: path.resolve(outputDir),
		outDir,
		counts,
		pairs: ordered,
		hint,
		workers: {size: places.size, started: places.started, warm},
		timings: {totalMs: Math.round(performance.now() - started), startupMs: Math.max(places.startupMs, startup.ms)},
		shard: options.shard ?? null,
	};
}

/** The files a pair's comparison wrote: its artifacts and pictures. */
export function filesOf(pair: PairOutcome): string[] {
	const pictures = pair.pictures;
	return [pair.result?.artifacts.xor, pair.result?.artifacts.rdb, ...(pictures ? [pictures.a, pictures.b, pictures.xor, pictures.overview, ...pictures.closeups] : [])].filter(
		(file): file is string => typeof file === 'string',
	);
}

/** The warm worker server's KLayouts for a run (loaded only when asked for). */
async function warmRuns(options: SuiteOptions): Promise<RunPool> {
	const {WarmWorkerRuns} = await import('../engine/warm-worker.js');
	return new WarmWorkerRuns({klayout: options.klayout, env: options.env});
}

/** A shard's pairs, weighed by the reference (committed, so alike on every machine), else the output. */
function shardOf(pairs: LayoutPair[], shard: Shard, sizes: ReadonlyMap<LayoutPair, {reference: number; output: number}>): LayoutPair[] {
	const weight = (pair: LayoutPair) => (pair.reference === null ? sizes.get(pair)!.output : sizes.get(pair)!.reference);
	const mine = new Set(itemsOfShard(pairs, shard, weight, pair => pair.path));
	return pairs.filter(pair => mine.has(pair));
}

/**
 * The name each pair's artifacts and pictures start with: its file name without the layout
 * extension ("ring" for ring.gds.gz), unless another pair in the same folder would get the same
 * name (x.gds beside x.oas): those keep their whole file name ("x.gds", "x.oas"). Found over every
 * pair, not a shard's, so each shard names a pair alike.
 */
export function artifactStems(pairs: readonly LayoutPair[]): Map<LayoutPair, string> {
	const stems = new Map(pairs.map(pair => [pair, layoutStem(pair.path)]));
	for (let clashing = true; clashing; ) {
		clashing = false;
		const taken = new Map<string, LayoutPair[]>();
		for (const pair of pairs) {
			// Folded: a case-insensitive disk (macOS, Windows) would make one file of x.* and X.*.
			const key = `${path.posix.dirname(pair.path)}/${stems.get(pair)!}`.toLowerCase();
			taken.set(key, [...(taken.get(key) ?? []), pair]);
		}

		for (const group of taken.values()) {
			for (const pair of group.length > 1 ? group : []) {
				const whole = path.posix.basename(pair.path);
				clashing ||= stems.get(pair) !== whole;
				stems.set(pair, whole);
			}
		}
	}

	return stems;
}

/** USAGE when the trees hold layouts but --include/--exclude selected none: a run of nothing is no pass. */
async function refuseNothingSelected(referenceDir: string, outputDir: string): Promise<void> {
	const everything = await findPairs(referenceDir, outputDir);
	if (everything.length > 0) {
		throw new LyipcError('USAGE', `no pair to compare: the trees hold layouts (${everything.length} by relative path, e.g. ${everything[0]!.path}), but --include/--exclude select none of them`, {
			hint: 'Patterns are relative to each tree, e.g. --include "cells/**/*.gds".',
		});
	}
}

type PairOptions = Omit<SuiteOptions, 'include' | 'exclude' | 'workers' | 'pool' | 'onEvent' | 'outDir' | 'reportDir' | 'outputs' | 'update' | 'remote' | 'env' | 'shard' | 'slurm' | 'warmWorker'>;

/**
 * A pool that counts the time its jobs wait for a worker, here and on the far side of a warm
 * worker server, KLayout's start-up included; the longest start-up goes to `startup` too.
 */
function timed(pool: WorkerRuns, startup: {ms: number}): {pool: WorkerRuns; waited: () => number} {
	let waited = 0;
	const counted = (worker: WorkerRequests): WorkerRequests => ({
		get klayout() {
			return worker.klayout;
		},
		get klayoutVersion() {
			return worker.klayoutVersion;
		},
		async request<T>(op: string, params?: Record<string, unknown>, options: RequestOptions = {}): Promise<T> {
			return worker.request<T>(op, params, {
				...options,
				onQueued(ms) {
					waited += ms;
					options.onQueued?.(ms);
				},
				onStartup(ms) {
					waited += ms;
					startup.ms = Math.max(startup.ms, ms);
					options.onStartup?.(ms);
				},
			});
		},
	});
	return {
		pool: {
			async run(job, signal) {
				const asked = performance.now();
				return pool.run(async worker => {
					waited += performance.now() - asked;
					return job(counted(worker));
				}, signal);
			},
		},
		waited: () => Math.round(waited),
	};
}

/** One pair; its artifacts and pictures go into `dir` (made through `dirs`), named after `stem`. */
async function comparePair(pair: LayoutPair, place: Placement, {dir, stem}: {dir: string; stem: string}, dirs: MadeDirs, startup: {ms: number}, options: PairOptions): Promise<PairOutcome> {
	const {files} = place;
	const {pool, waited} = timed(place.pool, startup);
	const began = performance.now();
	const {pictures: wanted, ...compare} = options;
	let attempts = 0;
	const outcome = (status: PairStatus, result: CompareResult | null = null, error: PairOutcome['error'] = null, pictures: Pictures | null = null): PairOutcome => ({
		path: pair.path,
		status,
		reference: pair.reference,
		output: pair.output,
		result,
		error,
		pictures,
		ms: Math.max(0, Math.round(performance.now() - began) - waited()),
		queueMs: waited(),
		attempts,
	});
	const picturePlace = wanted ? {dir, stem, size: wanted.size, closeups: wanted.closeups, budget: wanted.budget, titles: {pair: pair.path}} : null;
	const drawOne = async (file: string, side: 'a' | 'b') => {
		if (!picturePlace) {
			return null;
		}

		await dirs.make(dir);
		return pool.run(async worker => drawLayout(file, side, worker, {...picturePlace, timeout: options.timeout, signal: options.signal, files}), options.signal);
	};

	try {
		if (pair.reference === null) {
			return outcome('missing-reference', null, null, await drawOne(pair.output!, 'b'));
		}

		if (pair.output === null) {
			return outcome('missing-output', null, null, await drawOne(pair.reference, 'a'));
		}

		const {signal, ...rest} = compare;
		const job = {a: pair.reference, b: pair.output, options: {...rest, outDir: await dirs.make(dir), artifactStem: stem}, pictures: picturePlace};
		const {result, pictures} = await retryLostWorker(place.retries, signal, async attempt => {
			attempts = attempt;
			return compareWithPictures(pool, job, signal, files);
		});
		return outcome(result.identical ? 'identical' : 'different', result, null, pictures);
	} catch (error) {
		const failure = toLyipcError(error);
		return outcome('error', null, failure.toJSON());
	}
}

/**
 * When files exist on both sides but no relative path is in both, every pair is "missing":
 * most likely the folders are given at different levels. Says so, with an example of each side
 * and, when one side's paths are the other's under a common folder, which folder to give.
 */
export function noMatchHint(pairs: readonly PairOutcome[]): string | null {
	const references = pairs.filter(pair => pair.reference !== null).map(pair => pair.path);
	const outputs = pairs.filter(pair => pair.output !== null).map(pair => pair.path);
	if (references.length === 0 || outputs.length === 0 || pairs.some(pair => pair.reference !== null && pair.output !== null)) {
		return null;
	}

	const under = (longer: string[], shorter: string[]) => {
		const shortSet = new Set(shorter);
		for (const file of longer) {
			const slash = file.indexOf('/');
			if (slash > 0 && shortSet.has(file.slice(slash + 1))) {
				return file.slice(0, slash);
			}
		}

		return undefined;
	};

	const inReference = under(references, outputs);
	const inOutput = under(outputs, references);
	const advice = inReference
		? ` The reference paths are the output paths under ${inReference}/: give the reference folder's ${inReference}/ instead.`
		: inOutput
			? ` The output paths are the reference paths under ${inOutput}/: give the output folder's ${inOutput}/ instead.`
			: ' Check that both folders are given at the same level.';
	return `no relative path is in both folders (reference e.g. ${references[0]}, output e.g. ${outputs[0]}).${advice}`;
}

/** A run's status from its counts: an error outweighs a difference. */
export function statusOf(counts: SuiteCounts): SuiteResult['status'] {
	return counts.error > 0 ? 'error' : counts.identical === counts.total ? 'identical' : 'different';
}

export function countOutcomes(pairs: readonly PairOutcome[]): SuiteCounts {
	const counts: SuiteCounts = {total: pairs.length, identical: 0, different: 0, missingReference: 0, missingOutput: 0, error: 0};
	for (const {status} of pairs) {
		switch (status) {
			case 'missing-reference': {
				counts.missingReference++;
				break;
			}

			case 'missing-output': {
				counts.missingOutput++;
				break;
			}

			default: {
				counts[status]++;
			}
		}
	}

	return counts;
}
