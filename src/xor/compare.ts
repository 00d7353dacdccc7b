import {performance} from 'node:perf_hooks';
import {isLyipcError, LyipcError} from '../errors.js';
import type {WorkerRuns} from '../engine/pool.js';
import type {KLayoutWorker, WorkerRequests} from '../engine/worker.js';
import type {ArtifactOptions} from './artifacts.js';
import type {LayoutInput} from './input.js';
import {DEFAULT_TIMEOUT_MS, normalizeXorOptions, type NormalizedXorOptions, type XorOptions} from './options.js';
import {RESULT_FORMAT_VERSION, type CompareResult, type InputSummary, type LayerResult, type TopCellPair, type UsedMode} from './result.js';
import {localFiles, type WorkerFiles} from './worker-files.js';
import {guardOutputs, identify, type PlannedOutput} from '../output-guard.js';

export type {WorkerFiles} from './worker-files.js';

export interface CompareOptions extends XorOptions, ArtifactOptions {
	/** KLayout executable (else `$KLAYOUT`, `PATH`, usual locations). Ignored when `worker` is given. */
	klayout?: string | undefined;
	/** Milliseconds the XOR may take; 0 for no limit. Default 30 minutes. */
	timeout?: number | undefined;
	/** A running worker to use (and keep running); by default one is started and closed. */
	worker?: WorkerRequests | undefined;
	/** A pool to take a worker from, only once the cheap checks did not settle it (ignored with `worker`). */
	pool?: WorkerRuns | undefined;
	/** How files meet the worker (a remote host's: src/remote); by default the worker reads and writes here. */
	files?: WorkerFiles | undefined;
	signal?: AbortSignal | undefined;
}

/** What the worker says of one input (`readNote` is absent in the answer of a worker older than that field). */
interface WorkerInput {
	dbu: number;
	topCells: string[];
	readNote?: string | null;
}

/** The worker's answer to an `xor` job (docs/worker-protocol.md). */
interface WorkerXorResult {
	identical: boolean;
	a: WorkerInput;
	b: WorkerInput;
	dbu: number;
	topCells: TopCellPair[];
	layers: LayerResult[];
	wrote: {out: boolean; rdb: boolean};
	timings: {readMs: number; structureMs: number; xorMs: number; writeMs: number};
}

/**
 * Work for the same worker once the layouts are found to differ, while it can still read A, B
 * and the XOR by the names given (a remote host's copies go only afterwards): lyipc's pictures.
 */
export type WhileDifferent = (worker: WorkerRequests, result: CompareResult, onWorker: {a: string; b: string; xor: string | null}) => Promise<void>;

/**
 * Compares two layouts with KLayout's XOR. Resolves with the result whether or not they
 * differ; rejects with a {@link LyipcError} when they could not be compared.
 */
export async function compareLayouts(a: string, b: string, options: CompareOptions = {}): Promise<CompareResult> {
	return compareThen(a, b, options);
}

/** {@link compareLayouts}, with `whileDifferent` run on the worker when the layouts differ. */
export async function compareThen(a: string, b: string, options: CompareOptions, whileDifferent?: WhileDifferent): Promise<CompareResult> {
	const started = performance.now();
	const xor = normalizeXorOptions(options);
	const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
	if (!Number.isFinite(timeout) || timeout < 0) {
		throw new LyipcError('USAGE', `timeout must be a number of milliseconds >= 0, got ${timeout}`);
	}

	const files = options.files ?? localFiles();
	const [inputA, inputB] = await checkBoth(files, a, b);
	const outputs: PlannedOutput[] = [
		...(options.out === undefined ? [] : [{flag: '--out', path: options.out, kind: 'file' as const}]),
		...(options.rdb === undefined ? [] : [{flag: '--rdb', path: options.rdb, kind: 'file' as const}]),
		...(options.outDir === undefined ? [] : [{flag: '--out-dir', path: options.outDir, kind: 'folder' as const}]),
	];
	if (outputs.length > 0) {
		// Even when the answer needs no output: naming an input as output is a mistake to report.
		// Only a file output can be an input; a directory run passes --out-dir alone, checked once already.
		const candidates = options.out === undefined && options.rdb === undefined ? [] : [inputA, inputB];
		const inputs = await Promise.all(candidates.map(async input => identify(input.path).then(found => found && {...found, path: input.given})));
		await guardOutputs(
			outputs,
			[],
			inputs.filter(input => input !== undefined),
		);
	}

	if (await files.sameBytes(inputA, inputB)) {
		return {
			...baseResult(inputA, inputB, xor),
			timings: {totalMs: elapsed(started), startMs: 0, readMs: 0, structureMs: 0, xorMs: 0, writeMs: 0},
		};
	}

	// Loaded only past the fast path, like the worker: byte-identical answers must stay instant.
	const plan = await (await import('./artifacts.js')).planArtifacts(inputA, inputB, options);
	const withWorker = async (worker: WorkerRequests, startMs: number): Promise<CompareResult> => {
		const outputs = {xor: files.output(plan.xorTemp), rdb: files.output(plan.rdbTemp)};
		const sent: string[] = [];
		try {
			const workerA = await files.input(inputA.path, 'A');
			sent.push(workerA);
			const workerB = await files.input(inputB.path, 'B');
			sent.push(workerB);
			const reply = await worker.request<WorkerXorResult>(
				'xor',
				{
					a: workerA,
					b: workerB,
					topA: xor.topA,
					topB: xor.topB,
					layers: xor.layers?.map(spec => [spec.layer, spec.datatype ?? null]),
					ignoreLayers: xor.ignoreLayers.map(spec => [spec.layer, spec.datatype ?? null]),
					tolerance: xor.tolerance,
					mode: xor.mode,
					structure: xor.structure,
					threads: xor.threads,
					tileSize: xor.tileSize,
					maxMarkers: xor.maxMarkers,
					strictRead: xor.strictRead,
					out: outputs.xor,
					outFinal: plan.xor,
					rdb: outputs.rdb,
				},
				{timeout, signal: options.signal},
			);
			if (!files.shared && (reply.wrote.out || reply.wrote.rdb)) {
				await plan.makeFolders();
			}

			await files.fetch([...(reply.wrote.out ? [{worker: outputs.xor, local: plan.xorTemp}] : []), ...(reply.wrote.rdb ? [{worker: outputs.rdb, local: plan.rdbTemp}] : [])]);
			const artifacts = await plan.commit(reply.wrote);
			const base = baseResult(inputA, inputB, xor);
			const differentLayers = reply.layers.filter(layer => layer.xorCount > 0).length;
			const result: CompareResult = {
				...base,
				status: reply.identical ? 'identical' : 'different',
				identical: reply.identical,
				differentLayers,
				a: {...base.a, dbu: reply.a.dbu, topCells: reply.a.topCells, readNote: reply.a.readNote ?? null},
				b: {...base.b, dbu: reply.b.dbu, topCells: reply.b.topCells, readNote: reply.b.readNote ?? null},
				dbu: reply.dbu,
				fastPath: null,
				modesUsed: [...new Set(reply.layers.map(layer => layer.mode))].sort() as UsedMode[],
				topCells: reply.topCells,
				layers: reply.layers,
				artifacts,
				timings: {totalMs: elapsed(started), startMs, ...pick(reply.timings)},
				klayout: {path: worker.klayout.path, version: worker.klayoutVersion},
			};
			if (whileDifferent && !result.identical) {
				// Where the worker sees this machine's files the XOR has been moved into place; elsewhere it still has its own copy.
				const xorOnWorker = files.shared ? artifacts.xor : reply.wrote.out ? outputs.xor : null;
				await whileDifferent(worker, result, {a: workerA, b: workerB, xor: xorOnWorker});
			}

			return result;
		} catch (error) {
			throw plan.named(error, outputs);
		} finally {
			// A tree of pairs must not pile up on the worker's side.
			await files.release([...sent, outputs.xor, outputs.rdb]);
		}
	};

	let own: KLayoutWorker | undefined;
	try {
		if (options.worker) {
			return await withWorker(options.worker, 0);
		}

		if (options.pool) {
			return await options.pool.run(async worker => withWorker(worker, 0), options.signal);
		}

		const startBegan = performance.now();
		own = await (await import('../engine/worker.js')).KLayoutWorker.start({klayout: options.klayout, signal: options.signal});
		return await withWorker(own, elapsed(startBegan));
	} catch (error) {
		await plan.discard();
		throw inContext(error, inputA, inputB, timeout);
	} finally {
		await own?.close();
	}
}

/** Both inputs checked at once; A's problem is reported first. */
async function checkBoth(files: WorkerFiles, a: string, b: string): Promise<[LayoutInput, LayoutInput]> {
	const [resultA, resultB] = await Promise.allSettled([files.check(a, 'A'), files.check(b, 'B')]);
	if (resultA.status === 'rejected') {
		throw resultA.reason;
	}

	if (resultB.status === 'rejected') {
		throw resultB.reason;
	}

	return [resultA.value, resultB.value];
}

function summary(input: LayoutInput): InputSummary {
	return {path: input.path, size: input.size, format: input.format, gzip: input.gzip, dbu: null, topCells: null, readNote: null};
}

/** The result of byte-identical inputs; the KLayout path fills in the rest. */
function baseResult(a: LayoutInput, b: LayoutInput, xor: NormalizedXorOptions): Omit<CompareResult, 'timings'> {
	return {
		formatVersion: RESULT_FORMAT_VERSION,
		status: 'identical',
		identical: true,
		differentLayers: 0,
		a: summary(a),
		b: summary(b),
		dbu: null,
		fastPath: 'byte-identical',
		mode: xor.mode,
		modesUsed: [],
		tolerance: xor.tolerance,
		topCells: [],
		layers: [],
		artifacts: {xor: null, rdb: null},
		klayout: null,
	};
}

function pick(timings: WorkerXorResult['timings']): WorkerXorResult['timings'] {
	return {readMs: timings.readMs, structureMs: timings.structureMs, xorMs: timings.xorMs, writeMs: timings.writeMs};
}

function elapsed(since: number): number {
	return Math.round(performance.now() - since);
}

/** Worker errors know the job, not the files: say which comparison failed. */
function inContext(error: unknown, a: LayoutInput, b: LayoutInput, timeout: number): unknown {
	if (!isLyipcError(error)) {
		return error;
	}

	const pair = `${a.given} and ${b.given}`;
	switch (error.code) {
		case 'TIMEOUT': {
			return new LyipcError('TIMEOUT', `comparing ${pair} took longer than the timeout (${timeout / 1000} s); KLayout was stopped`, {
				hint: 'Raise it with --timeout SEC (0 = no limit), or try --mode tiled for large flat layouts.',
				cause: error,
			});
		}

		case 'WORKER_DIED':
		case 'ABORTED': {
			return new LyipcError(error.code, `comparing ${pair}: ${error.message}`, {cause: error});
		}

		default: {
			return error;
		}
	}
}
