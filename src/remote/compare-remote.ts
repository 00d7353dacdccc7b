import {WorkerPool} from '../engine/pool.js';
import {compareLayouts, type CompareOptions} from '../xor/compare.js';
import type {CompareResult} from '../xor/result.js';
import {LazyHost} from './lazy-host.js';

export interface RemoteCompareOptions extends Omit<CompareOptions, 'worker' | 'pool' | 'files' | 'klayout'> {
	/** `[user@]host[:dir]`: where KLayout runs. */
	remote: string;
	/** A and B are paths on the host already: nothing is sent. */
	remotePaths?: boolean | undefined;
	env?: NodeJS.ProcessEnv | undefined;
}

/**
 * compareLayouts with KLayout on another host: A and B are sent to a private temp folder
 * there (rsync over ssh), compared by a worker running the same worker code with the host's
 * KLayout, and the XOR layout and marker database come back to where a local comparison
 * would put them. The temp folder on the host is removed afterwards, also after a failure.
 */
export async function compareRemote(a: string, b: string, options: RemoteCompareOptions): Promise<CompareResult> {
	const {remote, remotePaths, env, ...compare} = options;
	const host = new LazyHost(remote, {signal: options.signal, env});
	const pool = new WorkerPool({size: 1, start: async () => (await host.get()).startWorker()});
	try {
		return await compareLayouts(a, b, {...compare, pool, files: host.files(remotePaths ?? false)});
	} finally {
		await pool.close();
		await host.close();
	}
}
