import {mkdirSync} from 'node:fs';
import {tmpdir, userInfo} from 'node:os';
import path from 'node:path';
import {execa} from 'execa';
import {LyipcError} from '../errors.js';

/** `[user@]host[:dir]` as --remote takes it. */
export interface HostSpec {
	/** What ssh and rsync connect to: `user@host`, `host` or an alias from ~/.ssh/config. */
	destination: string;
	/** A folder on the host for lyipc's temp folders (default: the host's $TMPDIR or /tmp). */
	dir: string | undefined;
}

export function parseHostSpec(text: string): HostSpec {
	const [destination, ...rest] = text.split(':');
	const dir = rest.join(':');
	if (!destination || /\s/.test(destination) || destination.startsWith('-')) {
		throw new LyipcError('USAGE', `--remote ${text}: expected [user@]host[:dir]`);
	}

	return {destination, dir: dir || undefined};
}

/** Single-quoted for a POSIX shell: what the remote login shell sees is exactly `text`. */
export function shQuote(text: string): string {
	return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Splits a command line like rsync's RSYNC_RSH: words, with '...' and "..." quoting. */
export function splitCommand(text: string): string[] {
	const words: string[] = [];
	const pattern = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
	for (const match of text.matchAll(pattern)) {
		words.push(match[1] ?? match[2]?.replace(/\\(.)/g, '$1') ?? match[3]!);
	}

	return words;
}

/** A private folder for ssh's control sockets (short: a socket path must stay under ~100 bytes). */
function controlDir(): string {
	const dir = path.join(tmpdir(), `lyipc-ssh-${userInfo().uid}`);
	mkdirSync(dir, {recursive: true, mode: 0o700});
	return dir;
}

/**
 * The ssh command: `$LYIPC_SSH` (e.g. `ssh -F ./ssh_config`) or `ssh`, never asking for a
 * password (BatchMode: keys and agents only), sharing one connection per host between
 * every call of a run (ControlMaster) and for a minute after.
 */
export function sshCommand(env: NodeJS.ProcessEnv = process.env): string[] {
	const base = env.LYIPC_SSH ? splitCommand(env.LYIPC_SSH) : ['ssh'];
	if (base.length === 0) {
		throw new LyipcError('USAGE', 'LYIPC_SSH is empty: expected an ssh command, e.g. "ssh -F ./ssh_config"');
	}

	return [
		...base,
		'-o',
		'BatchMode=yes',
		'-o',
		'ControlMaster=auto',
		'-o',
		`ControlPath=${path.join(controlDir(), '%C')}`,
		'-o',
		'ControlPersist=60',
		'-o',
		'ServerAliveInterval=5',
		'-o',
		'ServerAliveCountMax=3',
	];
}

/** `ssh ... destination -- command`: the command's words quoted for the remote shell, so no name can inject anything. */
export function sshArgs(ssh: string[], destination: string, command: readonly string[]): string[] {
	return [...ssh.slice(1), destination, '--', command.map(word => shQuote(word)).join(' ')];
}

/** Runs a command on the host; rejects with REMOTE_FAILED naming the host and what it printed. */
export async function runRemote(ssh: string[], destination: string, command: readonly string[], options: {signal?: AbortSignal | undefined; timeout?: number} = {}): Promise<string> {
	const result = await execa(ssh[0]!, sshArgs(ssh, destination, command), {reject: false, ...cancelledBy(options.signal), timeout: options.timeout ?? 60_000, stdin: 'ignore'});
	if (result.exitCode !== 0) {
		const said = String(result.stderr)
			.trim()
			.split('\n')
			.filter(line => !line.startsWith('Warning: Permanently added'))
			.join('\n');
		throw new LyipcError(
			'REMOTE_FAILED',
			`${destination}: ${command[0]} failed (${result.exitCode === 255 ? 'ssh could not connect' : `exit ${result.exitCode ?? result.signal}`})${said ? `: ${said}` : ''}`,
			{
				hint: result.exitCode === 255 ? `Check that 'ssh ${destination} true' works without a password (keys or an agent; LYIPC_SSH sets the ssh command).` : undefined,
			},
		);
	}

	return String(result.stdout);
}

/** rsync's -e value: the ssh command as one string rsync splits again. */
function rsyncShell(ssh: string[]): string {
	return ssh.map(word => (/^[\w@%+=:,./-]+$/.test(word) ? word : shQuote(word))).join(' ');
}

/**
 * Copies with rsync over the same ssh: `from` and `to` are local paths or `destination:path`,
 * and `from` may start with rsync options. --protect-args keeps the remote shell away from
 * file names. Resolves with what rsync printed.
 */
export async function rsync(ssh: string[], from: string[], to: string, options: {signal?: AbortSignal | undefined; env?: NodeJS.ProcessEnv | undefined} = {}): Promise<string> {
	const env = options.env ?? process.env;
	const rsyncCommand = env.LYIPC_RSYNC ? splitCommand(env.LYIPC_RSYNC) : ['rsync'];
	const result = await execa(rsyncCommand[0]!, [...rsyncCommand.slice(1), '--protect-args', '--times', '-e', rsyncShell(ssh), ...from, to], {
		reject: false,
		...cancelledBy(options.signal),
		stdin: 'ignore',
	});
	if (result.exitCode !== 0) {
		const said = String(result.stderr).trim().split('\n').slice(-3).join('\n');
		throw new LyipcError(
			'REMOTE_FAILED',
			`copying ${from.filter(arg => !arg.startsWith('--')).join(', ')} to ${to} failed (rsync ${result.exitCode === undefined ? result.signal : `exit ${result.exitCode}`})${said ? `: ${said}` : ''}`,
			{
				hint: result.code === 'ENOENT' ? 'Install rsync (here and on the host).' : undefined,
			},
		);
	}

	return String(result.stdout);
}

/** execa's cancelSignal option, left out when there is no signal (execa takes no explicit undefined). */
export function cancelledBy(signal: AbortSignal | undefined): {cancelSignal?: AbortSignal} {
	return signal ? {cancelSignal: signal} : {};
}
