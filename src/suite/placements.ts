import {availableParallelism} from 'node:os';
import {PIPELINE_DEPTH} from '../engine/pipeline-depth.js';
import {type RunPool, WorkerPool} from '../engine/pool.js';
import {LazyHost} from '../remote/lazy-host.js';
import {SlurmWorkers, type SlurmOptions} from '../slurm/slurm.js';
import {localFiles, type WorkerFiles} from '../xor/worker-files.js';

/** Where a pair runs: a worker pool, and how its files meet the workers (a remote host's bridge). */
export interface Placement {
	/** The host spec, or null for this machine. */
	host: string | null;
	pool: RunPool;
	files: WorkerFiles;
	/** How often a pair whose worker died is tried again on a new one (a Slurm node lost, a preemption). */
	retries: number;
}

/**
 * The worker pools of a run: this machine's, or one per remote host (`--remote h1,h2`). Each
 * job goes to the least busy pool, so fast hosts take more pairs.
 */
export class Placements {
	readonly #places: Placement[];
	readonly #busy = new Map<Placement, number>();
	readonly #hosts: LazyHost[];
	readonly #owned: boolean;
	#slurm: SlurmWorkers | undefined;

	private constructor(places: Placement[], hosts: LazyHost[], owned: boolean) {
		this.#places = places;
		this.#hosts = hosts;
		this.#owned = owned;
	}

	/** This machine's pool (closed by close() only when `owned`). */
	static local(pool: RunPool, owned: boolean): Placements {
		return new Placements([{host: null, pool, files: localFiles(), retries: 0}], [], owned);
	}

	/** One pool of `workers` (default: this machine's core count) per host; hosts are contacted when a pair first needs them. */
	static remote(specs: readonly string[], options: {workers?: number | undefined; signal?: AbortSignal | undefined; env?: NodeJS.ProcessEnv | undefined}): Placements {
		const hosts = specs.map(spec => new LazyHost(spec, options));
		const places = hosts.map(host => ({
			host: host.spec,
			pool: new WorkerPool({size: options.workers ?? availableParallelism(), depth: PIPELINE_DEPTH, start: async () => (await host.get()).startWorker()}),
			files: host.files(false),
			retries: 0,
		}));
		return new Placements(places, hosts, true);
	}

	/** One pool of Slurm tasks (`workers`, default the allocation's tasks); the cluster shares the filesystem. */
	static async slurm(options: SlurmOptions & {workers?: number | undefined}): Promise<Placements> {
		const slurm = new SlurmWorkers(options);
		await slurm.check();
		const pool = new WorkerPool({size: options.workers ?? slurm.defaultSize, depth: PIPELINE_DEPTH, start: async () => slurm.start()});
		const places = new Placements([{host: 'slurm', pool, files: localFiles(), retries: 1}], [], true);
		places.#slurm = slurm;
		return places;
	}

	/** Workers at most, over every pool. */
	get size(): number {
		return this.#places.reduce((sum, place) => sum + place.pool.size, 0);
	}

	get started(): number {
		return this.#places.reduce((sum, place) => sum + place.pool.started, 0);
	}

	/** The longest KLayout start-up of any pool, in ms. */
	get startupMs(): number {
		return Math.max(0, ...this.#places.map(place => place.pool.startupMs ?? 0));
	}

	async run<T>(job: (place: Placement) => Promise<T>): Promise<T> {
		const load = (place: Placement) => (this.#busy.get(place) ?? 0) / place.pool.size;
		const place = this.#places.reduce((best, candidate) => (load(candidate) < load(best) ? candidate : best));
		this.#busy.set(place, (this.#busy.get(place) ?? 0) + 1);
		try {
			return await job(place);
		} finally {
			this.#busy.set(place, this.#busy.get(place)! - 1);
		}
	}

	async close(): Promise<void> {
		if (this.#owned) {
			await Promise.all(this.#places.map(async place => place.pool.close()));
		}

		await Promise.all(this.#hosts.map(async host => host.close()));
		// Nothing of the run may stay in the queue (Ctrl+C while workers waited there).
		await this.#slurm?.cancel();
	}
}
