import {WorkerPool} from '../engine/pool.js';
import {compareLayouts, type CompareOptions, type WorkerFiles} from '../xor/compare.js';
import type {CompareResult} from '../xor/result.js';
import {RemoteHost} from './remote-host.js';

export interface RemoteCompareOptions extends Omit<CompareOptions, 'worker' | 'pool' | 'files' | 'klayout'> {
	/** `[user@]host[:dir]`: where KLayout runs. */
	remote: string;
	/** A and B are paths on the host already: nothing is sent. */
	remotePaths?: boolean | undefined;
	env?: NodeJS.ProcessEnv | undefined;
}

/**
 * Opens the host only when a comparison needs it: byte-identical local inputs are answered
 * here, and bad local inputs fail here, before anything is sent.
 */
class LazyHost {
	readonly #spec: string;
	readonly #options: {signal?: AbortSignal | undefined; env?: NodeJS.ProcessEnv | undefined};
	#opening: Promise<RemoteHost> | undefined;
	#host: RemoteHost | undefined;

	constructor(spec: string, options: {signal?: AbortSignal | undefined; env?: NodeJS.ProcessEnv | undefined}) {
		this.#spec = spec;
		this.#options = options;
	}

	async get(): Promise<RemoteHost> {
		this.#opening ??= RemoteHost.open(this.#spec, {signal: this.#options.signal, env: this.#options.env ?? process.env}).then(host => {
			this.#host = host;
			return host;
		});
		return this.#opening;
	}

	/** The bridge compareLayouts uses; the host is open by the time `output` is asked (a worker runs there). */
	files(remotePaths: boolean): WorkerFiles {
		let bridge: WorkerFiles | undefined;
		const open = async () => {
			bridge ??= remotePaths ? (await this.get()).hostFiles() : (await this.get()).files();
			return bridge;
		};

		return {
			...(remotePaths ? {check: async (file, side) => (await open()).check!(file, side)} : {}),
			input: async (file, side) => (await open()).input(file, side),
			output: local => this.#host!.files().output(local), // a worker runs there: the host is open
			fetch: async files => (await open()).fetch(files),
		};
	}

	async close(): Promise<void> {
		await this.#opening?.catch(() => undefined);
		await this.#host?.close();
	}
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
