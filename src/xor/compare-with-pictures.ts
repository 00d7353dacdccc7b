import type {WorkerPool} from '../engine/pool.js';
import {compareLayouts, type CompareOptions, type WorkerFiles} from './compare.js';
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

/**
 * Runs a job on a pool: the comparison, then, when the layouts differ, the pictures on a
 * worker of the same pool. With `files` (a pool on a remote host) no pictures are drawn yet.
 */
export async function compareWithPictures(pool: WorkerPool, job: LayoutJob, signal?: AbortSignal, files?: WorkerFiles): Promise<LayoutJobResult> {
	const result = await compareLayouts(job.a, job.b, {...job.options, pool, signal, files});
	const wanted = job.pictures;
	if (result.identical || !wanted) {
		return {result, pictures: null};
	}

	if (files) {
		return {result, pictures: {a: null, b: null, xor: null, error: 'no pictures: the pair was compared on a remote host'}};
	}

	const pictures = await pool.run(async worker => drawDifferences(result, worker, {...wanted, timeout: job.options.timeout, signal}), signal);
	return {result, pictures};
}
