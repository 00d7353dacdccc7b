import net from 'node:net';
import {LyipcError} from '../errors.js';
import {readLines, RequestChannel} from '../json-lines.js';
import type {LayoutJob, LayoutJobResult} from '../xor/compare-with-pictures.js';

/** A test worker's connection to the run's shared pool (pool-server.ts). */
export class PoolClient {
	readonly #channel: RequestChannel;

	private constructor(socket: net.Socket) {
		this.#channel = new RequestChannel({
			write: line => socket.write(line),
			// Waiting for an answer keeps the process alive; an idle connection must not keep a test worker alive.
			onBusy: busy => (busy ? socket.ref() : socket.unref()),
		});
		readLines(socket, line => this.#channel.receive(line));
		const lost = (error?: Error) => {
			this.#channel.close(new LyipcError('WORKER_DIED', `the shared KLayout pool of this Vitest run went away${error ? ` (${error.message})` : ''}`));
		};

		socket.on('error', lost);
		socket.on('close', () => lost());
		socket.unref();
	}

	static async connect(address: string): Promise<PoolClient> {
		return new Promise((resolve, reject) => {
			const socket = net.connect(address);
			socket.once('connect', () => {
				socket.removeAllListeners('error');
				resolve(new PoolClient(socket));
			});
			socket.once('error', error => {
				reject(new LyipcError('WORKER_START_FAILED', `cannot reach the shared KLayout pool at ${address}: ${error.message}`));
			});
		});
	}

	async run(job: LayoutJob): Promise<LayoutJobResult> {
		return this.#channel.request<LayoutJobResult>({job});
	}
}
