import net from 'node:net';
import {performance} from 'node:perf_hooks';
import {isLyipcError, LyipcError} from '../errors.js';
import {answerLines, toLine} from '../json-lines.js';
import {listenOwned} from './owned-socket.js';
import {WorkerPool} from './pool.js';
import {retryLostWorker} from './retry-lost-worker.js';
import {connectTo, WARM_PROTOCOL, type WarmAnswer} from './warm-worker.js';
import type {KLayoutWorker} from './worker.js';

/** Longest request line accepted: a job is a few hundred bytes. */
const MAX_LINE = 1 << 20;
/** What a caller may ask a warm worker: a comparison and its pictures, nothing else of the worker protocol. */
const ALLOWED_OPS = new Set(['xor', 'render', 'render_diff']);

export interface WarmWorkerServerOptions {
	/** KLayout executable the workers run (the one the address was made for). */
	klayout: string;
	/** Stop after this many milliseconds without a job. */
	idleMs: number;
	/** How many jobs at once (one KLayout each, started when needed). */
	size: number;
	/**
	 * After this many milliseconds without a job, only one KLayout stays (each holds ~375 MB,
	 * ~215 MB of it its own): the others served a directory run's burst. Default {@link SPARE_IDLE_MS}.
	 */
	spareIdleMs?: number | undefined;
}

/** How long KLayouts beyond the first stay after the last job: a directory run's pairs come without pauses. */
export const SPARE_IDLE_MS = 30_000;

export interface WarmWorkerHello {
	protocol: typeof WARM_PROTOCOL;
	pid: number;
	klayout: KLayoutWorker['klayout'];
	klayoutVersion: string;
	/** Jobs answered since the server started (hello excluded). */
	jobs: number;
}

/** A line the server sends about a job before its answer (warm protocol 4). */
export interface WarmJobEvent {
	id: unknown;
	/** `started`: a KLayout took the job (its timeout runs from now); `retrying`: that KLayout died, the job waits for another. */
	event: 'started' | 'retrying';
	attempt: number;
}

/**
 * Serves KLayout workers to lyipc-diff processes of one user over a private socket, so that
 * repeated calls skip KLayout's start-up (~1.1 s). JSON lines `{id, op, params, timeout}` in,
 * `{id, ok, result | error}` out, answered as they finish; jobs wait here for a KLayout, and
 * {@link WarmJobEvent} lines say when one takes a job. `hello` answers once a worker is up;
 * `ping` at once, also while the KLayouts work (callers give up on a server that does not),
 * with `busy`: how many KLayouts run a job or start. A job whose KLayout died under it
 * (killed, out of memory) is run once more on another; a second death is its answer
 * (WORKER_DIED). A connection that closes cancels its jobs. Resolves when the server stopped:
 * idle for `idleMs`, or another server already answers at `address`.
 */
export async function serveWarmWorker(address: string, options: WarmWorkerServerOptions): Promise<void> {
	const pool = new WorkerPool({size: options.size, klayout: options.klayout});
	let jobs = 0;
	/** Jobs received and not yet answered (a server with any stays up). */
	let running = 0;
	/** Jobs a KLayout works on now. */
	let working = 0;
	let first: Promise<Omit<WarmWorkerHello, 'jobs' | 'protocol' | 'pid'>> | undefined;
	// The first worker starts with the server: the caller that started it is waiting for one.
	const hello = async (): Promise<WarmWorkerHello> => {
		first ??= pool.run(async worker => ({klayout: worker.klayout, klayoutVersion: worker.klayoutVersion}));
		try {
			return {protocol: WARM_PROTOCOL, pid: process.pid, ...(await first), jobs};
		} catch (error) {
			first = undefined; // a KLayout that failed to start is tried again by the next caller
			throw error;
		}
	};

	void hello().catch(() => undefined);
	let stop: () => void = () => undefined;
	const stopped = new Promise<void>(resolve => {
		stop = resolve;
	});
	let idleTimer: NodeJS.Timeout | undefined;
	let spareTimer: NodeJS.Timeout | undefined;
	const idle = () => {
		clearTimeout(idleTimer);
		clearTimeout(spareTimer);
		idleTimer = setTimeout(() => {
			if (running === 0) {
				stop();
			}
		}, options.idleMs);
		spareTimer = setTimeout(() => {
			if (running === 0) {
				pool.retireIdle(1);
			}
		}, options.spareIdleMs ?? SPARE_IDLE_MS);
		spareTimer.unref();
	};

	const sockets = new Set<net.Socket>();
	const server = net.createServer(socket => {
		sockets.add(socket);
		idle();
		const cancel = new AbortController();
		socket.on('close', () => {
			sockets.delete(socket);
			cancel.abort(); // the caller went away (Ctrl+C): its KLayout job is stopped
		});
		socket.on('error', () => undefined);
		answerLines(
			socket,
			async request => {
				if (request.op === 'ping') {
					// Callers let their jobs wait here while this is above 0: the jobs ahead end by their timeouts, starts by the pool's.
					return {busy: working + pool.starting};
				}

				running++;
				try {
					return await answer(request, cancel.signal, event => {
						if (!socket.destroyed) {
							socket.write(toLine({id: request.id, ...event} satisfies WarmJobEvent));
						}
					});
				} finally {
					running--;
					idle();
				}
			},
			{
				maxLine: MAX_LINE,
				toError: error => (isLyipcError(error) ? error : new LyipcError('BAD_REQUEST', `warm worker: ${(error as Error).message}`)),
			},
		);
	});

	async function answer(request: Record<string, unknown>, signal: AbortSignal, tell: (event: Omit<WarmJobEvent, 'id'>) => void): Promise<unknown> {
		if (request.op === 'hello') {
			return hello();
		}

		if (typeof request.op !== 'string' || !ALLOWED_OPS.has(request.op)) {
			throw new LyipcError('BAD_REQUEST', `the warm worker takes xor and render jobs, not ${JSON.stringify(request.op)}`);
		}

		const op = request.op;
		const params = (request.params ?? {}) as Record<string, unknown>;
		const timeout = typeof request.timeout === 'number' ? request.timeout : undefined;
		let waitedMs = 0;
		// A KLayout killed mid-job (WORKER_DIED) is dropped by the pool; the job gets another.
		const result = await retryLostWorker(1, signal, async attempt => {
			if (attempt > 1) {
				tell({event: 'retrying', attempt: attempt - 1});
			}

			const asked = performance.now();
			return pool.run(async worker => {
				waitedMs += Math.round(performance.now() - asked);
				tell({event: 'started', attempt});
				working++;
				try {
					return await worker.request(op, params, {timeout, signal});
				} catch (error) {
					throw attempt > 1 && isLyipcError(error) && error.code === 'WORKER_DIED' ? new LyipcError('WORKER_DIED', `KLayout died twice on this job: ${error.message}`, {cause: error}) : error;
				} finally {
					working--;
				}
			}, signal);
		});
		jobs++;
		return {result, waitedMs} satisfies WarmAnswer;
	}

	const owned = await listenOwned(server, address, answersAt);
	if (!owned) {
		await pool.close();
		return;
	}

	idle();
	await stopped;
	// Before closing: while this server answers, a new one steps back instead of replacing its socket.
	await owned.release();
	server.close();
	for (const socket of sockets) {
		socket.destroy();
	}

	await pool.close();
}

async function answersAt(address: string): Promise<boolean> {
	const socket = await connectTo(address);
	socket?.destroy();
	return socket !== null;
}
