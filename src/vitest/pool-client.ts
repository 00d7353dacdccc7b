import net from 'node:net';
import {LyipcError, type ErrorCode} from '../errors.js';
import type {LayoutJob, LayoutJobResult} from '../xor/compare-with-pictures.js';
import {readLines} from '../engine/read-lines.js';

interface Reply {
	id: number;
	ok: boolean;
	result?: LayoutJobResult;
	error?: {code: ErrorCode; message: string; path?: string; hint?: string};
}

interface Waiting {
	resolve(result: LayoutJobResult): void;
	reject(error: Error): void;
}

/** A test worker's connection to the run's shared pool (pool-server.ts). */
export class PoolClient {
	readonly #socket: net.Socket;
	readonly #waiting = new Map<number, Waiting>();
	#nextId = 1;
	#closedWith: Error | undefined;

	private constructor(socket: net.Socket) {
		this.#socket = socket;
		readLines(socket, line => {
			this.#settle(JSON.parse(line) as Reply);
		});
		const lost = (error?: Error) => {
			this.#closedWith = new LyipcError('WORKER_DIED', `the shared KLayout pool of this Vitest run went away${error ? ` (${error.message})` : ''}`);
			for (const waiting of this.#waiting.values()) {
				waiting.reject(this.#closedWith);
			}

			this.#waiting.clear();
		};

		socket.on('error', lost);
		socket.on('close', () => lost());
		socket.unref(); // an idle connection must not keep a test worker alive
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
		if (this.#closedWith) {
			throw this.#closedWith;
		}

		const id = this.#nextId++;
		return new Promise((resolve, reject) => {
			this.#waiting.set(id, {resolve, reject});
			this.#socket.ref(); // waiting for an answer keeps the process alive
			this.#socket.write(JSON.stringify({id, job}) + '\n');
		});
	}

	#settle(reply: Reply): void {
		const waiting = this.#waiting.get(reply.id);
		if (!waiting) {
			return;
		}

		this.#waiting.delete(reply.id);
		if (this.#waiting.size === 0) {
			this.#socket.unref();
		}

		if (reply.ok) {
			waiting.resolve(reply.result!);
		} else {
			const {code, message, ...rest} = reply.error!;
			waiting.reject(new LyipcError(code, message, rest));
		}
	}
}
