import {createReadStream} from 'node:fs';
import {stat} from 'node:fs/promises';
import net from 'node:net';
import {hostname} from 'node:os';
import path from 'node:path';
import {LyipcError} from '../errors.js';
import {describeTarget, isLoopbackHost, resolveTarget, type ViewerTarget} from './target.js';
import {unsupportedByV1, v1Line, v1Request} from './v1.js';

export {DEFAULT_VIEWER_PORT, resolveTarget, isLoopbackHost, type ViewerTarget} from './target.js';

export interface ViewerClientOptions {
	/** Milliseconds to wait for the connection (default 2000). */
	connectTimeout?: number;
	/** Milliseconds to wait for each reply (default 30000). */
	timeout?: number;
	/** The viewer's token, needed when it is on another machine (default: env LYIPC_TOKEN). */
	token?: string | undefined;
}

interface Pending {
	resolve(value: unknown): void;
	reject(error: Error): void;
	timer: NodeJS.Timeout;
	method: string;
}

/** The viewer's error code (FILE_NOT_FOUND, NOT_SHOWN, ...) carried by a VIEWER_ERROR. */
export function viewerCodeOf(error: unknown): string | undefined {
	return (error as {viewerCode?: string} | undefined)?.viewerCode;
}

/** How a file is known to the viewer across uploads: this machine and its absolute path. */
function sourceOf(file: string): string {
	return `${hostname()}:${path.resolve(file)}`;
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
	readonly #pending = new Map<number, Pending>();
	readonly #timeout: number;
	#buffer = '';
	#nextId = 1;
	#closed: Error | undefined;
	#hello: {protocol: number; klayout: string; machine?: string} = {protocol: 1, klayout: ''};
	#writing: Promise<void> = Promise.resolve();

	private constructor(socket: net.Socket | undefined, target: ViewerTarget, timeout: number) {
		this.#socket = socket;
		this.target = target;
		this.#timeout = timeout;
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
		const token = options.token ?? process.env.LYIPC_TOKEN;
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
					hint: 'Set LYIPC_TOKEN to the token in lyipc.json of the viewer\'s KLAYOUT_HOME (or tunnel the port over SSH: no token needed on loopback).',
				});
			}

			throw error;
		}
	}

	/** One request; resolves with its result, rejects with a LyipcError. */
	async request<T = unknown>(method: string, params: Record<string, unknown> = {}, options: {timeout?: number} = {}): Promise<T> {
		const timeout = options.timeout ?? this.#timeout;
		if (!this.#socket) {
			if (this.#closed) {
				throw this.#closed;
			}

			const reply = await v1Request(this.target, v1Line(method, params, this.target), timeout);
			return (method === 'ping' ? 'pong' : (reply === 'None' ? null : reply)) as T;
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

		return this.#send<T>('upload', {...params, name: path.basename(file), size}, options.timeout ?? this.#timeout, async () => new Promise<void>(resolve => {
			// Raw bytes right after the request line; the socket stays open for more requests.
			const bytes = createReadStream(file);
			bytes.on('error', (error: Error) => {
				this.#fail(new LyipcError('INPUT_UNREADABLE', `${file}: ${error.message}`, {path: file, cause: error}));
				socket.destroy();
				resolve();
			});
			bytes.on('end', resolve);
			bytes.pipe(socket, {end: false});
		}));
	}

	/**
	 * Shows a file from this machine: loaded by its path when the viewer is on this machine and
	 * can read it, else uploaded. `params` as for load (mode, keepView, cell, ...).
	 */
	async show(file: string, params: Record<string, unknown> = {}): Promise<{uploaded: boolean}> {
		return this.#deliver(file, params, false);
	}

	/**
	 * Reloads a file from this machine in place wherever the viewer shows it, keeping viewbox and
	 * layers; a viewer elsewhere gets the new bytes. A file not on show opens in a new view.
	 * Without a file: every cellview of the current view.
	 */
	async reload(file?: string): Promise<{uploaded: boolean}> {
		if (file === undefined || !this.#socket) {
			await this.request('reload', file === undefined ? {} : {path: file});
			return {uploaded: false};
		}

		if (this.sameMachine && await this.#reloadShown(file)) {
			return {uploaded: false};
		}

		return this.#deliver(file, {mode: 'new'}, true);
	}

	/** Reloads `path` wherever the viewer shows it; false when it shows it nowhere. */
	async #reloadShown(path: string): Promise<boolean> {
		try {
			await this.request('reload', {path});
			return true;
		} catch (error) {
			if (viewerCodeOf(error) !== 'NOT_SHOWN') {
				throw error;
			}

			return false;
		}
	}

	/**
	 * A path the viewer can open for a file from this machine: the file itself when the viewer is
	 * on this machine (unless `upload`), else a copy uploaded into the viewer's cache.
	 */
	async place(file: string, upload = false): Promise<string> {
		if (this.sameMachine && !upload) {
			return file;
		}

		if (this.#viaSsh) {
			return this.#sendOverSsh(file);
		}

		return (await this.upload<{path: string}>(file, {store: true, source: sourceOf(file)})).path;
	}

	/** The old lyipc's way to a viewer elsewhere (LYIPCTARGET=user@host): rsync the file there, then load that copy. */
	get #viaSsh(): boolean {
		return this.target.ssh !== undefined && !this.sameMachine;
	}

	async #sendOverSsh(file: string): Promise<string> {
		const {sendToViewerMachine} = await import('../remote/send-to-viewer.js');
		return sendToViewerMachine(file, this.target.ssh!);
	}

	async #deliver(file: string, params: Record<string, unknown>, inPlace: boolean): Promise<{uploaded: boolean}> {
		if (this.#viaSsh) {
			const copy = await this.#sendOverSsh(file);
			if (!(inPlace && this.#socket && await this.#reloadShown(copy))) {
				await this.request('load', {...params, path: copy});
			}

			return {uploaded: true};
		}

		if (this.sameMachine || !this.#socket) {
			try {
				await this.request('load', {...params, path: file});
				return {uploaded: false};
			} catch (error) {
				// Same machine, other filesystem (a container, a snap's private /tmp): send the bytes.
				if (viewerCodeOf(error) !== 'FILE_NOT_FOUND' || !this.#socket) {
					throw error;
				}
			}
		}

		await this.upload(file, {...params, source: sourceOf(file), ...(inPlace ? {reload: true} : {})});
		return {uploaded: true};
	}

	async #send<T>(method: string, params: Record<string, unknown>, timeout: number, after?: () => Promise<void>): Promise<T> {
		if (this.#closed) {
			throw this.#closed;
		}

		const socket = this.#socket!;
		const id = this.#nextId++;
		return new Promise<T>((resolve, reject) => {
			const timer = setTimeout(() => {
				this.#pending.delete(id);
				reject(new LyipcError('VIEWER_TIMEOUT', `viewer at ${describeTarget(this.target)}: no answer to ${method} within ${timeout / 1000} s`));
			}, timeout);
			this.#pending.set(id, {resolve: resolve as (value: unknown) => void, reject, timer, method});
			// Writes wait for an upload's bytes to be out, so a request never lands inside them.
			this.#writing = this.#writing.then(async () => {
				socket.write(JSON.stringify({id, method, params}) + '\n');
				await after?.();
			});
		});
	}

	close(): void {
		this.#fail(new LyipcError('VIEWER_CLOSED', `viewer at ${describeTarget(this.target)}: connection closed by the client`));
		this.#socket?.destroy();
	}

	#listen(): void {
		const socket = this.#socket!;
		socket.setEncoding('utf8');
		socket.on('data', (chunk: string) => {
			this.#buffer += chunk;
			let newline;
			while ((newline = this.#buffer.indexOf('\n')) >= 0) {
				const line = this.#buffer.slice(0, newline);
				this.#buffer = this.#buffer.slice(newline + 1);
				this.#settle(line);
			}

			if (/^(ACK|ERR) /.test(this.#buffer)) {
				// An old lyipc server took our JSON for a v1 command (and showed it in its status bar).
				this.#fail(Object.assign(new LyipcError('VIEWER_ERROR', `viewer at ${describeTarget(this.target)} speaks only the old lyipc protocol (v1)`), {viewerCode: 'V1_ONLY'}));
			}
		});
		const gone = (error?: Error) => {
			this.#fail(new LyipcError('VIEWER_CLOSED', `viewer at ${describeTarget(this.target)}: connection lost${error ? ` (${error.message})` : ''}`, {cause: error}));
		};

		socket.on('error', gone);
		socket.on('close', () => {
			gone();
		});
	}

	#settle(line: string): void {
		let reply: {id?: unknown; ok?: boolean; result?: unknown; error?: {code?: string; message?: string}};
		try {
			reply = JSON.parse(line) as typeof reply;
		} catch {
			this.#fail(new LyipcError('VIEWER_ERROR', `viewer at ${describeTarget(this.target)} sent something that is not JSON: ${line.slice(0, 80)}`));
			return;
		}

		const pending = typeof reply.id === 'number' ? this.#pending.get(reply.id) : undefined;
		if (!pending) {
			if (reply.ok === false && reply.id === null) {
				// The server refused the connection as a whole (a line too long, a bug): say why.
				this.#fail(Object.assign(new LyipcError('VIEWER_ERROR', `viewer at ${describeTarget(this.target)}: ${reply.error?.message ?? 'connection refused'}`), {viewerCode: reply.error?.code}));
			}

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
