import {createReadStream} from 'node:fs';
import {stat} from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import {LyipcError} from '../errors.js';

export const DEFAULT_VIEWER_PORT = 11078;

export interface ViewerTarget {
	host: string;
	port: number;
}

/**
 * Where the viewer is: `target` (`host[:port]`, e.g. from `--target`), else `LYIPC_TARGET`,
 * else 127.0.0.1 with `LYIPC_PORT` or 11078.
 */
export function resolveTarget(target?: string, env: NodeJS.ProcessEnv = process.env): ViewerTarget {
	const given = target ?? env.LYIPC_TARGET;
	const defaultPort = env.LYIPC_PORT ? Number(env.LYIPC_PORT) : DEFAULT_VIEWER_PORT;
	if (!given) {
		return {host: '127.0.0.1', port: defaultPort};
	}

	const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(given);
	if (!match) {
		throw new LyipcError('USAGE', `viewer target ${given}: expected host[:port]`);
	}

	return {host: match[1]!.replace(/^\[|\]$/g, ''), port: match[2] ? Number(match[2]) : defaultPort};
}

export interface ViewerClientOptions {
	/** Milliseconds to wait for the connection (default 2000). */
	connectTimeout?: number;
	/** Milliseconds to wait for each reply (default 30000). */
	timeout?: number;
}

interface Pending {
	resolve(value: unknown): void;
	reject(error: Error): void;
	timer: NodeJS.Timeout;
	method: string;
}

/**
 * A connection to the lyipc server in a KLayout GUI (docs/protocol.md), speaking v2 JSON lines.
 * Every request has a timeout, and a viewer that dies or drops the connection fails the
 * requests in flight at once: a caller never hangs.
 */
export class ViewerClient {
	readonly target: ViewerTarget;
	readonly #socket: net.Socket;
	readonly #pending = new Map<number, Pending>();
	readonly #timeout: number;
	#buffer = '';
	#nextId = 1;
	#closed: Error | undefined;
	#hello = {protocol: 0, klayout: ''};
	#writing: Promise<void> = Promise.resolve();

	private constructor(socket: net.Socket, target: ViewerTarget, timeout: number) {
		this.#socket = socket;
		this.target = target;
		this.#timeout = timeout;
	}

	/** The server's protocol version (2 for this server). */
	get protocol(): number {
		return this.#hello.protocol;
	}

	/** The KLayout version the viewer runs. */
	get klayoutVersion(): string {
		return this.#hello.klayout;
	}

	/** Connects and says hello; rejects with VIEWER_UNREACHABLE when nothing answers. */
	static async connect(target: ViewerTarget = resolveTarget(), options: ViewerClientOptions = {}): Promise<ViewerClient> {
		const connectTimeout = options.connectTimeout ?? 2000;
		const timeout = options.timeout ?? 30_000;
		const socket = await openSocket(target, connectTimeout);
		const client = new ViewerClient(socket, target, timeout);
		client.#listen();
		try {
			client.#hello = await client.request<{protocol: number; klayout: string}>('hello', {}, {timeout: connectTimeout + 3000});
			return client;
		} catch (error) {
			client.close();
			throw error;
		}
	}

	/** One v2 request; resolves with its result, rejects with a LyipcError. */
	async request<T = unknown>(method: string, params: Record<string, unknown> = {}, options: {timeout?: number} = {}): Promise<T> {
		return this.#send<T>(method, params, options.timeout ?? this.#timeout);
	}

	/**
	 * Sends a layout's bytes over the connection and has the viewer load them (`upload`): for a
	 * viewer on another machine or in a container that cannot see the file. `params` as for load.
	 */
	async upload<T = unknown>(file: string, params: Record<string, unknown> = {}, options: {timeout?: number} = {}): Promise<T> {
		const {size} = await stat(file);
		return this.#send<T>('upload', {...params, name: path.basename(file), size}, options.timeout ?? this.#timeout, async () => new Promise<void>(resolve => {
			// Raw bytes right after the request line; the socket stays open for more requests.
			const bytes = createReadStream(file);
			bytes.on('error', (error: Error) => {
				this.#fail(new LyipcError('INPUT_UNREADABLE', `${file}: ${error.message}`, {path: file, cause: error}));
				this.#socket.destroy();
				resolve();
			});
			bytes.on('end', resolve);
			bytes.pipe(this.#socket, {end: false});
		}));
	}

	/**
	 * Shows a file from this machine: loaded by path when the viewer is on this machine and can
	 * read it, else uploaded. `params` as for load (mode, cell, ...).
	 */
	async show(file: string, params: Record<string, unknown> = {}): Promise<{uploaded: boolean}> {
		if (isLoopback(this.target.host)) {
			try {
				await this.request('load', {...params, path: file});
				return {uploaded: false};
			} catch (error) {
				// Same machine, other filesystem (a container, a snap's private /tmp): send the bytes.
				if ((error as {viewerCode?: string}).viewerCode !== 'FILE_NOT_FOUND') {
					throw error;
				}
			}
		}

		await this.upload(file, params);
		return {uploaded: true};
	}

	async #send<T>(method: string, params: Record<string, unknown>, timeout: number, after?: () => Promise<void>): Promise<T> {
		if (this.#closed) {
			throw this.#closed;
		}

		const id = this.#nextId++;
		return new Promise<T>((resolve, reject) => {
			const timer = setTimeout(() => {
				this.#pending.delete(id);
				reject(new LyipcError('VIEWER_TIMEOUT', `viewer at ${describe(this.target)}: no answer to ${method} within ${timeout / 1000} s`));
			}, timeout);
			this.#pending.set(id, {resolve: resolve as (value: unknown) => void, reject, timer, method});
			// Writes wait for an upload's bytes to be out, so a request never lands inside them.
			this.#writing = this.#writing.then(async () => {
				this.#socket.write(JSON.stringify({id, method, params}) + '\n');
				await after?.();
			});
		});
	}

	close(): void {
		this.#fail(new LyipcError('VIEWER_CLOSED', `viewer at ${describe(this.target)}: connection closed by the client`));
		this.#socket.destroy();
	}

	#listen(): void {
		this.#socket.setEncoding('utf8');
		this.#socket.on('data', (chunk: string) => {
			this.#buffer += chunk;
			let newline;
			while ((newline = this.#buffer.indexOf('\n')) >= 0) {
				const line = this.#buffer.slice(0, newline);
				this.#buffer = this.#buffer.slice(newline + 1);
				this.#settle(line);
			}

			if (/^(ACK|ERR) /.test(this.#buffer)) {
				// An old lyipc server took our JSON for a v1 command.
				this.#fail(new LyipcError('VIEWER_ERROR', `viewer at ${describe(this.target)} speaks only the old lyipc protocol (v1)`));
			}
		});
		const gone = (error?: Error) => {
			this.#fail(new LyipcError('VIEWER_CLOSED', `viewer at ${describe(this.target)}: connection lost${error ? ` (${error.message})` : ''}`, {cause: error}));
		};

		this.#socket.on('error', gone);
		this.#socket.on('close', () => {
			gone();
		});
	}

	#settle(line: string): void {
		let reply: {id?: unknown; ok?: boolean; result?: unknown; error?: {code?: string; message?: string}};
		try {
			reply = JSON.parse(line) as typeof reply;
		} catch {
			this.#fail(new LyipcError('VIEWER_ERROR', `viewer at ${describe(this.target)} sent something that is not JSON: ${line.slice(0, 80)}`));
			return;
		}

		const pending = typeof reply.id === 'number' ? this.#pending.get(reply.id) : undefined;
		if (!pending) {
			return;
		}

		this.#pending.delete(reply.id as number);
		clearTimeout(pending.timer);
		if (reply.ok) {
			pending.resolve(reply.result);
		} else {
			const code = reply.error?.code ?? 'INTERNAL';
			pending.reject(Object.assign(
				new LyipcError('VIEWER_ERROR', `viewer: ${pending.method} failed (${code}): ${reply.error?.message ?? 'no message'}`),
				{viewerCode: code},
			));
		}
	}

	#fail(error: Error): void {
		this.#closed ??= error;
		for (const pending of this.#pending.values()) {
			clearTimeout(pending.timer);
			pending.reject(error);
		}

		this.#pending.clear();
	}
}

function isLoopback(host: string): boolean {
	return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function describe(target: ViewerTarget): string {
	return `${target.host}:${target.port}`;
}

async function openSocket(target: ViewerTarget, timeout: number): Promise<net.Socket> {
	return new Promise((resolve, reject) => {
		const socket = net.connect(target.port, target.host);
		const timer = setTimeout(() => {
			socket.destroy();
			reject(new LyipcError('VIEWER_UNREACHABLE', `no viewer answers at ${describe(target)} (no connection within ${timeout / 1000} s)`, {hint: HINT}));
		}, timeout);
		socket.once('connect', () => {
			clearTimeout(timer);
			resolve(socket);
		});
		socket.once('error', (error: NodeJS.ErrnoException) => {
			clearTimeout(timer);
			reject(new LyipcError('VIEWER_UNREACHABLE', `no viewer answers at ${describe(target)} (${error.code ?? error.message})`, {hint: HINT, cause: error}));
		});
	});
}

const HINT = 'Start KLayout with the lyipc server (klayout -rm klayout/lyipc_boot.py), or point to it with --target host:port or LYIPC_TARGET.';
