import path from 'node:path';
import {KLAYOUT_DIR} from '../package-root.js';
import {KLayoutWorker} from '../engine/worker.js';
import {isLyipcError, LyipcError} from '../errors.js';
import {layoutExtension} from '../layout-files.js';
import {SHARED} from '../shared.js';
import {checkLayoutFile, judgeInput, type FoundInput, type LayoutInput, type Side} from '../xor/input.js';
import {sameBytes} from '../xor/same-bytes.js';
import type {WorkerFiles} from '../xor/worker-files.js';
import {parseHostSpec, rsync, runRemote, shQuote, sshArgs, sshCommand, type HostSpec} from './ssh.js';

/** What the batch worker needs on the host (klayout/worker.py and the modules it imports). */
const WORKER_FILES = SHARED.workerFiles;
/** What the check script on the host may answer instead of a size. */
const HOST_PROBLEMS = ['missing', 'directory', 'not-file', 'unreadable'] as const;

export interface RemoteHostOptions {
	env?: NodeJS.ProcessEnv | undefined;
	signal?: AbortSignal | undefined;
	/** Send the worker code (default true); `lyipc job` runs no worker. */
	worker?: boolean | undefined;
}

/**
 * A host reached over the system's OpenSSH: a private temp folder there (unique per run, so
 * concurrent runs do not collide) holding lyipc's worker code, the inputs sent and the
 * artifacts written; workers run there with the host's KLayout. `close()` removes the folder.
 */
export class RemoteHost {
	readonly spec: HostSpec;
	readonly ssh: string[];
	/** The run's temp folder on the host. */
	readonly folder: string;
	readonly #signal: AbortSignal | undefined;
	readonly #env: NodeJS.ProcessEnv;
	#sent = 0;

	private constructor(spec: HostSpec, ssh: string[], folder: string, options: RemoteHostOptions) {
		this.spec = spec;
		this.ssh = ssh;
		this.folder = folder;
		this.#signal = options.signal;
		this.#env = options.env ?? process.env;
	}

	/** Connects, makes the temp folder and sends the worker code. */
	static async open(hostSpec: string, options: RemoteHostOptions = {}): Promise<RemoteHost> {
		const spec = parseHostSpec(hostSpec);
		const ssh = sshCommand(options.env);
		// mktemp makes a folder only this user can read; the base is the host's TMPDIR unless given.
		const base = spec.dir ?? '${TMPDIR:-/tmp}';
		const script = `mkdir -p -- ${spec.dir ? shQuote(base) : `"${base}"`} && mktemp -d -- ${spec.dir ? shQuote(`${base}/lyipc-XXXXXXXX`) : `"${base}/lyipc-XXXXXXXX"`}`;
		const folder = (await runRemote(ssh, spec.destination, ['sh', '-c', `folder=$(${script}) && mkdir -- "$folder/out" && echo "$folder"`], options)).trim();
		if (!folder.startsWith('/')) {
			throw new LyipcError('REMOTE_FAILED', `${spec.destination}: could not make a temp folder (got '${folder}')`);
		}

		const host = new RemoteHost(spec, ssh, folder, options);
		if (options.worker === false) {
			return host;
		}

		try {
			await rsync(
				ssh,
				WORKER_FILES.map(file => path.join(KLAYOUT_DIR, file)),
				`${spec.destination}:${folder}/klayout/`,
				{signal: options.signal, env: options.env},
			);
		} catch (error) {
			await host.close();
			throw error;
		}

		return host;
	}

	get name(): string {
		return this.spec.destination;
	}

	/** A KLayout worker on the host (its `klayout` on PATH, or $LYIPC_REMOTE_KLAYOUT), speaking the worker protocol over ssh. */
	async startWorker(): Promise<KLayoutWorker> {
		const klayout = this.#env.LYIPC_REMOTE_KLAYOUT || 'klayout';
		// exec: the worker is the ssh session's process, so a dropped link ends it (EOF, SIGHUP).
		// A UTF-8 locale when the session has none, so KLayout can open non-ASCII paths.
		const command = [
			'sh',
			'-c',
			'command -v "$0" >/dev/null 2>&1 || { echo "lyipc: $0 is not on the PATH of $(hostname)" >&2; exit 127; }; ' + '[ -n "${LC_ALL:-${LANG:-}}" ] || export LC_ALL=C.UTF-8; exec "$0" -b -r "$1"',
			klayout,
			`${this.folder}/klayout/worker.py`,
		];
		try {
			return await KLayoutWorker.start({
				signal: this.#signal,
				launch: {file: this.ssh[0]!, args: sshArgs(this.ssh, this.name, command), klayout: {path: `${this.name}:${klayout}`, source: 'remote'}},
			});
		} catch (error) {
			if (isLyipcError(error) && error.code === 'WORKER_START_FAILED') {
				throw new LyipcError('REMOTE_FAILED', `${this.name}: cannot start KLayout there: ${error.message}`, {
					hint: 'Install KLayout >= 0.28 on the host, on the PATH of non-interactive ssh sessions (or set LYIPC_REMOTE_KLAYOUT).',
					cause: error,
				});
			}

			throw error;
		}
	}

	/** Files for compareLayouts: inputs here are sent into the temp folder, artifacts come back. */
	files(): WorkerFiles {
		return {
			shared: false,
			check: checkLayoutFile,
			sameBytes: async (a, b) => sameBytes(a.path, b.path, a.size, b.size),
			input: async file => {
				// One folder per file sent: two inputs with the same name never overwrite each other.
				const target = `${this.folder}/in/${++this.#sent}/`;
				await runRemote(this.ssh, this.name, ['mkdir', '-p', '--', target], {signal: this.#signal});
				// Sent under a plain name: the host's locale may not spell the user's.
				const name = `input${layoutExtension(file)}`;
				await rsync(this.ssh, [path.resolve(file)], `${this.name}:${target}${name}`, {signal: this.#signal, env: this.#env});
				return target + name;
			},
			output: local => this.outputPath(local),
			fetch: async files => {
				for (const {worker, local} of files) {
					await rsync(this.ssh, [`${this.name}:${worker}`], local, {signal: this.#signal, env: this.#env});
				}
			},
			release: async files => {
				// Only what lies in the run's temp folder: --remote-paths inputs are the user's.
				const ours = files.filter(file => file.startsWith(`${this.folder}/`));
				if (ours.length > 0) {
					await runRemote(this.ssh, this.name, ['rm', '-f', '--', ...ours], {timeout: 20_000}).catch(() => undefined);
				}
			},
		};
	}

	/** Where the worker writes the artifact whose hidden local name is `local`. */
	outputPath(local: string): string {
		return `${this.folder}/out/${path.basename(local)}`;
	}

	/** Files for compareLayouts when A and B are paths on the host already (--remote-paths): nothing is sent. */
	hostFiles(): WorkerFiles {
		const files = this.files();
		return {
			...files,
			check: async (file, side) => this.check(file, side),
			// Not here to compare byte for byte: KLayout on the host tells.
			sameBytes: async () => false,
			input: async file => file,
		};
	}

	/** The host's view of an input, judged as a local one ({@link judgeInput}). */
	async check(file: string, side: Side): Promise<LayoutInput> {
		const script =
			'if [ ! -e "$1" ]; then echo missing; elif [ -d "$1" ]; then echo directory; elif [ ! -f "$1" ]; then echo not-file; elif [ ! -r "$1" ]; then echo unreadable; else wc -c < "$1"; head -c 4096 -- "$1" | od -An -v -tx1; fi';
		const [first = '', ...hex] = (await runRemote(this.ssh, this.name, ['sh', '-c', script, 'check', file], {signal: this.#signal})).trim().split('\n');
		const found: FoundInput = /^\d+$/.test(first.trim())
			? {size: Number(first), head: Buffer.from(hex.join('').replace(/\s+/g, ''), 'hex')}
			: {
					problem: HOST_PROBLEMS.find(problem => problem === first) ?? 'unreadable',
					reason: HOST_PROBLEMS.includes(first as never) ? undefined : `the host answered ${JSON.stringify(first.slice(0, 80))}`,
				};
		return {path: file, given: `${this.name}:${file}`, ...judgeInput(found, `${this.name}:${file} (${side})`, file, ' on the host')};
	}

	/** Removes the temp folder on the host (best effort: a host that went away keeps it). */
	async close(): Promise<void> {
		await runRemote(this.ssh, this.name, ['rm', '-rf', '--', this.folder], {timeout: 20_000}).catch(() => undefined);
	}
}
