import {checkLayoutFile} from '../xor/input.js';
import {sameBytes} from '../xor/same-bytes.js';
import type {WorkerFiles} from '../xor/worker-files.js';
import {RemoteHost} from './remote-host.js';

/**
 * Opens the host only when a comparison needs it: byte-identical local inputs are answered
 * here, and bad local inputs fail here, before anything is sent.
 */
export class LazyHost {
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
			shared: false,
			// Inputs here are checked here, without opening the host: a missing file needs no ssh.
			check: async (file, side) => (remotePaths ? (await open()).check(file, side) : checkLayoutFile(file, side)),
			sameBytes: async (a, b) => !remotePaths && sameBytes(a.path, b.path, a.size, b.size),
			input: async (file, side) => (await open()).input(file, side),
			output: local => this.#host!.outputPath(local), // a worker runs there: the host is open
			fetch: async files => (await open()).fetch(files),
			release: async files => (await open()).release(files),
		};
	}

	/** The host spec as given (`[user@]host[:dir]`). */
	get spec(): string {
		return this.#spec;
	}

	async close(): Promise<void> {
		await this.#opening?.catch(() => undefined);
		await this.#host?.close();
	}
}
