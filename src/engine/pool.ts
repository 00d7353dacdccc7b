import {availableParallelism} from 'node:os';
import pLimit, {type LimitFunction} from 'p-limit';
import {LyipcError} from '../errors.js';
import {KLayoutWorker, type WorkerRequests, type WorkerStartOptions} from './worker.js';

export interface WorkerPoolOptions extends Omit<WorkerStartOptions, 'signal'> {
	/** How many KLayout workers at most, and so how many jobs at once (default: one per core). */
	size?: number | undefined;
	/** Starts a worker another way (e.g. on a remote host); by default KLayoutWorker.start with these options. */
	start?: ((signal: AbortSignal | undefined) => Promise<KLayoutWorker>) | undefined;
}

/**
 * Long-lived KLayout workers shared by many jobs: at most `size` run at once (p-limit), a
 * worker is started only when a job needs one and no idle one is left, and a worker that
 * died or was stopped (a timeout) is dropped, so the next job gets a fresh one.
 */
/** What a comparison needs of a pool: a worker for one job at a time. */
export interface WorkerRuns {
	run<T>(job: (worker: WorkerRequests) => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/** A pool a run owns: how many jobs at once, how many KLayouts it started, and closing it. */
export interface RunPool extends WorkerRuns {
	readonly size: number;
	readonly started: number;
	close(): Promise<void>;
}

export class WorkerPool implements RunPool {
	readonly size: number;
	readonly #startWorker: (signal: AbortSignal | undefined) => Promise<KLayoutWorker>;
	readonly #limit: LimitFunction;
	readonly #idle: KLayoutWorker[] = [];
	readonly #all = new Set<KLayoutWorker>();
	#started = 0;
	#closed = false;

	constructor(options: WorkerPoolOptions = {}) {
		const size = options.size ?? availableParallelism();
		if (!Number.isInteger(size) || size < 1) {
			throw new LyipcError('USAGE', `workers: expected a whole number >= 1, got ${size}`);
		}

		this.size = size;
		const {size: _size, start: custom, ...start} = options;
		this.#startWorker = custom ?? (async signal => KLayoutWorker.start({...start, signal}));
		this.#limit = pLimit(size);
	}

	/** How many workers the pool has started so far (replacements included). */
	get started(): number {
		return this.#started;
	}

	/** Runs `job` with a worker of the pool once one is free; the worker goes back afterwards. */
	async run<T>(job: (worker: KLayoutWorker) => Promise<T>, signal?: AbortSignal): Promise<T> {
		return this.#limit(async () => {
			if (this.#closed) {
				throw new LyipcError('ABORTED', 'the worker pool was closed');
			}

			if (signal?.aborted) {
				throw new LyipcError('ABORTED', 'aborted before a KLayout worker was free');
			}

			const worker = this.#idle.pop() ?? (await this.#start(signal));
			try {
				return await job(worker);
			} finally {
				if (worker.alive && !this.#closed) {
					this.#idle.push(worker);
				} else {
					this.#all.delete(worker);
					worker.kill();
				}
			}
		});
	}

	/** Stops every worker; jobs still waiting for one fail with ABORTED (none is left hanging). */
	async close(): Promise<void> {
		this.#closed = true;
		this.#idle.length = 0;
		await Promise.all([...this.#all].map(async worker => worker.close()));
		this.#all.clear();
	}

	async #start(signal: AbortSignal | undefined): Promise<KLayoutWorker> {
		const worker = await this.#startWorker(signal);
		this.#started++;
		if (this.#closed) {
			worker.kill();
			throw new LyipcError('ABORTED', 'the worker pool was closed');
		}

		this.#all.add(worker);
		return worker;
	}
}
