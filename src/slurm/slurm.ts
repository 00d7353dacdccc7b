import {randomBytes} from 'node:crypto';
import {availableParallelism} from 'node:os';
import {execa} from 'execa';
import {LyipcError} from '../errors.js';
import {KLayoutWorker, WORKER_SCRIPT} from '../engine/worker.js';
import {splitCommand} from '../remote/ssh.js';

/**
 * KLayout workers on a Slurm cluster: each one a task started with `srun`, its stdio the worker
 * protocol's transport (as ssh's is for a remote host). Inside an allocation (SLURM_JOB_ID) a
 * worker is a job step of it; outside, srun gets an allocation of its own with `--slurm-args`.
 * The cluster shares the filesystem: paths are used as given, nothing is copied.
 */
export interface SlurmOptions {
	/** Extra srun arguments (partition, account, time, cpus), as one shell-like string. */
	args?: string | undefined;
	env?: NodeJS.ProcessEnv | undefined;
	signal?: AbortSignal | undefined;
}

/** How long a worker may wait in the queue and start (a busy cluster may take a while). */
const START_TIMEOUT_MS = 10 * 60_000;

export class SlurmWorkers {
	/** The job name every srun of this run gets, so that `scancel --name` reaches them all. */
	readonly jobName = `lyipc-${process.pid}-${randomBytes(3).toString('hex')}`;
	readonly #args: string[];
	readonly #env: NodeJS.ProcessEnv;
	readonly #signal: AbortSignal | undefined;

	constructor(options: SlurmOptions = {}) {
		this.#args = options.args ? splitCommand(options.args) : [];
		this.#env = options.env ?? process.env;
		this.#signal = options.signal;
	}

	/** Workers to run at once by default: the allocation's tasks, else this machine's cores. */
	get defaultSize(): number {
		const tasks = Number(this.#env.SLURM_NTASKS);
		return Number.isInteger(tasks) && tasks > 0 ? tasks : availableParallelism();
	}

	/** Fails with a clear USAGE error, before any pair, when there is no srun or no controller answers (sinfo). */
	async check(): Promise<void> {
		const hint = 'Run lyipc-diff on a machine of the Slurm cluster (where srun and sinfo work), or leave --slurm out.';
		const srun = await execa('srun', ['--version'], {env: this.#env, reject: false, timeout: 20_000, stdin: 'ignore'});
		if (srun.exitCode !== 0) {
			const why = srun.code === 'ENOENT' ? 'srun is not on the PATH' : `srun --version failed: ${String(srun.stderr).trim() || srun.shortMessage}`;
			throw new LyipcError('USAGE', `--slurm: ${why}`, {hint});
		}

		const sinfo = await execa('sinfo', ['--noheader', '--format=%P'], {env: this.#env, reject: false, timeout: 30_000, stdin: 'ignore'});
		if (sinfo.exitCode !== 0) {
			const said = String(sinfo.stderr).trim().split('\n').pop() || sinfo.shortMessage;
			throw new LyipcError('USAGE', `--slurm: the Slurm controller does not answer (sinfo: ${said})`, {hint});
		}
	}

	/** One KLayout worker as a Slurm task. */
	async start(): Promise<KLayoutWorker> {
		const klayout = this.#env.LYIPC_SLURM_KLAYOUT || 'klayout';
		const inAllocation = Boolean(this.#env.SLURM_JOB_ID);
		const args = [
			'--quiet',
			'--ntasks=1',
			'--nodes=1',
			`--job-name=${this.jobName}`,
			// Several steps side by side in one allocation, each with only what it asked for.
			...(inAllocation ? ['--exact'] : []),
			...this.#args,
			klayout,
			'-b',
			'-r',
			WORKER_SCRIPT,
		];
		return KLayoutWorker.start({
			env: this.#env,
			signal: this.#signal,
			startTimeout: START_TIMEOUT_MS,
			launch: {file: 'srun', args, klayout: {path: `slurm:${klayout}`, source: 'slurm'}},
		});
	}

	/** Cancels whatever of this run is still in the queue or running (Ctrl+C, or a run that ends). */
	async cancel(): Promise<void> {
		const options = {env: this.#env, reject: false, timeout: 20_000, stdin: 'ignore'} as const;
		const allocation = this.#env.SLURM_JOB_ID;
		if (allocation) {
			// Steps of the allocation: `scancel --name` matches jobs only, and a step whose srun
			// was killed runs on. They are cancelled by id.
			const listed = await execa('squeue', ['--steps', '--noheader', `--jobs=${allocation}`, '--format=%i %j'], options);
			const mine = String(listed.stdout)
				.split('\n')
				.map(line => line.trim().split(/\s+/))
				.filter(([id, name]) => id && name === this.jobName)
				.map(([id]) => id!);
			if (mine.length > 0) {
				await execa('scancel', ['--quiet', ...mine], options);
			}

			return;
		}

		const user = this.#env.USER ?? this.#env.LOGNAME;
		await execa('scancel', ['--quiet', `--name=${this.jobName}`, ...(user ? [`--user=${user}`] : [])], options);
	}
}
