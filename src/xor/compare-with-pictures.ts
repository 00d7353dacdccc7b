import type {WorkerRuns} from '../engine/pool.js';
import {compareThen, type CompareOptions, type WhileDifferent} from './compare.js';
import type {WorkerFiles} from './worker-files.js';
import {drawDifferences, type DrawOptions, type PictureSize, type Pictures} from './pictures.js';
import type {CompareResult} from './result.js';

/** One comparison, and pictures of the differences if any. Plain JSON, so it can cross a socket. */
export interface LayoutJob {
	a: string;
	b: string;
	options: Omit<CompareOptions, 'worker' | 'pool' | 'signal'>;
	/** Where pictures go ("<stem>.a.png", ...) and their size, or null for none. */
	pictures: {dir: string; stem: string; size?: PictureSize | undefined; closeups?: number | undefined; budget?: number | undefined; titles?: DrawOptions['titles']} | null;
}

export interface LayoutJobResult {
	result: CompareResult;
	pictures: Pictures | null;
}

/**
 * Runs a job on a pool: the comparison, then, when the layouts differ, the pictures on the same
 * worker, while it can read A, B and the XOR (with `files`, on a remote host, fetched here).
 */
export async function compareWithPictures(pool: WorkerRuns, job: LayoutJob, signal?: AbortSignal, files?: WorkerFiles): Promise<LayoutJobResult> {
	const wanted = job.pictures;
	let pictures: Pictures | null = null;
	const draw: WhileDifferent | undefined = wanted
		? async (worker, result, onWorker) => {
				pictures = await drawDifferences(result, worker, {...wanted, signal, files}, onWorker);
			}
		: undefined;
	const result = await compareThen(job.a, job.b, {...job.options, pool, signal, files}, draw);
	return {result, pictures};
}
