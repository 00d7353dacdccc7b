import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir, userInfo} from 'node:os';
import path from 'node:path';
import {execa, type ResultPromise} from 'execa';
import {afterAll, beforeAll} from 'vitest';
import {freePort} from './gui.js';
import {makeNetns} from './netns.js';
import {describeNeeding} from './skip.js';

const SSHD_OPTIONS = {reject: false, stdin: 'ignore'} as const;

export const SSHD = process.env.LYIPC_TEST_SSHD ?? '/usr/sbin/sshd';

/** Tests that need a real sshd: LYIPC_TEST_SKIP_SSH=1 skips them locally (never under CI=true). */
export const describeSsh = describeNeeding('LYIPC_TEST_SKIP_SSH', 'run a real sshd');

export interface TestHost {
	/** The ssh_config alias that reaches it (default `lyipc-test-host`). */
	alias: string;
	/** Its ssh_config: the alias, port, user and key. */
	sshConfig: string;
	port: number;
	/** LYIPC_SSH for lyipc: `ssh -F <its ssh_config>`. */
	env: {LYIPC_SSH: string};
	/** Its own folder: keys, configs, and `home/` for remote temp folders. */
	dir: string;
	sshd: ResultPromise<typeof SSHD_OPTIONS>;
	/** How many ssh connections the server accepted so far (from its log). */
	connections(): number;
	/** Ends every open connection, as a dropped link would; the server keeps listening. */
	dropConnections(): Promise<void>;
	stop(): Promise<void>;
}

/**
 * A real OpenSSH server on 127.0.0.1 (or, with `netns`, on its own address in a network
 * namespace) and a free port, standing in for a remote host: its own host key, a generated
 * client key, its own config, public-key login for this user only.
 */
/** Whether this machine lets the tests make network namespaces (root, iproute2). */
export async function netnsAllowed(): Promise<boolean> {
	const netns = await makeNetns();
	await netns?.remove();
	return netns !== null;
}

export async function startSshd(options: {alias?: string; netns?: boolean} = {}): Promise<TestHost> {
	const dir = await mkdtemp(path.join(tmpdir(), 'lyipc-sshd-'));
	const port = await freePort();
	const netns = options.netns ? await makeNetns() : null;
	if (options.netns && !netns) {
		throw new Error('this machine does not allow network namespaces (needs root and iproute2)');
	}

	const listen = netns?.address ?? '127.0.0.1';
	for (const key of ['host_key', 'client_key']) {
		await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, key)]);
	}

	await execa('cp', [path.join(dir, 'client_key.pub'), path.join(dir, 'authorized_keys')]);
	if (process.getuid?.() === 0) {
		await mkdir('/run/sshd', {recursive: true}); // sshd's privilege-separation folder
	}

	await writeFile(
		path.join(dir, 'sshd_config'),
		[
			`Port ${port}`,
			`ListenAddress ${listen}`,
			`HostKey ${path.join(dir, 'host_key')}`,
			`AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
			'PubkeyAuthentication yes',
			'PasswordAuthentication no',
			'KbdInteractiveAuthentication no',
			'UsePAM no',
			'StrictModes no',
			'PermitRootLogin prohibit-password',
			`PidFile ${path.join(dir, 'sshd.pid')}`,
			'AllowTcpForwarding yes',
			'GatewayPorts no',
			'LogLevel INFO',
			'MaxSessions 50',
			'MaxStartups 50',
			// Sessions live in the test's folder, not in the real home directory.
			`SetEnv HOME=${path.join(dir, 'home')}`,
		].join('\n') + '\n',
	);
	await mkdir(path.join(dir, 'home'));
	const alias = options.alias ?? 'lyipc-test-host';
	const sshConfig = path.join(dir, 'ssh_config');
	await writeFile(
		sshConfig,
		[
			`Host ${alias}`,
			`  HostName ${listen}`,
			`  Port ${port}`,
			`  User ${userInfo().username}`,
			`  IdentityFile ${path.join(dir, 'client_key')}`,
			'  IdentitiesOnly yes',
			'  StrictHostKeyChecking no',
			'  UserKnownHostsFile /dev/null',
			'  LogLevel ERROR',
		].join('\n') + '\n',
	);
	const command = [SSHD, '-D', '-e', '-f', path.join(dir, 'sshd_config')];
	const sshd = netns ? execa('ip', ['netns', 'exec', netns.name, ...command], SSHD_OPTIONS) : execa(command[0]!, command.slice(1), SSHD_OPTIONS);
	const env = {LYIPC_SSH: `ssh -F ${sshConfig}`};
	let log = '';
	sshd.stderr?.on('data', (chunk: Buffer) => {
		log += chunk.toString('utf8');
	});
	const host: TestHost = {
		alias,
		sshConfig,
		port,
		env,
		dir,
		sshd,
		connections: () => log.split('\n').filter(line => line.includes('Accepted publickey')).length,
		async dropConnections() {
			// The per-connection sshd processes are the listener's children.
			await execa('pkill', ['-KILL', '-P', String(sshd.pid)], {reject: false});
		},
		async stop() {
			// Sessions first: they hold sshd's stderr open, and their end also ends lyipc's shared
			// (ControlPersist) client connections to this host.
			await host.dropConnections();
			sshd.kill('SIGKILL');
			await sshd;
			await netns?.remove();
			await rm(dir, {recursive: true, force: true});
		},
	};
	const deadline = Date.now() + 20_000;
	while (Date.now() < deadline) {
		const probe = await execa('ssh', ['-F', sshConfig, '-o', 'BatchMode=yes', alias, 'true'], {reject: false});
		if (probe.exitCode === 0) {
			return host;
		}

		if (sshd.exitCode !== undefined && sshd.exitCode !== null) {
			break;
		}

		await new Promise(resolve => {
			setTimeout(resolve, 200);
		});
	}

	await host.stop();
	throw new Error(`sshd did not come up on port ${port}: ${log}`);
}

/** Call in a describe block: one test host for its tests, gone afterwards. */
export function useSshd(options: {alias?: string; netns?: boolean} = {}): {readonly host: TestHost} {
	const state = {} as {host: TestHost};
	beforeAll(async () => {
		state.host = await startSshd(options);
	}, 60_000);
	afterAll(async () => {
		await state.host?.stop();
	});
	return state;
}
