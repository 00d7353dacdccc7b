import {inject} from 'vitest';
import {WorkerPool} from '../engine/pool.js';
import {compareWithPictures, type LayoutJob, type LayoutJobResult} from '../xor/compare-with-pictures.js';
import {PoolClient} from './pool-client.js';

declare module 'vitest' {
	export interface ProvidedContext {
		/** Address of the run's shared KLayout pool (lyipc/vitest/global-setup). */
		'lyipc:pool': string;
	}
}

// Kept on globalThis: Vitest may evaluate this module again for each test file of a worker.
const KEY = Symbol.for('lyipc.vitest.pool');
type Holder = {client?: Promise<PoolClient>; local?: WorkerPool};
const globals = globalThis as Record<symbol, unknown>;
globals[KEY] ??= {};
const holder = globals[KEY] as Holder;

/**
 * Runs a job on the run's shared pool when the global setup serves one; otherwise on one
 * KLayout worker kept for this test worker's lifetime (still not one KLayout per assertion).
 */
export async function runJob(job: LayoutJob): Promise<LayoutJobResult> {
	let address: string | undefined;
	try {
		address = inject('lyipc:pool');
	} catch {
		address = undefined;
	}

	if (address) {
		holder.client ??= PoolClient.connect(address);
		return (await holder.client).run(job);
	}

	holder.local ??= new WorkerPool({size: 1, klayout: job.options.klayout});
	return compareWithPictures(holder.local, job);
}
