import type {Readable, Writable} from 'node:stream';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {KLAYOUT_DIR} from '../package-root.js';
import {execa} from 'execa';
import {LyipcError} from '../errors.js';
import {parseLine, readLines, RequestChannel, toLine} from '../json-lines.js';
import {findKLayout, type KLayoutLocation} from './find-klayout.js';
import {isSupportedVersion, MIN_KLAYOUT_VERSION} from './klayout-version.js';
import {killGroup} from '../kill-group.js';

/** The Python entry point that runs inside `klayout -b` (shipped in the package). */
export const WORKER_SCRIPT = path.join(KLAYOUT_DIR, 'worker.py');

/** Version of the JSON-lines protocol spoken with klayout/worker.py (docs/worker-protocol.md). */
export const WORKER_PROTOCOL = 1;

const STDERR_TAIL_BYTES = 8192;

export interface WorkerStartOptions {
	/** KLayout executable; found with {@link findKLayout} when not given. */
	klayout?: string | undefined;
	/** Environment for KLayout (defaults to this process's). */
	env?: NodeJS.ProcessEnv | undefined;
	/** Milliseconds to wait for KLayout to start and load the worker. Default 60 s. */
	startTimeout?: number | undefined;
	/**
	 * Start the worker another way, e.g. through ssh on another host: the command runs
	 * `klayout -b -r <worker.py>` there and connects its stdin/stdout. `klayout` names it in messages.
	 */
	launch?: {file: string; args: string[]; klayout: KLayoutLocation} | undefined;
	signal?: AbortSignal | undefined;
}

export interface RequestOptions {
	/** Milliseconds the job may take; 0 or undefined for no limit. The worker is killed when it runs over. */
	timeout?: number | undefined;
	signal?: AbortSignal | undefined;
	/** Told how long the job waited behind other jobs before KLayout took it (in this worker's queue, or the warm worker server's). */
	onQueued?: ((ms: number) => void) | undefined;
	/** Told how long the job waited for KLayout to start (the warm worker server and its first KLayout, or a fresh KLayout instead). */
	onStartup?: ((ms: number) => void) | undefined;
}

interface Ready {
	protocol: number;
	klayout: string;
	python: string;
	pid: number;
}

const live = new Set<KLayoutWorker>();
let exitHookInstalled = false;

function installExitHook(): void {
	if (exitHookInstalled) {
		return;
	}

	exitHookInstalled = true;
	// Workers live in their own process group (so a kill reaches all of KLayout); that also
	// means nothing kills them when we exit, unless we do.
	process.once('exit', () => {
		for (const worker of live) {
			worker.kill();
		}
	});
}

/**
 * One long-lived `klayout -b` process running klayout/worker.py: jobs go in as JSON lines,
 * answers come back as JSON lines. Jobs run one at a time; a job that runs over its timeout
 * or a process that dies fails that job with a coded error — never a hang.
 */
/** What a comparison needs of a worker: its requests and which KLayout answers them (a warm worker elsewhere qualifies). */
export type WorkerRequests = Pick<KLayoutWorker, 'request' | 'klayout' | 'klayoutVersion'>;

export class KLayoutWorker {
	readonly klayout: KLayoutLocation;
	readonly klayoutVersion: string;
	readonly pythonVersion: string;

	readonly #child: WorkerProcess;
	readonly #stdin: Writable;
	/** The last bytes KLayout wrote on stderr, shared with the stream listener set up in start(). */
	readonly #stderr: {tail: string};
	readonly #channel: RequestChannel;
	/** The op of the job running now, to name it when KLayout dies. */
	#running: string | undefined;
	#queue: Promise<unknown> = Promise.resolve();
	/** Jobs sent or waiting to be sent. */
	#pending = 0;
	#failure: LyipcError | undefined;
	#exited = false;
	readonly #exit: Promise<void>;

	private constructor(klayout: KLayoutLocation, child: WorkerProcess, ready: Ready, exit: Promise<void>, stderr: {tail: string}) {
		this.klayout = klayout;
		this.#stderr = stderr;
		this.klayoutVersion = ready.klayout;
		this.pythonVersion = ready.python;
		this.#child = child;
		this.#stdin = child.stdin as Writable;
		this.#exit = exit;
		this.#channel = new RequestChannel({
			write: line => this.#stdin.write(line),
			onBusy: busy => {
				this.#setBusy(busy);
			},
		});
	}

	/** Starts KLayout with the worker script and waits until it says it is ready. */
	static async start(options: WorkerStartOptions = {}): Promise<KLayoutWorker> {
		const klayout = options.launch?.klayout ?? (await findKLayout({klayout: options.klayout, env: options.env ?? process.env}));
		const [file, args] = options.launch ? [options.launch.file, options.launch.args] : [klayout.path, ['-b', '-r', WORKER_SCRIPT]];
		const child = spawnWorker(file, args, options.env ?? process.env);
		installExitHook();

		let worker: KLayoutWorker | undefined;
		const stderr = {tail: ''};
		(child.stderr as Readable).on('data', (chunk: Buffer) => {
			stderr.tail = (stderr.tail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
		});
		(child.stdin as Writable).on('error', () => {
			// EPIPE after the process died: the exit handler reports it.
		});

		let onReady: (ready: Ready) => void = () => {};
		let onGone: (error: LyipcError) => void = () => {};
		const readyPromise = new Promise<Ready>((resolve, reject) => {
			onReady = resolve;
			onGone = reject;
		});

		const exit = child.then(result => {
			if (worker) {
				worker.#onExit(result.exitCode, result.signal);
			} else {
				const how = result.code === 'ENOENT' || result.code === 'EACCES' ? `could not be run (${result.code})` : `exited (${describeExit(result.exitCode, result.signal)}) before it was ready`;
				const message = `KLayout at ${klayout.path} ${how}${tailNote(stderr.tail)}`;
				onGone(
					result.signal && KILLS.has(result.signal)
						? new WorkerKilledWhileStarting(message, klayout.path)
						: new LyipcError('WORKER_START_FAILED', message, {path: klayout.path, hint: 'Is it KLayout with Python support? Check with: klayout -b -v'}),
				);
			}
		});

		// Lines that are no JSON object are KLayout's own log output, not part of the protocol.
		readLines(child.stdout as Readable, line => {
			if (worker) {
				worker.#channel.receive(line);
				return;
			}

			const message = parseLine(line);
			if (message?.event === 'ready') {
				onReady(message as unknown as Ready);
			}
		});

		const startTimeout = options.startTimeout ?? 60_000;
		const timer = setTimeout(() => {
			onGone(new LyipcError('WORKER_START_FAILED', `KLayout at ${klayout.path} did not start the worker within ${startTimeout / 1000} s`, {path: klayout.path}));
		}, startTimeout);
		const onAbort = () => onGone(new LyipcError('ABORTED', 'aborted while starting KLayout'));
		options.signal?.addEventListener('abort', onAbort, {once: true});

		let ready: Ready;
		try {
			if (options.signal?.aborted) {
				onAbort();
			}

			ready = await readyPromise;
		} catch (error) {
			killGroup(child);
			throw error;
		} finally {
			clearTimeout(timer);
			options.signal?.removeEventListener('abort', onAbort);
		}

		worker = new KLayoutWorker(klayout, child, ready, exit, stderr);
		if (!isSupportedVersion(ready.klayout)) {
			worker.kill();
			throw new LyipcError('KLAYOUT_TOO_OLD', `KLayout ${ready.klayout} at ${klayout.path} is too old: lyipc needs ${MIN_KLAYOUT_VERSION} or newer`, {
				path: klayout.path,
				hint: 'Install a current KLayout from https://www.klayout.de/build.html or your package manager.',
			});
		}

		if (ready.protocol !== WORKER_PROTOCOL) {
			worker.kill();
			throw new LyipcError('WORKER_START_FAILED', `worker script speaks protocol ${ready.protocol}, expected ${WORKER_PROTOCOL}: mismatched lyipc installation`, {path: WORKER_SCRIPT});
		}

		live.add(worker);
		worker.#setBusy(false);
		return worker;
	}

	/** Operating-system process id of KLayout. */
	get pid(): number | undefined {
		return this.#child.pid;
	}

	/** False once the process has exited or was killed; a dead worker takes no more jobs. */
	get alive(): boolean {
		return !this.#exited && this.#failure === undefined;
	}

	/**
	 * Sends one job and resolves with its result. Jobs are queued and run one at a time, so a
	 * timeout measures this job only. A job that waited behind another one that ended this
	 * worker (a timeout, a crash) fails with {@link WorkerLostBeforeStart}: it never ran.
	 */
	async request<T = unknown>(op: string, params: Record<string, unknown> = {}, options: RequestOptions = {}): Promise<T> {
		const behindAnother = this.#pending > 0;
		const asked = performance.now();
		this.#pending++;
		const run = this.#queue
			.then(async () => {
				options.onQueued?.(Math.round(performance.now() - asked));
				if (behindAnother && !this.alive) {
					throw new WorkerLostBeforeStart(op, this.#failure);
				}

				return this.#send(op, params, options);
			})
			.finally(() => {
				this.#pending--;
			});
		this.#queue = run.catch(() => undefined);
		return run as Promise<T>;
	}

	/** Asks the worker to finish and waits for it (killing it after `graceMs`). */
	async close(graceMs = 5000): Promise<void> {
		this.#setBusy(true); // keep Node alive until KLayout is really gone
		if (this.alive) {
			this.#stdin.write(toLine({id: 0, op: 'shutdown'}));
			this.#stdin.end();
			const timer = setTimeout(() => this.kill(), graceMs);
			await this.#exit;
			clearTimeout(timer);
		} else {
			this.kill();
			await this.#exit;
		}

		live.delete(this);
	}

	/** Kills KLayout (its whole process group) at once. */
	kill(): void {
		if (!this.#exited) {
			killGroup(this.#child);
		}

		live.delete(this);
	}

	async #send(op: string, params: Record<string, unknown>, options: RequestOptions): Promise<unknown> {
		if (!this.alive) {
			throw this.#failure ?? new LyipcError('WORKER_DIED', `the KLayout worker has exited${tailNote(this.#stderr.tail)}`);
		}

		if (options.signal?.aborted) {
			throw new LyipcError('ABORTED', `${op} aborted`);
		}

		this.#running = op;
		try {
			return await this.#channel.request(
				{...params, op},
				{
					timeout: options.timeout,
					onTimeout: () => this.#fail(new LyipcError('TIMEOUT', `${op} took longer than ${formatSeconds(options.timeout ?? 0)}; the KLayout worker was stopped`)),
					signal: options.signal,
					onAbort: () => this.#fail(new LyipcError('ABORTED', `${op} aborted; the KLayout worker was stopped`)),
				},
			);
		} finally {
			this.#running = undefined;
		}
	}

	/** Ends this worker for good: the process is killed; `error` is what the job waiting and every later one fail with. */
	#fail(error: LyipcError): LyipcError {
		this.#failure ??= error;
		this.kill();
		return error;
	}

	#onExit(exitCode: number | undefined, signal: string | undefined): void {
		this.#exited = true;
		live.delete(this);
		const running = this.#running;
		// On another host the process here is ssh: its exit 255 is a dropped link (or KLayout killed there).
		const where = this.klayout.source === 'remote' ? ` at ${this.klayout.path}` : this.klayout.source === 'slurm' ? ' on the Slurm cluster' : '';
		const how = this.klayout.source === 'remote' && exitCode === 255 ? 'the ssh link dropped or it was killed there' : describeExit(exitCode, signal);
		this.#failure ??= new LyipcError('WORKER_DIED', `the KLayout worker${where} died (${how})${running ? ` during ${running}` : ''}${tailNote(this.#stderr.tail)}`);
		this.#channel.close(this.#failure);
	}

	/** An idle worker must not keep Node running; a busy one must. */
	#setBusy(busy: boolean): void {
		const handles = [this.#child, this.#child.stdout, this.#child.stderr, this.#child.stdin] as Array<{ref?: () => void; unref?: () => void} | null>;
		for (const handle of handles) {
			if (busy) {
				handle?.ref?.();
			} else {
				handle?.unref?.();
			}
		}
	}
}

/**
 * A job queued on a worker that another job ended (its timeout, a crash) before this one was
 * sent: nothing of it ran, so a pool gives it to another worker (WorkerPool does).
 */
export class WorkerLostBeforeStart extends LyipcError {
	constructor(op: string, cause: LyipcError | undefined) {
		super('WORKER_DIED', `${op} was waiting for a KLayout worker that stopped before it could start${cause ? ` (${cause.message})` : ''}`, {cause});
	}
}

/** Signals that end a process from outside (the OOM killer, a user, a scheduler), unlike a crash (SIGSEGV, SIGABRT) of its own. */
const KILLS = new Set(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT']);

/**
 * A KLayout killed from outside while it started (WORKER_START_FAILED): the program itself may
 * well start, so a pool starts another for the jobs that were waiting for this one.
 */
export class WorkerKilledWhileStarting extends LyipcError {
	constructor(message: string, klayout: string) {
		super('WORKER_START_FAILED', message, {path: klayout});
	}
}

/** KLayout in its own process group (so a kill reaches all of it), spoken to over stdio. */
function spawnWorker(file: string, args: string[], env: NodeJS.ProcessEnv) {
	return execa(file, args, {
		stdin: 'pipe',
		stdout: 'pipe',
		stderr: 'pipe',
		buffer: false,
		reject: false,
		detached: process.platform !== 'win32',
		cleanup: false,
		windowsHide: true,
		env,
		extendEnv: false,
	});
}

type WorkerProcess = ReturnType<typeof spawnWorker>;

function describeExit(exitCode: number | undefined, signal: string | undefined): string {
	if (signal) {
		return `killed by ${signal}`;
	}

	return exitCode === undefined ? 'no exit code' : `exit code ${exitCode}`;
}

function tailNote(stderr: string): string {
	const text = stderr.trim();
	if (!text) {
		return '';
	}

	const lines = text.split('\n').slice(-6).join('\n  ');
	return `; KLayout said:\n  ${lines}`;
}

function formatSeconds(ms: number): string {
	return `${Number((ms / 1000).toFixed(3))} s`;
}
