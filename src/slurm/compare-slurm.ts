import {WorkerPool} from '../engine/pool.js';
import {retryLostWorker} from '../engine/retry-lost-worker.js';
import {compareLayouts, type CompareOptions} from '../xor/compare.js';
import type {CompareResult} from '../xor/result.js';
import {SlurmWorkers, type SlurmOptions} from './slurm.js';

export interface SlurmCompareOptions extends Omit<CompareOptions, 'worker' | 'pool' | 'klayout'> {
	slurm?: Omit<SlurmOptions, 'signal'> | undefined;
}

/**
 * {@link compareLayouts} on a KLayout worker started on the Slurm cluster with srun (the paths as
 * given: the cluster shares the filesystem). A worker lost mid-job is replaced once.
 */
export async function compareOnSlurm(a: string, b: string, options: SlurmCompareOptions = {}): Promise<CompareResult> {
	const {slurm: settings, ...compare} = options;
	const slurm = new SlurmWorkers({...settings, signal: options.signal});
	await slurm.check();
	const pool = new WorkerPool({size: 1, start: async () => slurm.start()});
	try {
		return await retryLostWorker(1, options.signal, async () => compareLayouts(a, b, {...compare, pool}));
	} finally {
		await pool.close();
		await slurm.cancel();
	}
}
