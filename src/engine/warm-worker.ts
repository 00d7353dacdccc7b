import {spawn} from 'node:child_process';
import {KLAYOUT_DIR, PACKAGE_ROOT} from '../package-root.js';
import {createHash} from 'node:crypto';
import {lstat, mkdir, readdir, stat} from 'node:fs/promises';
import net from 'node:net';
import {availableParallelism, tmpdir, userInfo} from 'node:os';
import pLimit, {type LimitFunction} from 'p-limit';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {setTimeout as sleep} from 'node:timers/promises';
import {fileURLToPath} from 'node:url';
import {LyipcError} from '../errors.js';
import {findKLayout, type KLayoutLocation} from './find-klayout.js';
import {readLines, RequestChannel, toLine} from '../json-lines.js';
import type {WarmWorkerHello} from './warm-worker-server.js';
import {PIPELINE_DEPTH} from './pipeline-depth.js';
import type {RunPool} from './pool.js';
import type {KLayoutWorker, RequestOptions, WorkerRequests} from './worker.js';

/**
 * The version of what the server answers: `hello` says it, and a client that finds another one
 * (a server of an older build still idling at the same address) uses a fresh KLayout instead.
 * 2: jobs are answered as {@link WarmAnswer}. 3: `ping` is answered at once, also while KLayouts work.
 */
export const WARM_PROTOCOL = 3;

/** A job's answer: the worker's result, and how long the job waited here for a KLayout (callers may send more jobs than there are KLayouts). */
export interface WarmAnswer {
	result: unknown;
	waitedMs: number;
}

const SERVER_MAIN = fileURLToPath(new URL('warm-worker-main.js', import.meta.url));
/** Jobs a warm worker server runs at once: each KLayout holds ~375 MB before it reads a layout. */
export const WARM_WORKER_SIZE = Math.min(2, availableParallelism());
/** How long a new server may take to listen (a Node start-up), before the call goes on without it. */
const LISTEN_WAIT_MS = 5000;
/** How long one connection to the socket may take (a server's, answered by the system). */
const CONNECT_TIMEOUT_MS = 2000;
/**
 * What the server may take beyond a job's own timeout: starting a KLayout (~1.1 s, more on a
 * loaded machine) for it, or for `hello`. Past that the call runs on a fresh KLayout instead.
 */
const START_MARGIN_MS = 20_000;
/** While the call waits, the server is pinged this often; silent for SILENT_MS (stopped, hung), it is given up. */
const PING_EVERY_MS = 1000;
const SILENT_MS = 5000;

/**
 * Whether lyipc-diff keeps a warm KLayout worker between calls: `LYIPC_WARM_WORKER=1` or `0`
 * decides; otherwise on, except in CI (a CI job runs once, and must not leave processes behind).
 */
export function warmWorkerWanted(env: NodeJS.ProcessEnv): boolean {
	const setting = env.LYIPC_WARM_WORKER;
	if (setting === '1' || setting === '0') {
		return setting === '1';
	}

	return !env.CI || env.CI === 'false' || env.CI === '0';
}

/** When the worker's Python (or the values it shares) last changed: a running server keeps the code it started with. */
async function scriptsChanged(): Promise<number> {
	const names = (await readdir(KLAYOUT_DIR).catch(() => [])).filter(name => name.endsWith('.py') || name.endsWith('.json'));
	const times = await Promise.all(
		names.map(async name =>
			stat(path.join(KLAYOUT_DIR, name)).then(
				info => info.mtimeMs,
				() => 0,
			),
		),
	);
	return Math.max(0, ...times);
}

/**
 * The private socket of the warm worker for this user, this lyipc and this KLayout (a new
 * version of either, a new server protocol, or edited Python in a checkout, gets a server of its
 * own): in a folder only the user can enter.
 * Null when no such folder can be had (it exists but is not the user's own, or is open to others).
 */
export async function warmWorkerAddress(klayout: string, env: NodeJS.ProcessEnv): Promise<string | null> {
	const {LYIPC_VERSION} = await import('../version.js');
	const binary = await stat(klayout);
	const key = createHash('sha256')
		.update([LYIPC_VERSION, WARM_PROTOCOL, PACKAGE_ROOT, klayout, binary.size, binary.mtimeMs, await scriptsChanged()].join('\0'))
		.digest('hex')
		.slice(0, 12);
	const user = userInfo();
	if (process.platform === 'win32') {
		return `\\\\.\\pipe\\lyipc-warm-${user.username}-${key}`;
	}

	const folder = path.join(env.LYIPC_WARM_WORKER_DIR ?? env.XDG_RUNTIME_DIR ?? tmpdir(), `lyipc-${user.uid}`);
	await mkdir(folder, {mode: 0o700, recursive: true}).catch(() => undefined);
	const info = await lstat(folder).catch(() => undefined);
	// Another user's folder, a symlink, or one others may enter would let them answer in our place.
	if (!info?.isDirectory() || info.uid !== user.uid || (info.mode & 0o077) !== 0) {
		return null;
	}

	return path.join(folder, `warm-${key}.sock`);
}

/** One connection to the warm worker's server. */
class Connection {
	readonly #socket: net.Socket;
	readonly #channel: RequestChannel;
	/** When the server was last heard from (a reply, a ping's answer). */
	#heard = 0;
	#pinging: NodeJS.Timeout | undefined;

	constructor(socket: net.Socket) {
		this.#socket = socket;
		this.#channel = new RequestChannel({
			write: line => socket.write(line),
			onBusy: busy => {
				this.#watch(busy);
			},
		});
		readLines(socket, line => {
			this.#heard = performance.now();
			if (!this.#channel.receive(line).reply) {
				socket.destroy(); // not our server: the call goes on without it
			}
		});
		const lost = () => {
			this.#channel.close(new WarmWorkerLost('the warm KLayout worker went away'));
		};

		socket.on('error', lost);
		socket.on('close', lost);
	}

	/** `op` on the server; given up (WarmWorkerLost) when not answered within `deadline` ms (0 or undefined: no limit) or when the server falls silent. */
	async request(op: string, params: Record<string, unknown>, options: {timeout?: number | undefined; deadline?: number | undefined; signal?: AbortSignal | undefined}): Promise<unknown> {
		const {timeout, deadline, signal} = options;
		return this.#channel.request(
			{op, params, timeout},
			{
				timeout: deadline,
				onTimeout: () => this.#giveUp(`the warm KLayout worker did not answer ${op} within ${deadline! / 1000} s`),
				signal,
				onAbort: () => {
					// Closing the connection stops the job on the server's side.
					this.close();
					return new LyipcError('ABORTED', 'the comparison was cancelled; KLayout was stopped');
				},
			},
		);
	}

	close(): void {
		this.#socket.destroy();
	}

	/** While requests wait: a ping every PING_EVERY_MS, and the server given up once silent for SILENT_MS (the server answers pings at once, however busy its KLayouts). */
	#watch(busy: boolean): void {
		clearInterval(this.#pinging);
		if (!busy) {
			return;
		}

		this.#heard = performance.now();
		let ticked = this.#heard;
		this.#pinging = setInterval(() => {
			const now = performance.now();
			if (now - ticked > 2 * PING_EVERY_MS) {
				this.#heard = now; // this process was stopped (Ctrl+Z) or starved, not the server: a new window
			}

			ticked = now;
			if (now - this.#heard > SILENT_MS) {
				this.#giveUp(`the warm KLayout worker did not answer for ${SILENT_MS / 1000} s`);
			} else {
				// Its answer has no numeric id: the channel passes it by, only #heard counts it.
				this.#socket.write(toLine({id: 'ping', op: 'ping'}));
			}
		}, PING_EVERY_MS);
	}

	/** Ends the connection: every waiting request fails with WarmWorkerLost, and the server stops their jobs. */
	#giveUp(why: string): WarmWorkerLost {
		const error = new WarmWorkerLost(why);
		this.#channel.close(error);
		this.close();
		return error;
	}
}

/** The server went away or stopped answering mid-call: the call goes on with a fresh worker. */
class WarmWorkerLost extends LyipcError {
	constructor(message: string) {
		super('WORKER_DIED', message);
	}
}

/** A connection to the Unix socket or named pipe at `address`, or null when nothing listens there (or not within CONNECT_TIMEOUT_MS). */
export async function connectTo(address: string): Promise<net.Socket | null> {
	return new Promise(resolve => {
		const socket = net.connect(address);
		const timer = setTimeout(() => {
			socket.destroy();
			resolve(null);
		}, CONNECT_TIMEOUT_MS);
		socket.once('connect', () => {
			clearTimeout(timer);
			socket.removeAllListeners('error');
			resolve(socket);
		});
		socket.once('error', () => {
			clearTimeout(timer);
			resolve(null);
		});
	});
}

export interface WarmWorkerOptions {
	/** KLayout executable (else found as for a fresh worker). */
	klayout?: string | undefined;
	env?: NodeJS.ProcessEnv | undefined;
}

/**
 * A worker for one lyipc-diff call that lives on in the background: requests go to this
 * user's warm worker server, which is started on first use and stops after a few idle minutes
 * (`LYIPC_WARM_WORKER_IDLE` seconds, default 300). Whatever goes wrong with the server (cannot
 * start, killed mid-call, silent past a deadline) the request is answered by a fresh KLayout
 * worker instead, as without it. Connects only on the first request: byte-identical files
 * never need it.
 */
export class WarmWorkerClient implements WorkerRequests {
	readonly #options: WarmWorkerOptions;
	/** The connection once asked for (shared by requests made at once: a directory run's). */
	#connection: Promise<Connection | undefined> | undefined;
	#hello: WarmWorkerHello | undefined;
	#fresh: KLayoutWorker | undefined;
	#starting: Promise<KLayoutWorker> | undefined;

	constructor(options: WarmWorkerOptions = {}) {
		this.#options = options;
	}

	get klayout(): KLayoutLocation {
		return this.#fresh?.klayout ?? this.#hello?.klayout ?? {path: this.#options.klayout ?? 'klayout', source: 'option'};
	}

	get klayoutVersion(): string {
		return this.#fresh?.klayoutVersion ?? this.#hello?.klayoutVersion ?? '';
	}

	async request<T = unknown>(op: string, params: Record<string, unknown> = {}, options: RequestOptions = {}): Promise<T> {
		if (!this.#starting) {
			this.#connection ??= this.#connect(options.signal);
			const connection = await this.#connection;
			if (connection) {
				try {
					// The server stops the job at its timeout; it may need a KLayout started for it first.
					const deadline = options.timeout ? options.timeout + START_MARGIN_MS : undefined;
					const answer = (await connection.request(op, params, {timeout: options.timeout, deadline, signal: options.signal})) as WarmAnswer;
					options.onQueued?.(answer.waitedMs);
					return answer.result as T;
				} catch (error) {
					if (!(error instanceof WarmWorkerLost) || options.signal?.aborted) {
						throw error;
					}
				}
			}
		}

		// One fresh KLayout for every request that needs it, however many come at once.
		this.#starting ??= import('./worker.js').then(async ({KLayoutWorker}) => KLayoutWorker.start({klayout: this.#options.klayout, env: this.#options.env, signal: options.signal}));
		this.#fresh = await this.#starting;
		return this.#fresh.request<T>(op, params, options);
	}

	async close(): Promise<void> {
		(await this.#connection?.catch(() => undefined))?.close();
		await (await this.#starting?.catch(() => undefined))?.close();
	}

	/** A connection to a server that has said hello, starting the server when none answers; null when none can be had. */
	async #connect(signal: AbortSignal | undefined): Promise<Connection | undefined> {
		const env = this.#options.env ?? process.env;
		const klayout = await findKLayout({klayout: this.#options.klayout, env});
		const address = await warmWorkerAddress(klayout.path, env).catch(() => null);
		if (!address) {
			return undefined;
		}

		let socket = await connectTo(address);
		if (!socket) {
			startServer(address, klayout.path, env);
			const deadline = Date.now() + LISTEN_WAIT_MS;
			while (!socket && Date.now() < deadline && !signal?.aborted) {
				await sleep(25);
				socket = await connectTo(address);
			}
		}

		if (!socket) {
			return undefined;
		}

		const connection = new Connection(socket);
		try {
			// Answered once the server's first KLayout is up.
			const hello = (await connection.request('hello', {}, {deadline: START_MARGIN_MS, signal})) as WarmWorkerHello;
			if (hello.protocol !== WARM_PROTOCOL) {
				// The address differs per protocol; a server answering with another one is not trusted.
				throw new LyipcError('WORKER_DIED', `the warm worker speaks protocol ${String(hello.protocol)}, not ${WARM_PROTOCOL}`);
			}

			this.#hello = hello;
		} catch (error) {
			connection.close();
			if (signal?.aborted) {
				throw error;
			}

			// A KLayout that cannot start is reported by the fresh worker, with its usual message.
			return undefined;
		}

		return connection;
	}
}

/**
 * A directory run on the warm worker server: its KLayouts, already running, take the pairs.
 * {@link PIPELINE_DEPTH} jobs per KLayout are sent at once: a KLayout that finishes takes the
 * next job waiting at the server, without a round trip through this process (220 small pairs:
 * median 1.44 s instead of 1.53 s); the server reports each job's wait (`onQueued`). Started
 * KLayouts: none.
 */
export class WarmWorkerRuns implements RunPool {
	readonly size = WARM_WORKER_SIZE;
	readonly started = 0;
	readonly #client: WarmWorkerClient;
	readonly #limit: LimitFunction = pLimit(PIPELINE_DEPTH * WARM_WORKER_SIZE);

	constructor(options: WarmWorkerOptions = {}) {
		this.#client = new WarmWorkerClient(options);
	}

	async run<T>(job: (worker: WorkerRequests) => Promise<T>, signal?: AbortSignal): Promise<T> {
		return this.#limit(async () => {
			if (signal?.aborted) {
				throw new LyipcError('ABORTED', 'aborted before a KLayout worker was free');
			}

			return job(this.#client);
		});
	}

	async close(): Promise<void> {
		await this.#client.close();
	}
}

/** Starts the server in the background, on its own: it outlives this process, and stops when idle. */
function startServer(address: string, klayout: string, env: NodeJS.ProcessEnv): void {
	const child = spawn(process.execPath, [SERVER_MAIN, address], {
		// Not the caller's folder: deleted later (a temp folder), it would keep the server from starting KLayouts.
		cwd: path.parse(process.execPath).root,
		detached: true,
		stdio: 'ignore',
		windowsHide: true,
		env: {...env, LYIPC_WARM_KLAYOUT: klayout},
	});
	child.on('error', () => undefined);
	child.unref();
}
