import {isLyipcError} from '../errors.js';

/**
 * `work(attempt)` (attempt 1, 2, ...), begun again up to `retries` times when its worker was lost
 * (WORKER_DIED: a Slurm node failed, a preemption) and the run was not stopped. Any other
 * failure, or the last one, is thrown.
 */
export async function retryLostWorker<T>(retries: number, signal: AbortSignal | undefined, work: (attempt: number) => Promise<T>): Promise<T> {
	for (let attempt = 1; ; attempt++) {
		try {
			return await work(attempt);
		} catch (error) {
			if (!(isLyipcError(error) && error.code === 'WORKER_DIED' && attempt <= retries && !signal?.aborted)) {
				throw error;
			}
		}
	}
}
