import {createReadStream} from 'node:fs';
import {stat} from 'node:fs/promises';
import net from 'node:net';
import {hostname} from 'node:os';
import path from 'node:path';
import {LyipcError} from '../errors.js';
import {readLines, RequestChannel, type WireError} from '../json-lines.js';
import {placeFile, reloadFile, showFile} from './deliver.js';
import {sessionToken} from './session-token.js';
import {describeTarget, isLoopbackHost, resolveTarget, type ViewerTarget} from './target.js';
import {unsupportedByV1, v1Line, v1Request} from './v1.js';
import {viewerCodeOf, ViewerError} from './viewer-error.js';

export {DEFAULT_VIEWER_PORT, resolveTarget, isLoopbackHost, type ViewerTarget} from './target.js';
export {viewerCodeOf, ViewerError} from './viewer-error.js';

export interface ViewerClientOptions {
	/** Milliseconds to wait for the connection (default 2000). */
	connectTimeout?: number | undefined;
	/** Milliseconds to wait for each reply (default 30000). */
	timeout?: number | undefined;
	/** The viewer's token, needed when it is on another machine (default: env LYIPC_TOKEN, else a local viewer's session token file). */
	token?: string | undefined;
}

/**
 * A connection to the lyipc server in a KLayout GUI (docs/protocol.md), speaking v2 JSON lines,
 * or v1 lines when the viewer runs the old Python lyipc server. Every request has a timeout,
 * and a viewer that dies or drops the connection fails the requests in flight at once: a
 * caller never hangs.
 */
export class ViewerClient {
	readonly target: ViewerTarget;
	readonly #socket: net.Socket | undefined; // undefined in v1: a connection per request
	readonly #channel: RequestChannel;
	readonly #timeout: number;
	#hello: {protocol: number; klayout: string; machine?: string} = {protocol: 1, klayout: ''};
	#writing: Promise<void> = Promise.resolve();

	private constructor(socket: net.Socket | undefined, target: ViewerTarget, timeout: number) {
		this.#socket = socket;
		this.target = target;
		this.#timeout = timeout;
		this.#channel = new RequestChannel({
			// Writes wait for an upload's bytes to be out, so a request never lands inside them.
			write: line => this.#write(line),
			fromWire: (error: WireError | undefined, request) => {
				const code = error?.code ?? 'INTERNAL';
				return new ViewerError(code, `viewer: ${String(request.method)} failed (${code}): ${error?.message ?? 'no message'}`, {hint: error?.hint, detail: error?.detail});
			},
		});
	}

	/** The server's protocol: 2 for this server, 1 for the old Python lyipc server. */
	get protocol(): number {
		return this.#hello.protocol;
	}

	/** The KLayout version the viewer runs ('' with an old lyipc server, which does not say). */
	get klayoutVersion(): string {
		return this.#hello.klayout;
	}

	/**
	 * Whether the viewer runs on this machine and so can open this machine's files by path:
	 * reached over loopback and naming the same machine. An SSH tunnel's loopback port leads
	 * to another machine, where the same path may hold another file.
	 */
	get sameMachine(): boolean {
		return isLoopbackHost(this.target.host) && (this.#hello.machine === undefined || this.#hello.machine.toLowerCase() === hostname().toLowerCase());
	}

	/**
	 * Connects and says hello (with the token for a viewer on another machine). Rejects with
	 * VIEWER_UNREACHABLE when nothing answers, VIEWER_UNAUTHORIZED when the token is missing
	 * or wrong. An old lyipc server answers hello the v1 way: the client then speaks v1.
	 */
	static async connect(target: ViewerTarget = resolveTarget(), options: ViewerClientOptions = {}): Promise<ViewerClient> {
		const connectTimeout = options.connectTimeout ?? 2000;
		const timeout = options.timeout ?? 30_000;
		// Else the session token of a viewer on this machine that asks for one (session-token.ts).
		const token = options.token ?? process.env.LYIPC_TOKEN ?? sessionToken(target);
		const socket = await openSocket(target, connectTimeout);
		const client = new ViewerClient(socket, target, timeout);
		client.#listen();
		try {
			client.#hello = await client.request<{protocol: number; klayout: string; machine?: string}>('hello', token ? {token} : {}, {timeout: connectTimeout + 3000});
			return client;
		} catch (error) {
			client.close();
			if (viewerCodeOf(error) === 'V1_ONLY') {
				return new ViewerClient(undefined, target, timeout);
			}

			if (viewerCodeOf(error) === 'UNAUTHORIZED') {
				throw new LyipcError('VIEWER_UNAUTHORIZED', `viewer at ${describeTarget(target)} refused the connection: ${token ? 'wrong token' : 'it needs a token'}`, {
					hint: "Set LYIPC_TOKEN to the token in lyipc.json of the viewer's KLAYOUT_HOME (or tunnel the port over SSH: no token needed on loopback).",
				});
			}

			throw error;
		}
	}

	/** One request; resolves with its result, rejects with a LyipcError. */
	async request<T = unknown>(method: string, params: Record<string, unknown> = {}, options: {timeout?: number} = {}): Promise<T> {
		const timeout = options.timeout ?? this.#timeout;
		if (!this.#socket) {
			if (this.#channel.closed) {
				throw this.#channel.closed;
			}

			const reply = await v1Request(this.target, v1Line(method, params, this.target), timeout);
			return (method === 'ping' ? 'pong' : reply === 'None' ? null : reply) as T;
		}

		return this.#send<T>(method, params, timeout);
	}

	/**
	 * Sends a layout's bytes over the connection (`upload`): for a viewer on another machine or
	 * in a container that cannot see the file. `params` as in docs/protocol.md: load's
	 * parameters, `store` (keep it, load nothing), `source` and `reload` (replace an earlier
	 * upload of the same source in place).
	 */
	async upload<T = unknown>(file: string, params: Record<string, unknown> = {}, options: {timeout?: number} = {}): Promise<T> {
		const {size} = await stat(file).catch((error: Error) => {
			throw new LyipcError('INPUT_NOT_FOUND', `${file}: ${error.message}`, {path: file, cause: error});
		});
		const socket = this.#socket;
		if (!socket) {
			throw unsupportedByV1(this.target, 'receive files');
		}

		return this.#send<T>(
			'upload',
			{...params, name: path.basename(file), size},
			options.timeout ?? this.#timeout,
			async () =>
				new Promise<void>(resolve => {
					// Raw bytes right after the request line; the socket stays open for more requests.
					const bytes = createReadStream(file);
					bytes.on('error', (error: Error) => {
						this.#channel.close(new LyipcError('INPUT_UNREADABLE', `${file}: ${error.message}`, {path: file, cause: error}));
						socket.destroy();
						resolve();
					});
					bytes.on('end', resolve);
					bytes.pipe(socket, {end: false});
				}),
		);
	}

	/** Shows a file from this machine (by path or uploaded: deliver.ts); `params` as for load (mode, keepView, cell, ...). */
	async show(file: string, params: Record<string, unknown> = {}): Promise<{uploaded: boolean}> {
		return showFile(this, file, params);
	}

	/** Reloads a file from this machine in place wherever the viewer shows it (deliver.ts); without a file, the current view. */
	async reload(file?: string): Promise<{uploaded: boolean}> {
		return reloadFile(this, file);
	}

	/** A path the viewer can open for a file from this machine (deliver.ts). */
	async place(file: string, upload = false): Promise<string> {
		return placeFile(this, file, upload);
	}

	async #send<T>(method: string, params: Record<string, unknown>, timeout: number, after?: () => Promise<void>): Promise<T> {
		return this.#channel.request<T>(
			{method, params},
			{
				timeout,
				onTimeout: () => new LyipcError('VIEWER_TIMEOUT', `viewer at ${describeTarget(this.target)}: no answer to ${method} within ${timeout / 1000} s`),
				write: line => this.#write(line, after),
			},
		);
	}

	#write(line: string, after?: () => Promise<void>): void {
		const socket = this.#socket!;
		this.#writing = this.#writing.then(async () => {
			socket.write(line);
			await after?.();
		});
	}

	close(): void {
		this.#channel.close(new LyipcError('VIEWER_CLOSED', `viewer at ${describeTarget(this.target)}: connection closed by the client`));
		this.#socket?.destroy();
	}

	#listen(): void {
		const socket = this.#socket!;
		const where = `viewer at ${describeTarget(this.target)}`;
		readLines(
			socket,
			line => {
				const {reply, settled} = this.#channel.receive(line);
				if (!reply) {
					this.#channel.close(new LyipcError('VIEWER_ERROR', `${where} sent something that is not JSON: ${line.slice(0, 80)}`));
				} else if (!settled && reply.ok === false && reply.id === null) {
					// The server refused the connection as a whole (a line too long, a bug): say why.
					this.#channel.close(new ViewerError(reply.error?.code ?? 'INTERNAL', `${where}: ${reply.error?.message ?? 'connection refused'}`));
				}
			},
			{
				onRest: rest => {
					if (/^(ACK|ERR) /.test(rest)) {
						// An old lyipc server took our JSON for a v1 command (and showed it in its status bar).
						this.#channel.close(new ViewerError('V1_ONLY', `${where} speaks only the old lyipc protocol (v1)`));
					}
				},
			},
		);
		const gone = (error?: Error) => {
			this.#channel.close(new LyipcError('VIEWER_CLOSED', `${where}: connection lost${error ? ` (${error.message})` : ''}`, {cause: error}));
		};

		socket.on('error', gone);
		socket.on('close', () => {
			gone();
		});
	}
}

async function openSocket(target: ViewerTarget, timeout: number): Promise<net.Socket> {
	return new Promise((resolve, reject) => {
		const socket = net.connect(target.port, target.host);
		const timer = setTimeout(() => {
			socket.destroy();
			reject(new LyipcError('VIEWER_UNREACHABLE', `no viewer answers at ${describeTarget(target)} (no connection within ${timeout / 1000} s)`, {hint: HINT}));
		}, timeout);
		socket.once('connect', () => {
			clearTimeout(timer);
			resolve(socket);
		});
		socket.once('error', (error: NodeJS.ErrnoException) => {
			clearTimeout(timer);
			reject(new LyipcError('VIEWER_UNREACHABLE', `no viewer answers at ${describeTarget(target)} (${error.code ?? error.message})`, {hint: HINT, cause: error}));
		});
	});
}

const HINT = 'Start KLayout with the lyipc server (npx lyipc viewer, or npx lyipc server install), or point to it with --target host:port or LYIPC_TARGET.';
