import type {WorkerPool} from '../engine/pool.js';
import {compareLayouts, type CompareOptions} from '../xor/compare.js';
import {drawDifferences, type Pictures} from '../xor/pictures.js';
import type {CompareResult} from '../xor/result.js';

/** What the matcher asks for: one comparison, and pictures of the differences if any. Plain JSON. */
export interface LayoutJob {
	a: string;
	b: string;
	options: Omit<CompareOptions, 'worker' | 'pool' | 'signal'>;
	/** Where pictures go ("<stem>.a.png", ...), or null for none. */
	pictures: {dir: string; stem: string} | null;
}

export interface LayoutJobResult {
	result: CompareResult;
	pictures: Pictures | null;
}

/** Runs a job on a pool: the comparison, then (when the layouts differ) the pictures, on the same kind of worker. */
export async function runLayoutJob(pool: WorkerPool, job: LayoutJob): Promise<LayoutJobResult> {
	const result = await compareLayouts(job.a, job.b, {...job.options, pool});
	const wanted = job.pictures;
	if (result.identical || !wanted) {
		return {result, pictures: null};
	}

	const pictures = await pool.run(async worker => drawDifferences(result, worker, {...wanted, timeout: job.options.timeout}));
	return {result, pictures};
}
