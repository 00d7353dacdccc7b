import {mkdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {execa} from 'execa';
import {afterAll, beforeAll, expect, test} from 'vitest';
import type {SuiteResult} from '../../src/suite/run-suite.js';
import {waitFor} from '../helpers/poll.js';
import {CLI, expectUsageErrors, runCli, useTempDirs} from '../helpers/run.js';
import {describeSlurm, startCluster, type TestCluster} from '../helpers/slurm.js';
import {makeSuiteTree, statusesOf, TREE_EXPECTED} from '../helpers/suite-tree.js';

const tempDir = useTempDirs('lyipc-slurm-test-');

test('--slurm without Slurm: a clear exit 2; its options checked', async () => {
	const root = await tempDir();
	const {reference, output} = await makeSuiteTree(root);
	const none = await runCli([reference, output, '--slurm'], {env: {PATH: path.join(root, 'no-bin')}});
	expect(none.exitCode).toBe(2);
	expect(none.stderr).toContain('lyipc-diff: --slurm: srun is not on the PATH');
	await expectUsageErrors([
		[[reference, output, '--slurm-args=--time=5'], /--slurm-args goes with --slurm/],
		[[reference, output, '--slurm', '--remote', 'host'], /--remote is another way/],
		[[reference, output, '--slurm', '--klayout', '/usr/bin/klayout'], /LYIPC_SLURM_KLAYOUT names the nodes' one/],
	]);
});

/** A flat-mode comparison that keeps a worker busy for seconds (here ~4 s): 562,500 boxes of an array, so a kill at 2 s lands mid-job on a faster machine too. */
async function slowPair(root: string): Promise<{reference: string; output: string}> {
	const script = path.join(root, 'slow.py');
	await writeFile(
		script,
		[
			'import os, pya',
			'for name in ("ref", "run"):',
			'    layout = pya.Layout()',
			'    top = layout.create_cell("TOP")',
			'    unit = layout.create_cell("UNIT")',
			'    li = layout.layer(1, 0)',
			'    unit.shapes(li).insert(pya.Box(0, 0, 1000, 1000))',
			'    top.insert(pya.CellInstArray(unit.cell_index(), pya.Trans(), pya.Vector(2000, 0), pya.Vector(0, 2000), 750, 750))',
			'    if name == "run":',
			'        top.shapes(li).insert(pya.Box(-5000, -5000, -4000, -4000))',
			'    layout.write(os.path.join(os.environ["ROOT"], name, "chip.gds"))',
			'',
		].join('\n'),
	);
	await mkdir(path.join(root, 'ref'));
	await mkdir(path.join(root, 'run'));
	await execa('klayout', ['-b', '-r', script], {env: {ROOT: root}});
	return {reference: path.join(root, 'ref'), output: path.join(root, 'run')};
}

/** KLayout worker processes started by Slurm (their parent chain holds slurmstepd), with their age in seconds. */
async function slurmWorkers(): Promise<Array<{pid: number; age: number}>> {
	const listed = await execa('ps', ['-eo', 'pid=,ppid=,etimes=,args='], {reject: false});
	const rows = String(listed.stdout)
		.split('\n')
		.map(line => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line))
		.filter(match => match !== null)
		.map(match => ({pid: Number(match[1]), ppid: Number(match[2]), age: Number(match[3]), args: match[4]!}));
	const byPid = new Map(rows.map(row => [row.pid, row]));
	const underStepd = (row: (typeof rows)[number]): boolean => {
		for (let parent = byPid.get(row.ppid); parent; parent = byPid.get(parent.ppid)) {
			if (parent.args.startsWith('slurmstepd')) {
				return true;
			}
		}

		return false;
	};

	return rows.filter(row => row.args.includes('worker.py') && !row.args.startsWith('srun') && underStepd(row)).map(({pid, age}) => ({pid, age}));
}

describeSlurm('--slurm: workers as tasks of a real Slurm cluster', () => {
	let cluster: TestCluster;
	beforeAll(async () => {
		cluster = await startCluster({secondNode: true});
	}, 60_000);
	afterAll(async () => {
		await cluster?.stop();
	});

	test('no controller answering: exit 2 before any pair, saying so', async () => {
		const root = await tempDir();
		const conf = path.join(root, 'slurm.conf');
		await writeFile(conf, 'ClusterName=gone\nSlurmctldHost=localhost(127.0.0.1)\nSlurmctldPort=1\n');
		const run = await runCli([path.join(root, 'a'), path.join(root, 'b'), '--slurm'], {env: {SLURM_CONF: conf}});
		expect(run.exitCode).toBe(2);
		expect(run.stderr).toContain('lyipc-diff: --slurm: the Slurm controller does not answer (sinfo:');
	});

	test('a Slurm run gives the same report as a local run, and leaves nothing in the queue', async () => {
		const root = await tempDir();
		const {reference, output} = await makeSuiteTree(root);
		const local = await runCli([reference, output, '--workers', '2', '--out-dir', path.join(root, 'local'), '--json']);
		const slurm = await runCli([reference, output, '--slurm', '--workers', '2', '--out-dir', path.join(root, 'slurm'), '--json'], {env: cluster.env});
		expect(slurm.exitCode, slurm.stderr).toBe(local.exitCode);
		const [mine, theirs] = [JSON.parse(local.stdout) as SuiteResult, JSON.parse(slurm.stdout) as SuiteResult];
		expect(statusesOf(theirs)).toEqual(TREE_EXPECTED);
		expect(statusesOf(theirs)).toEqual(statusesOf(mine));
		expect(theirs.counts).toEqual(mine.counts);
		const ring = theirs.pairs.find(pair => pair.path === 'chip/ring.gds')!;
		expect(ring.result!.layers.map(layer => [layer.key, layer.xorCount])).toEqual(mine.pairs.find(pair => pair.path === 'chip/ring.gds')!.result!.layers.map(layer => [layer.key, layer.xorCount]));
		// Artifacts where a local run puts them: the cluster shares the filesystem.
		expect(ring.result!.artifacts.xor).toBe(path.join(root, 'slurm', 'chip', 'ring.xor.gds'));
		expect(ring.result!.klayout!.path).toBe('slurm:klayout');
		await waitFor('an empty queue', async () => (await cluster.jobs()).length === 0, 20_000);

		// One pair, in the library's way too.
		const single = await runCli([path.join(reference, 'chip', 'ring.gds'), path.join(output, 'chip', 'ring.gds'), '--slurm', '--json', '--out-dir', path.join(root, 'single')], {env: cluster.env});
		expect(single.exitCode, single.stderr).toBe(1);
		expect(JSON.parse(single.stdout)).toMatchObject({status: 'different', differentLayers: 1, klayout: {path: 'slurm:klayout'}});
	});

	test('inside an allocation (salloc): the workers are its job steps, as many as its tasks', async () => {
		const root = await tempDir();
		const {reference, output} = await makeSuiteTree(root);
		const run = await execa('salloc', ['--ntasks=2', '--quiet', process.execPath, CLI, reference, output, '--slurm', '--out-dir', path.join(root, 'out'), '--json'], {
			env: cluster.env,
			reject: false,
			cwd: root,
		});
		expect(run.exitCode, String(run.stderr)).toBe(2);
		const result = JSON.parse(String(run.stdout)) as SuiteResult;
		expect(statusesOf(result)).toEqual(TREE_EXPECTED);
		expect(result.workers.size).toBe(2); // SLURM_NTASKS of the allocation
		await waitFor('an empty queue', async () => (await cluster.jobs()).length === 0, 20_000);
	});

	test('the pool spreads the pairs over the nodes (a second node in a network namespace)', async ({skip}) => {
		// Locally a machine without network namespaces (not root) has one node; CI must have two.
		if (cluster.nodes.length < 2 && process.env.CI !== 'true') {
			skip('this machine does not allow network namespaces: one node only');
		}

		expect(cluster.nodes).toHaveLength(2);

		const root = await tempDir();
		const {reference, output} = await slowPair(root);
		for (const copy of ['chip2.gds', 'chip3.gds', 'chip4.gds']) {
			await execa('cp', [path.join(reference, 'chip.gds'), path.join(reference, copy)]);
			await execa('cp', [path.join(output, 'chip.gds'), path.join(output, copy)]);
		}

		const before = await Promise.all(cluster.nodes.map(async node => cluster.launchesOn(node)));
		const run = await runCli([reference, output, '--slurm', '--workers', '4', '--mode', 'flat', '--json', '--out-dir', path.join(root, 'out')], {env: cluster.env});
		expect(run.exitCode, run.stderr).toBe(1);
		const result = JSON.parse(run.stdout) as SuiteResult;
		expect(result.pairs.map(pair => pair.status)).toEqual(['different', 'different', 'different', 'different']);
		const after = await Promise.all(cluster.nodes.map(async node => cluster.launchesOn(node)));
		// Two CPUs per node: four workers at once need both.
		expect(
			after.map((count, index) => count - before[index]!).every(count => count > 0),
			`tasks launched per node: ${after.join(', ')}`,
		).toBe(true);
	});

	test('a worker killed mid-comparison is replaced and its pair compared again', async () => {
		const root = await tempDir();
		const {reference, output} = await slowPair(root);
		const run = execa(process.execPath, [CLI, reference, output, '--slurm', '--workers', '1', '--mode', 'flat', '--json', '--out-dir', path.join(root, 'out')], {
			env: cluster.env,
			reject: false,
			cwd: root,
		});
		// KLayout starts in about a second and takes the job at once; the job runs for seconds.
		let killed = false;
		await waitFor(
			'a busy Slurm worker to kill',
			async () => {
				const busy = (await slurmWorkers()).find(worker => worker.age >= 2);
				if (busy) {
					process.kill(busy.pid, 'SIGKILL');
					killed = true;
				}

				return killed;
			},
			30_000,
		);
		const done = await run;
		expect(done.exitCode, String(done.stderr)).toBe(1);
		const result = JSON.parse(String(done.stdout)) as SuiteResult;
		expect(result.pairs).toHaveLength(1);
		expect(result.pairs[0]).toMatchObject({path: 'chip.gds', status: 'different', attempts: 2});
		expect(result.workers.started).toBe(2);
		await waitFor('an empty queue', async () => (await cluster.jobs()).length === 0, 20_000);
	});

	test('Ctrl+C while workers run: exit 2 and no job left in the queue', async () => {
		const root = await tempDir();
		const {reference, output} = await slowPair(root);
		const run = execa(process.execPath, [CLI, reference, output, '--slurm', '--workers', '2', '--mode', 'flat', '--out-dir', path.join(root, 'out')], {
			env: cluster.env,
			reject: false,
			cwd: root,
		});
		await waitFor("the run's job in the queue", async () => (await cluster.jobs()).some(job => job.includes('lyipc-')), 30_000);
		await sleep(500);
		run.kill('SIGINT');
		const done = await run;
		expect(done.exitCode).toBe(2);
		await waitFor('an empty queue', async () => (await cluster.jobs()).length === 0, 20_000);
		expect(await slurmWorkers()).toEqual([]);
	});

	test('Ctrl+C inside an allocation that lives on: no job step of the run left, no worker running', async () => {
		const root = await tempDir();
		const {reference, output} = await slowPair(root);
		// The allocation outlives lyipc-diff: what the shell lists after the run is what the run left behind.
		const steps = 'squeue --steps --noheader --jobs="$SLURM_JOB_ID" --format="%i %j"';
		const script = [
			`"${process.execPath}" "${CLI}" "${reference}" "${output}" --slurm --mode flat --out-dir "${path.join(root, 'out')}" >/dev/null 2>&1 &`,
			'run=$!',
			`for i in $(seq 300); do ${steps} | grep -q lyipc- && break; sleep 0.1; done`,
			'sleep 1',
			'kill -INT $run',
			'wait $run',
			'echo "exit $?"',
			`for i in $(seq 100); do ${steps} | grep -q lyipc- || break; sleep 0.1; done`,
			`echo "steps: $(${steps} | grep lyipc- | tr '\\n' ' ')"`,
		].join('\n');
		const run = await execa('salloc', ['--ntasks=2', '--quiet', 'sh', '-c', script], {env: cluster.env, reject: false, cwd: root});
		expect(run.stdout, String(run.stderr)).toContain('exit 2');
		expect(run.stdout).toMatch(/^steps: $/m);
		await waitFor('no Slurm worker running', async () => (await slurmWorkers()).length === 0, 10_000);
	});
});
