import {availableParallelism} from 'node:os';
import {performance} from 'node:perf_hooks';
import pLimit, {type LimitFunction} from 'p-limit';
import {isLyipcError, LyipcError} from '../errors.js';
import {KLayoutWorker, WorkerKilledWhileStarting, WorkerLostBeforeStart, type WorkerRequests, type WorkerStartOptions} from './worker.js';

export interface WorkerPoolOptions extends Omit<WorkerStartOptions, 'signal'> {
	/** How many KLayout workers at most (default: one per core). */
	size?: number | undefined;
	/**
	 * Jobs a worker takes at once (default 1: a job has its worker to itself). With 2, a second
	 * job's requests wait in the worker's queue and KLayout starts them the moment the first
	 * one's answer is out, instead of idling while the first job's caller finishes its work and
	 * the next job is handed a worker (directory mode on many small pairs; a round trip over
	 * ssh). KLayout still runs one request at a time; each timeout starts when KLayout takes it.
	 */
	depth?: number | undefined;
	/** Starts a worker another way (e.g. on a remote host); by default KLayoutWorker.start with these options. */
	start?: ((signal: AbortSignal | undefined) => Promise<KLayoutWorker>) | undefined;
}

/** What a comparison needs of a pool: a worker for one job at a time. */
export interface WorkerRuns {
	run<T>(job: (worker: WorkerRequests) => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/** A pool a run owns: how many jobs at once, how many KLayouts it started, and closing it. */
export interface RunPool extends WorkerRuns {
	readonly size: number;
	readonly started: number;
	/** The longest a KLayout of the pool took to start, in ms (0 when none was started): reported apart from the jobs' times. */
	readonly startupMs?: number;
	close(): Promise<void>;
}

/** A worker of the pool, from the moment it is being started, and the jobs it holds. */
interface Slot {
	worker: Promise<KLayoutWorker>;
	/** The worker once started. */
	ready?: KLayoutWorker | undefined;
	jobs: number;
}

/**
 * Long-lived KLayout workers shared by many jobs: at most `size` workers, each taking up to
 * `depth` jobs at once (p-limit bounds the total); a worker is started only when a job needs
 * one and every running one has a job, and a worker that died or was stopped (a timeout) is
 * dropped, so the next job gets a fresh one. A job that waited on a worker another job ended
 * is given to another worker: it never ran. So is a job that waited on a worker another job
 * started, when that start was killed (a signal from outside) or cancelled by the other job.
 * A start that failed (not KLayout, too old, hung at start, not found) fails the job that
 * started it and every job waiting on it with its error, and is not tried again for them: it
 * would only fail again.
 */
export class WorkerPool implements RunPool {
	readonly size: number;
	readonly depth: number;
	readonly #startWorker: (signal: AbortSignal | undefined) => Promise<KLayoutWorker>;
	readonly #limit: LimitFunction;
	readonly #slots: Slot[] = [];
	readonly #all = new Set<KLayoutWorker>();
	#started = 0;
	#startupMs = 0;
	#closed = false;

	constructor(options: WorkerPoolOptions = {}) {
		const size = options.size ?? availableParallelism();
		if (!Number.isInteger(size) || size < 1) {
			throw new LyipcError('USAGE', `workers: expected a whole number >= 1, got ${size}`);
		}

		const depth = options.depth ?? 1;
		if (!Number.isInteger(depth) || depth < 1) {
			throw new LyipcError('USAGE', `depth: expected a whole number >= 1, got ${depth}`);
		}

		this.size = size;
		this.depth = depth;
		const {size: _size, depth: _depth, start: custom, ...start} = options;
		this.#startWorker = custom ?? (async signal => KLayoutWorker.start({...start, signal}));
		this.#limit = pLimit(size * depth);
	}

	/** How many workers are being started now. */
	get starting(): number {
		return this.#slots.filter(slot => !slot.ready).length;
	}

	/** The longest a worker took to start so far, in ms (they start side by side, each when a job needs it). */
	get startupMs(): number {
		return this.#startupMs;
	}

	/** How many workers the pool has started so far (replacements included). */
	get started(): number {
		return this.#started;
	}

	/** Runs `job` with a worker of the pool once one has room; the worker goes back afterwards. */
	async run<T>(job: (worker: KLayoutWorker) => Promise<T>, signal?: AbortSignal): Promise<T> {
		return this.#limit(async () => {
			for (;;) {
				if (this.#closed) {
					throw new LyipcError('ABORTED', 'the worker pool was closed');
				}

				if (signal?.aborted) {
					throw new LyipcError('ABORTED', 'aborted before a KLayout worker was free');
				}

				const {slot, starter} = this.#lease(signal);
				let worker: KLayoutWorker | undefined;
				try {
					worker = await slot.worker;
					return await job(worker);
				} catch (error) {
					// The loop's checks fail this job when it was cancelled itself or the pool closed.
					const anotherStartStopped = worker === undefined && !starter && (error instanceof WorkerKilledWhileStarting || (isLyipcError(error) && error.code === 'ABORTED'));
					if (!(error instanceof WorkerLostBeforeStart || anotherStartStopped)) {
						throw error;
					}
				} finally {
					this.#release(slot, worker);
				}
			}
		});
	}

	/**
	 * Stops the workers that have no job, all but `keep` of the running ones: a worker started
	 * for a burst of jobs gives its memory back when the burst is over. The next burst starts them again.
	 */
	retireIdle(keep: number): void {
		const ready = this.#slots.filter(slot => slot.ready);
		const idle = ready.filter(slot => slot.jobs === 0);
		for (const slot of idle.slice(0, Math.max(0, ready.length - keep))) {
			this.#retire(slot, slot.ready!);
		}
	}

	/** Stops every worker; jobs still waiting for one fail with ABORTED (none is left hanging). */
	async close(): Promise<void> {
		this.#closed = true;
		this.#slots.length = 0;
		await Promise.all([...this.#all].map(async worker => worker.close()));
		this.#all.clear();
	}

	/** The slot with the fewest jobs; a new worker when every slot has one and there is room for another (`starter`: this job asked for it). */
	#lease(signal: AbortSignal | undefined): {slot: Slot; starter: boolean} {
		// A worker that died while it had no job (its ssh link dropped, a node lost) takes no more.
		for (const idle of this.#slots.filter(candidate => candidate.jobs === 0 && candidate.ready && !candidate.ready.alive)) {
			this.#retire(idle, idle.ready!);
		}

		const slot = this.#slots.reduce<Slot | undefined>((best, candidate) => (best === undefined || candidate.jobs < best.jobs ? candidate : best), undefined);
		if (!slot || (slot.jobs > 0 && this.#slots.length < this.size)) {
			const started: Slot = {worker: this.#start(signal), jobs: 0};
			started.worker.then(
				worker => {
					started.ready = worker;
				},
				// A start that failed fails the jobs holding it (see run); a job that comes later starts another.
				() => this.#drop(started),
			);
			this.#slots.push(started);
			started.jobs++;
			return {slot: started, starter: true};
		}

		slot.jobs++;
		return {slot, starter: false};
	}

	#release(slot: Slot, worker: KLayoutWorker | undefined): void {
		slot.jobs--;
		if (worker && (!worker.alive || this.#closed)) {
			this.#retire(slot, worker);
		}
	}

	/** A worker the pool gives no more jobs: gone from its slots, killed if still running. */
	#retire(slot: Slot, worker: KLayoutWorker): void {
		this.#drop(slot);
		this.#all.delete(worker);
		worker.kill();
	}

	#drop(slot: Slot): void {
		const index = this.#slots.indexOf(slot);
		if (index !== -1) {
			this.#slots.splice(index, 1);
		}
	}

	async #start(signal: AbortSignal | undefined): Promise<KLayoutWorker> {
		const began = performance.now();
		const worker = await this.#startWorker(signal);
		this.#startupMs = Math.max(this.#startupMs, Math.round(performance.now() - began));
		this.#started++;
		if (this.#closed) {
			worker.kill();
			throw new LyipcError('ABORTED', 'the worker pool was closed');
		}

		this.#all.add(worker);
		return worker;
	}
}
