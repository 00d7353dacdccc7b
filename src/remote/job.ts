import path from 'node:path';
import {execa} from 'execa';
import {LyipcError} from '../errors.js';
import {RemoteHost} from './remote-host.js';
import {cancelledBy, rsync, sshArgs} from './ssh.js';

export interface RemoteJobOptions {
	/** `[user@]host[:dir]`. */
	remote: string;
	/** The command and its arguments, run in the copy of `cwd` on the host (no shell: each word as given). */
	command: readonly string[];
	/** rsync patterns of the outputs to bring back, relative to the working directory ("out/**", "*.gds"). */
	get?: readonly string[] | undefined;
	/** The working directory sent up (default: the current one). `.git` stays here. */
	cwd?: string | undefined;
	env?: NodeJS.ProcessEnv | undefined;
	stdout?: NodeJS.WritableStream | undefined;
	stderr?: NodeJS.WritableStream | undefined;
	signal?: AbortSignal | undefined;
}

export interface RemoteJobResult {
	/** The command's exit code on the host. */
	exitCode: number;
	/** Local paths of the outputs brought back. */
	fetched: string[];
}

/**
 * `lyipc job`: sends the working directory to a private temp folder on the host, runs the
 * command there (its output streams here), brings the declared outputs back into the working
 * directory (also when the command failed: its logs and partial results may tell why), and
 * removes the temp folder.
 */
export async function runRemoteJob(options: RemoteJobOptions): Promise<RemoteJobResult> {
	if (options.command.length === 0) {
		throw new LyipcError('USAGE', 'job: no command given after --');
	}

	const cwd = path.resolve(options.cwd ?? process.cwd());
	const host = await RemoteHost.open(options.remote, {env: options.env, signal: options.signal, worker: false});
	try {
		const work = `${host.folder}/work`;
		await rsync(host.ssh, ['--recursive', '--links', '--exclude=/.git', `${cwd}/`], `${host.name}:${work}/`, {signal: options.signal, env: options.env});
		const run = execa(host.ssh[0]!, sshArgs(host.ssh, host.name, ['sh', '-c', 'cd "$0" && exec "$@"', work, ...options.command]), {
			reject: false,
			stdin: 'ignore',
			...cancelledBy(options.signal),
			stdout: 'pipe',
			stderr: 'pipe',
		});
		run.stdout?.pipe(options.stdout ?? process.stdout, {end: false});
		run.stderr?.pipe(options.stderr ?? process.stderr, {end: false});
		const result = await run;
		if (result.exitCode === 255 || result.exitCode === undefined) {
			throw new LyipcError('REMOTE_FAILED', `${host.name}: the job's connection failed (${result.exitCode === undefined ? result.signal : 'ssh exit 255'})`);
		}

		const fetched: string[] = [];
		if (options.get?.length) {
			const listed = await rsync(
				host.ssh,
				['--recursive', '--links', '--prune-empty-dirs', '--out-format=%n', '--include=*/', ...options.get.map(pattern => `--include=${pattern}`), '--exclude=*', `${host.name}:${work}/`],
				`${cwd}/`,
				{signal: options.signal, env: options.env},
			);
			fetched.push(
				...listed
					.split('\n')
					.filter(line => line && !line.endsWith('/'))
					.map(line => path.join(cwd, line)),
			);
		}

		return {exitCode: result.exitCode, fetched};
	} finally {
		await host.close();
	}
}
