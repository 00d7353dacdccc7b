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
import {parseLine, readLines, RequestChannel, toLine} from '../json-lines.js';
import type {WarmJobEvent, WarmWorkerHello} from './warm-worker-server.js';
import {PIPELINE_DEPTH} from './pipeline-depth.js';
import type {RunPool} from './pool.js';
import type {KLayoutWorker, RequestOptions, WorkerRequests} from './worker.js';

/**
 * The version of what the server answers: `hello` says it, and a client that finds another one
 * (a server of an older build still idling at the same address) uses a fresh KLayout instead.
 * 2: jobs are answered as {@link WarmAnswer}. 3: `ping` is answered at once, also while KLayouts work.
 * 4: a job's `started` and `retrying` lines ({@link WarmJobEvent}); `ping` answers `busy`.
 */
export const WARM_PROTOCOL = 4;

/** A job's answer: the worker's result, and how long the job waited here for a KLayout (callers may send more jobs than there are KLayouts). */
export interface WarmAnswer {
	result: unknown;
	waitedMs: number;
}

const SERVER_MAIN = fileURLToPath(new URL('warm-worker-main.js', import.meta.url));
/** Jobs a warm worker server runs at once: each KLayout holds ~375 MB before it reads a layout. */
export const WARM_WORKER_SIZE = Math.min(2, availableParallelism());
/**
 * The longest reaching the server may take (connecting, a new server's Node start-up, its first
 * KLayout: ~1.3 s, more on a loaded machine) before the call goes on without it; a quarter of
 * the caller's timeout when that is less, so that a fresh KLayout still has the time.
 */
const REACH_MS = 20_000;
/** How long one connection to the socket may take (a server's, answered by the system). */
const CONNECT_TIMEOUT_MS = 2000;
/** What the server may take past a job's timeout: it stops the job's KLayout then, and answers TIMEOUT. */
const ANSWER_MARGIN_MS = 2000;
/**
 * A job waiting at the server for a KLayout is given up when the server says for this long
 * that none of its KLayouts works or starts: it lost the job. While they work, the job waits
 * (their jobs end by their timeouts, starts by the server's start timeout).
 */
const IDLE_MS = 2000;
/** While the call waits, the server is pinged this often; silent for SILENT_MS (stopped, hung), it is given up. */
const PING_EVERY_MS = 1000;
const SILENT_MS = 5000;

/** How long reaching the server may take for a call whose jobs have `timeout` ms (0 or undefined: no limit). */
function reachWithin(timeout: number | undefined): number {
	return timeout ? Math.min(REACH_MS, timeout / 4) : REACH_MS;
}

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

/** A job sent to the server, as this side sees it. */
interface SentJob {
	op: string;
	/** Milliseconds from a start to the answer: the job's timeout and ANSWER_MARGIN_MS; 0: no limit. */
	limit: number;
	/** How many times a KLayout of the server took it (a second time when the first one died). */
	attempt: number;
	/** Whether a KLayout works on it now; else it waits at the server for one. */
	running: boolean;
	/** When it started (running), or began to wait. */
	since: number;
}

/** One connection to the warm worker's server. */
class Connection {
	readonly #socket: net.Socket;
	readonly #channel: RequestChannel;
	readonly #jobs = new Map<number, SentJob>();
	/** When the server was last heard from (a reply, a ping's answer). */
	#heard = 0;
	/** When the server last showed work: a KLayout working or starting, a job started or answered. */
	#worked = 0;
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
			const now = performance.now();
			this.#heard = now;
			const message = parseLine(line);
			if (message?.id === 'ping') {
				const busy = (message.result as {busy?: unknown} | undefined)?.busy;
				if (typeof busy === 'number' && busy > 0) {
					this.#worked = now;
				}
			} else if (typeof message?.event === 'string') {
				this.#onEvent(message, now);
			} else {
				this.#worked = now;
				if (!this.#channel.receive(line).reply) {
					socket.destroy(); // not our server: the call goes on without it
				}
			}
		});
		const lost = () => {
			this.#channel.close(new WarmWorkerLost('the warm KLayout worker went away'));
		};

		socket.on('error', lost);
		socket.on('close', lost);
	}

	/** `op` on the server (not a job: `hello`); given up (WarmWorkerLost) when not answered within `deadline` ms or when the server falls silent. */
	async ask(op: string, deadline: number, signal: AbortSignal | undefined): Promise<unknown> {
		return this.#channel.request(
			{op, params: {}},
			{
				timeout: deadline,
				onTimeout: () => this.#giveUp(`the warm KLayout worker did not answer ${op} within ${seconds(deadline)}`),
				signal,
				onAbort: () => this.#abort(),
			},
		);
	}

	/**
	 * A job on the server, which runs it within `timeout` ms (0 or undefined: no limit) of giving
	 * it a KLayout. Given up (WarmWorkerLost) when the server falls silent, holds the job while
	 * no KLayout of it works or starts, or does not answer within the timeout and
	 * ANSWER_MARGIN_MS of a start. A job the server ran twice (its first KLayout died) is not
	 * run a third time elsewhere: losing the server then is WORKER_DIED.
	 */
	async job(op: string, params: Record<string, unknown>, timeout: number | undefined, signal: AbortSignal | undefined): Promise<unknown> {
		const job: SentJob = {op, limit: timeout ? timeout + ANSWER_MARGIN_MS : 0, attempt: 0, running: false, since: performance.now()};
		let id: number | undefined;
		try {
			return await this.#channel.request(
				{op, params, timeout},
				{
					signal,
					onAbort: () => this.#abort(),
					onSent: sent => {
						id = sent;
						this.#jobs.set(sent, job);
					},
				},
			);
		} catch (error) {
			if (error instanceof WarmWorkerLost && job.attempt > 1) {
				throw new LyipcError('WORKER_DIED', `KLayout died during ${op} on the warm worker, which ran it again; then ${error.message}`);
			}

			throw error;
		} finally {
			if (id !== undefined) {
				this.#jobs.delete(id);
			}
		}
	}

	close(): void {
		this.#socket.destroy();
	}

	/** Closing the connection stops the jobs on the server's side. */
	#abort(): LyipcError {
		this.close();
		return new LyipcError('ABORTED', 'the comparison was cancelled; KLayout was stopped');
	}

	#onEvent(message: Record<string, unknown>, now: number): void {
		this.#worked = now;
		const job = typeof message.id === 'number' ? this.#jobs.get(message.id) : undefined;
		if (!job) {
			return;
		}

		// Each start of the job gets its whole time; a wait for another KLayout is a wait again.
		if (message.event === 'started') {
			job.attempt = typeof message.attempt === 'number' ? message.attempt : job.attempt + 1;
			job.running = true;
			job.since = now;
		} else if (message.event === 'retrying') {
			job.running = false;
			job.since = now;
		}
	}

	/** While requests wait: a ping every PING_EVERY_MS, and the server given up once silent for SILENT_MS (the server answers pings at once, however busy its KLayouts) or a job is overdue. */
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
				// This process was stopped (Ctrl+Z) or starved, not the server: its waits go on from here.
				const lost = now - ticked - PING_EVERY_MS;
				this.#heard = now;
				this.#worked = now;
				for (const job of this.#jobs.values()) {
					job.since += lost;
				}
			}

			ticked = now;
			const overdue = this.#overdue(now);
			if (overdue) {
				this.#giveUp(overdue);
			} else {
				// Its answer has an id of its own, not one of the channel's: only this class reads it.
				this.#socket.write(toLine({id: 'ping', op: 'ping'}));
			}
		}, PING_EVERY_MS);
	}

	/** Why the server is to be given up now, if it is. */
	#overdue(now: number): string | undefined {
		if (now - this.#heard > SILENT_MS) {
			return `the warm KLayout worker did not answer for ${seconds(SILENT_MS)}`;
		}

		for (const job of this.#jobs.values()) {
			if (job.running && job.limit > 0 && now - job.since > job.limit) {
				return `the warm KLayout worker did not answer ${job.op} within ${seconds(job.limit)} of starting it`;
			}

			if (!job.running && now - Math.max(job.since, this.#worked) > IDLE_MS) {
				return `the warm KLayout worker holds ${job.op} without a KLayout working or starting`;
			}
		}

		return undefined;
	}

	/** Ends the connection: every waiting request fails with WarmWorkerLost, and the server stops their jobs. */
	#giveUp(why: string): WarmWorkerLost {
		const error = new WarmWorkerLost(why);
		this.#channel.close(error);
		this.close();
		return error;
	}
}

function seconds(ms: number): string {
	return `${Number((ms / 1000).toFixed(3))} s`;
}

/** The server went away or stopped answering mid-call: the call goes on with a fresh worker. */
class WarmWorkerLost extends LyipcError {
	constructor(message: string) {
		super('WORKER_DIED', message);
	}
}

/** A connection to the Unix socket or named pipe at `address`, or null when nothing listens there (or not within `within` ms). */
export async function connectTo(address: string, within = CONNECT_TIMEOUT_MS): Promise<net.Socket | null> {
	return new Promise(resolve => {
		const socket = net.connect(address);
		const timer = setTimeout(() => {
			socket.destroy();
			resolve(null);
		}, within);
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
 * (`LYIPC_WARM_WORKER_IDLE` seconds, default 120; KLayouts beyond the first after 30 s). Whatever goes wrong with the server (cannot
 * start, killed mid-call, silent or stuck past a deadline that leaves room within the request's
 * timeout) the request is answered by a fresh KLayout worker instead, as without it. Connects only on the first request: byte-identical files
 * never need it.
 */
export class WarmWorkerClient implements WorkerRequests {
	readonly #options: WarmWorkerOptions;
	/** The connection once asked for (shared by requests made at once: a directory run's). */
	#connection: Promise<Connection | undefined> | undefined;
	#hello: WarmWorkerHello | undefined;
	#fresh: KLayoutWorker | undefined;
	#starting: Promise<KLayoutWorker> | undefined;
	/** The connection was settled before this request asked for it: no start-up to wait for. */
	#reached = false;

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
			this.#connection ??= this.#connect(options.timeout, options.signal).finally(() => {
				this.#reached = true;
			});
			const asked = performance.now();
			const waiting = !this.#reached;
			const connection = await this.#connection;
			if (waiting) {
				// Waiting for the server (started now, its first KLayout with it) is KLayout's start-up, not this job's work.
				options.onStartup?.(Math.round(performance.now() - asked));
			}
			if (connection) {
				try {
					const answer = (await connection.job(op, params, options.timeout, options.signal)) as WarmAnswer;
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
		const asked = performance.now();
		this.#fresh = await this.#starting;
		options.onStartup?.(Math.round(performance.now() - asked));
		return this.#fresh.request<T>(op, params, options);
	}

	async close(): Promise<void> {
		(await this.#connection?.catch(() => undefined))?.close();
		await (await this.#starting?.catch(() => undefined))?.close();
	}

	/** A connection to a server that has said hello, starting the server when none answers; none when none can be had within {@link reachWithin} the jobs' `timeout`. */
	async #connect(timeout: number | undefined, signal: AbortSignal | undefined): Promise<Connection | undefined> {
		const reachBy = performance.now() + reachWithin(timeout);
		const left = () => Math.max(1, reachBy - performance.now());
		const env = this.#options.env ?? process.env;
		const klayout = await findKLayout({klayout: this.#options.klayout, env});
		const address = await warmWorkerAddress(klayout.path, env).catch(() => null);
		if (!address) {
			return undefined;
		}

		let socket = await connectTo(address, Math.min(CONNECT_TIMEOUT_MS, left()));
		if (!socket) {
			startServer(address, klayout.path, env);
			while (!socket && performance.now() < reachBy && !signal?.aborted) {
				await sleep(25);
				socket = await connectTo(address, Math.min(CONNECT_TIMEOUT_MS, left()));
			}
		}

		if (!socket) {
			return undefined;
		}

		const connection = new Connection(socket);
		try {
			// Answered once the server's first KLayout is up.
			const hello = (await connection.ask('hello', left(), signal)) as WarmWorkerHello;
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
 * median 1.44 s instead of 1.53 s); the server reports each job's wait (`onQueued`), which
 * does not count against the job's deadline. Started KLayouts: none.
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
