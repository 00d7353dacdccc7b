import type {WorkerPool} from '../engine/pool.js';
import {compareLayouts, type CompareOptions} from './compare.js';
import {drawDifferences, type PictureSize, type Pictures} from './pictures.js';
import type {CompareResult} from './result.js';

/** One comparison, and pictures of the differences if any. Plain JSON, so it can cross a socket. */
export interface LayoutJob {
	a: string;
	b: string;
	options: Omit<CompareOptions, 'worker' | 'pool' | 'signal'>;
	/** Where pictures go ("<stem>.a.png", ...) and their size, or null for none. */
	pictures: {dir: string; stem: string; size?: PictureSize | undefined} | null;
}

export interface LayoutJobResult {
	result: CompareResult;
	pictures: Pictures | null;
}

/** Runs a job on a pool: the comparison, then, when the layouts differ, the pictures on a worker of the same pool. */
export async function compareWithPictures(pool: WorkerPool, job: LayoutJob, signal?: AbortSignal): Promise<LayoutJobResult> {
	const result = await compareLayouts(job.a, job.b, {...job.options, pool, signal});
	const wanted = job.pictures;
	if (result.identical || !wanted) {
		return {result, pictures: null};
	}

	const pictures = await pool.run(async worker => drawDifferences(result, worker, {...wanted, timeout: job.options.timeout, signal}), signal);
	return {result, pictures};
}
