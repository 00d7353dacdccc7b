import {randomBytes} from 'node:crypto';
import {chmod, mkdir, mkdtemp, readFile, readlink, rm, writeFile} from 'node:fs/promises';
import {hostname, tmpdir} from 'node:os';
import path from 'node:path';
import {execa} from 'execa';
import {freePort} from './gui.js';
import {processAlive} from './run.js';
import {makeNetns, type Netns} from './netns.js';
import {waitFor} from './poll.js';
import {describeNeeding} from './skip.js';

/** Tests that need a real Slurm cluster (Debian's slurmctld, slurmd, slurm-client, munge): LYIPC_TEST_SKIP_SLURM=1 skips them locally. */
export const describeSlurm = describeNeeding('LYIPC_TEST_SKIP_SLURM', 'run a Slurm cluster');

export interface TestCluster {
	/** SLURM_CONF for srun, squeue and scancel (and lyipc-diff --slurm). */
	env: NodeJS.ProcessEnv;
	dir: string;
	/** The nodes: this machine's, and a second one in a network namespace where the machine allows it. */
	nodes: string[];
	/** The jobs in the queue (pending or running), as squeue lists them. */
	jobs(): Promise<string[]>;
	/** How many tasks `node`'s slurmd has launched so far. */
	launchesOn(node: string): Promise<number>;
	stop(): Promise<void>;
}

/**
 * A Slurm cluster for one test file, as root: munged with a key made here, slurmctld and slurmd
 * with a generated slurm.conf (no accounting, Linux process tracking), everything under a temp
 * folder. With `secondNode`, where the machine allows network namespaces, a second slurmd runs
 * in one (its own address, reached over a veth link) as another node; else one node on
 * loopback. Resolves once `srun` runs a task on every node.
 */
export async function startCluster(options: {secondNode?: boolean} = {}): Promise<TestCluster> {
	const dir = await mkdtemp(path.join(tmpdir(), 'lyipc-slurm-'));
	for (const sub of ['state', 'spool', 'log']) {
		await mkdir(path.join(dir, sub));
	}

	const key = path.join(dir, 'munge.key');
	await writeFile(key, randomBytes(1024));
	await chmod(key, 0o400);
	const socket = path.join(dir, 'munge.sock');
	const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
	const node = hostname();
	const netns: Netns | null = options.secondNode ? await makeNetns() : null;
	const here = netns?.hostAddress ?? '127.0.0.1';
	const nodes = netns ? [node, 'node2'] : [node];
	const conf = path.join(dir, 'slurm.conf');
	await writeFile(
		conf,
		[
			'ClusterName=lyipctest',
			`SlurmctldHost=${node}(${here})`,
			`SlurmctldPort=${ctldPort}`,
			`SlurmdPort=${slurmdPort}`,
			'SlurmUser=root',
			'SlurmdUser=root',
			'AuthType=auth/munge',
			'CredType=cred/munge',
			`AuthInfo=socket=${socket}`,
			`StateSaveLocation=${dir}/state`,
			`SlurmdSpoolDir=${dir}/spool/%n`,
			`SlurmctldPidFile=${dir}/slurmctld.pid`,
			`SlurmdPidFile=${dir}/slurmd-%n.pid`,
			`SlurmctldLogFile=${dir}/log/slurmctld.log`,
			`SlurmdLogFile=${dir}/log/slurmd-%n.log`,
			'ProctrackType=proctrack/linuxproc',
			'TaskPlugin=task/none',
			'JobAcctGatherType=jobacct_gather/none',
			'AccountingStorageType=accounting_storage/none',
			'SchedulerType=sched/builtin',
			'SelectType=select/cons_tres',
			'SelectTypeParameters=CR_CPU',
			'ReturnToService=2',
			'MpiDefault=none',
			// Room for a few workers on this one machine, whatever its core count.
			'SlurmdParameters=config_overrides',
			`NodeName=${node} NodeAddr=${here} CPUs=${netns ? 2 : 4} State=UNKNOWN`,
			...(netns ? [`NodeName=node2 NodeAddr=${netns.address} CPUs=2 State=UNKNOWN`] : []),
			'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES',
			'',
		].join('\n'),
	);
	const env = {...process.env, SLURM_CONF: conf};
	const cluster: TestCluster = {
		env,
		dir,
		nodes,
		async launchesOn(name) {
			const log = await readFile(path.join(dir, 'log', `slurmd-${name}.log`), 'utf8').catch(() => '');
			return log.split('\n').filter(line => line.includes('launch task')).length;
		},
		async jobs() {
			const listed = await execa('squeue', ['--noheader', '--format=%i %j %T'], {env});
			return String(listed.stdout).split('\n').filter(Boolean);
		},
		async stop() {
			// Job steps a failed test left running (slurmstepd, detached from its slurmd, and the
			// workers under it) would outlive the cluster: found by their working folder, ours.
			for (const stepd of (await execa('pgrep', ['-x', 'slurmstepd'], {reject: false})).stdout.split('\n').filter(Boolean)) {
				if ((await readlink(`/proc/${stepd}/cwd`).catch(() => '')).startsWith(dir)) {
					await execa('pkill', ['-KILL', '-P', stepd], {reject: false});
					await execa('kill', ['-KILL', stepd], {reject: false});
				}
			}

			const pids: number[] = [];
			for (const pidFile of [...nodes.map(name => `slurmd-${name}.pid`), 'slurmctld.pid', 'munged.pid']) {
				const pid = Number(await readFile(path.join(dir, pidFile), 'utf8').catch(() => ''));
				if (pid > 0) {
					pids.push(pid);
					try {
						process.kill(pid, 'SIGTERM');
					} catch {
						// gone already
					}
				}
			}

			// slurmctld saves its state as it stops: its folder goes only once it has.
			await waitFor('the test cluster to stop', () => pids.every(pid => !processAlive(pid)), 20_000).catch(() => {
				for (const pid of pids.filter(processAlive)) {
					process.kill(pid, 'SIGKILL');
				}
			});
			await netns?.remove();
			await rm(dir, {recursive: true, force: true, maxRetries: 5});
		},
	};
	try {
		// -f: run although the temp folder's permissions are not munge's usual ones.
		await execa('munged', ['-f', `--key-file=${key}`, `--socket=${socket}`, `--pid-file=${dir}/munged.pid`, `--log-file=${dir}/log/munged.log`, `--seed-file=${dir}/munge.seed`]);
		await execa('slurmctld', ['-c', '-f', conf], {env});
		await execa('slurmd', ['-c', '-f', conf], {env});
		if (netns) {
			// nsenter, not `ip netns exec`: that one mounts a /sys of its own, without the cgroups slurmd reads.
			await execa('nsenter', [`--net=/run/netns/${netns.name}`, 'slurmd', '-c', '-f', conf, '-N', 'node2'], {env});
		}

		await waitFor(
			'the test cluster running a task on every node',
			async () => (await execa('srun', ['--quiet', `--nodes=${nodes.length}`, `--ntasks=${nodes.length}`, 'true'], {env, reject: false, timeout: 10_000})).exitCode === 0,
			30_000,
		);
	} catch (error) {
		const log = await readFile(path.join(dir, 'log', 'slurmctld.log'), 'utf8').catch(() => '');
		await cluster.stop();
		throw new Error(`the test Slurm cluster did not come up: ${(error as Error).message}\nslurmctld.log ends:\n${log.split('\n').slice(-8).join('\n')}`);
	}

	return cluster;
}
