import {existsSync, readFileSync} from 'node:fs';
import {chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, unlink, utimes} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import net from 'node:net';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {setTimeout as sleep} from 'node:timers/promises';
import {execa} from 'execa';
import {afterEach, expect, test} from 'vitest';
import {WARM_PROTOCOL, type WarmAnswer, WarmWorkerClient, WarmWorkerRuns, warmWorkerAddress, warmWorkerWanted} from '../../src/engine/warm-worker.js';
import {serveWarmWorker} from '../../src/engine/warm-worker-server.js';
import type {SuiteResult} from '../../src/suite/run-suite.js';
import type {CompareResult} from '../../src/xor/result.js';
import {makeSuiteTree, statusesOf, TREE_EXPECTED} from '../helpers/suite-tree.js';
import {WORKER_SCRIPT} from '../../src/engine/worker.js';
import {CLI, describeKLayout, FAKE_KLAYOUT, fixture, LYIPC_CLI, processAlive, processesMatching, ROOT, runCli, useTempDirs} from '../helpers/run.js';
import {klayoutStartupMs} from '../helpers/klayout-startup.js';
import {waitFor} from '../helpers/poll.js';

const KLAYOUT = process.env.KLAYOUT ?? '/usr/bin/klayout';
/** The server's own process, as lyipc-diff starts it. */
const SERVER_MAIN = path.join(ROOT, 'dist', 'src', 'engine', 'warm-worker-main.js');
/** A server that stops answering in one of several ways (see the script). */
const FAKE_SERVER = path.join(ROOT, 'test', 'fake-warm-server', 'serve');
/** A flat XOR of a cell placed 90,000 times: a job that keeps KLayout busy for a few seconds. */
const SLOW = ['placed_very_often_a.gds', 'placed_very_often_b.gds'] as const;

/** Every process whose command line names `text`, by pid. */
async function processesWith(text: string): Promise<number[]> {
	const {stdout} = await execa('pgrep', ['-f', text], {reject: false});
	return stdout.split('\n').filter(Boolean).map(Number);
}

/** The children of `pid` (the server's KLayout workers). */
async function childrenOf(pid: number): Promise<number[]> {
	const {stdout} = await execa('pgrep', ['-P', String(pid)], {reject: false});
	return stdout.split('\n').filter(Boolean).map(Number);
}

/** A file's text, or '' once it is gone (a process that exited). */
function readFileSyncSafe(file: string): string {
	try {
		return readFileSync(file, 'utf8');
	} catch {
		return '';
	}
}

/** CPU time `pid` has used, in clock ticks (utime + stime of /proc/PID/stat). */
async function cpuTicks(pid: number): Promise<number> {
	const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
	const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
	return Number(fields[11]) + Number(fields[12]);
}

/** The server's KLayout that works on a job: the one of its KLayouts running now whose CPU time grows by 0.2 s. */
async function busyKLayout(server: number): Promise<number> {
	const idle = new Map(await Promise.all((await childrenOf(server)).map(async pid => [pid, await cpuTicks(pid)] as const)));
	let busy: number | undefined;
	await waitFor('a KLayout of the server to work on the job', async () => {
		for (const [pid, ticks] of idle) {
			if ((await cpuTicks(pid)) - ticks >= 20) {
				busy = pid;
			}
		}

		return busy !== undefined;
	});
	return busy!;
}

/** Asks the server at `address` who it is and how many jobs it answered. */
async function hello(address: string): Promise<{pid: number; jobs: number; klayoutVersion: string}> {
	return new Promise((resolve, reject) => {
		const socket = net.connect(address, () => socket.write('{"id":1,"op":"hello"}\n'));
		let text = '';
		socket.setEncoding('utf8');
		socket.on('data', (chunk: string) => {
			text += chunk;
			if (text.includes('\n')) {
				socket.destroy();
				resolve((JSON.parse(text) as {result: {pid: number; jobs: number; klayoutVersion: string}}).result);
			}
		});
		socket.on('error', reject);
	});
}

/** The result without what differs from run to run (times, artifact folders). */
function stable(json: string): unknown {
	const result = JSON.parse(json) as CompareResult;
	return {...result, timings: null, artifacts: null, layers: result.layers.map(layer => ({...layer, ms: 0}))};
}

test('LYIPC_WARM_WORKER decides; otherwise on, except under CI', () => {
	expect(warmWorkerWanted({})).toBe(true);
	expect(warmWorkerWanted({CI: 'true'})).toBe(false);
	expect(warmWorkerWanted({CI: 'true', LYIPC_WARM_WORKER: '1'})).toBe(true);
	expect(warmWorkerWanted({LYIPC_WARM_WORKER: '0'})).toBe(false);
	expect(warmWorkerWanted({CI: 'false'})).toBe(true);
});

test('edited worker Python gets a server of its own: a running one keeps the code it started with', async () => {
	const dir = await mkdtemp(path.join(tmpdir(), 'lyipc-warm-key-'));
	const script = path.join(ROOT, 'klayout', 'lyipc_version.py');
	const before = await stat(script);
	const env = {LYIPC_WARM_WORKER_DIR: dir};
	try {
		const address = await warmWorkerAddress(process.execPath, env);
		expect(await warmWorkerAddress(process.execPath, env)).toBe(address);
		await utimes(script, before.atime, new Date(Date.now() + 3_600_000));
		expect(await warmWorkerAddress(process.execPath, env)).not.toBe(address);
	} finally {
		await utimes(script, before.atime, before.mtime);
		await rm(dir, {recursive: true, force: true});
	}
});

describeKLayout('warm worker between lyipc-diff calls', () => {
	const tempDir = useTempDirs('lyipc-warm-');
	const addresses: string[] = [];
	afterEach(async () => {
		for (const address of addresses.splice(0)) {
			for (const pid of await processesWith(address)) {
				process.kill(pid, 'SIGKILL');
			}
		}
	});

	async function setup(idleSeconds = 60) {
		const dir = await tempDir();
		const env = {LYIPC_WARM_WORKER: '1', LYIPC_WARM_WORKER_DIR: dir, LYIPC_WARM_WORKER_IDLE: String(idleSeconds), KLAYOUT, CI: 'true'};
		const address = (await warmWorkerAddress(KLAYOUT, env))!;
		addresses.push(address);
		const diff = async (a: string, b: string, ...args: string[]) => runCli([fixture(a), fixture(b), '--json', '--no-view', '--out-dir', path.join(dir, 'out'), ...args], {env});
		const serverPids = async () => processesWith(address);

		return {dir, env, address, diff, serverPids};
	}

	test("the first call starts one server, later calls use it, answers are a fresh KLayout's", async () => {
		const {address, diff, serverPids} = await setup();
		const fresh = await runCli([fixture('base.gds'), fixture('one_shape.gds'), '--json', '--no-view', '--no-warm-worker'], {env: {KLAYOUT}});
		const first = await diff('base.gds', 'one_shape.gds');
		const second = await diff('base.gds', 'one_shape.gds');
		expect([first.exitCode, second.exitCode, fresh.exitCode]).toEqual([1, 1, 1]);
		expect(stable(first.stdout)).toEqual(stable(fresh.stdout));
		expect(stable(second.stdout)).toEqual(stable(fresh.stdout));
		const [pid] = await serverPids();
		expect(await hello(address)).toMatchObject({pid, jobs: 2, klayoutVersion: (JSON.parse(fresh.stdout) as CompareResult).klayout!.version});
		// Identical bytes never reach KLayout, warm or not.
		expect((await diff('identical_a.gds', 'identical_a.gds')).exitCode).toBe(0);
		expect((await hello(address)).jobs).toBe(2);
	});

	test('directory mode: the runs take the warm KLayouts (none started by the run), with the same report', async () => {
		const {dir, env, address} = await setup();
		const {reference, output} = await makeSuiteTree(path.join(dir, 'tree'));
		const runDirs = async (...args: string[]) => {
			const run = await runCli([reference, output, '--json', '--out-dir', path.join(dir, 'report'), ...args], {env});
			expect(run.exitCode, run.stderr).toBe(2);
			return JSON.parse(run.stdout) as SuiteResult;
		};

		const first = await runDirs();
		const second = await runDirs();
		const fresh = await runDirs('--no-warm-worker');
		for (const result of [first, second, fresh]) {
			expect(statusesOf(result)).toEqual(TREE_EXPECTED);
		}

		expect(second.workers).toMatchObject({warm: true, started: 0});
		expect(fresh.workers.warm).toBe(false);
		expect(fresh.workers.started).toBeGreaterThan(0);
		const layers = (result: SuiteResult) => result.pairs.find(pair => pair.path === 'chip/ring.gds')!.result!.layers.map(layer => [layer.key, layer.xorCount, layer.xorArea]);
		expect(layers(second)).toEqual(layers(fresh));
		// The pairs that needed KLayout were answered by the server, on both runs.
		expect((await hello(address)).jobs).toBeGreaterThanOrEqual(4);
	});

	test("KLayout's start-up is reported apart: no pair's own time holds it, warm worker server or a run's own pool", async () => {
		const {dir, env} = await setup();
		const tree = path.join(dir, 'tree');
		// Pairs that are equal but not byte-identical: each needs KLayout.
		await mkdir(path.join(tree, 'ref'), {recursive: true});
		await mkdir(path.join(tree, 'run'));
		for (const name of ['a.gds', 'b.gds', 'c.gds']) {
			await copyFile(fixture('base.gds'), path.join(tree, 'ref', name));
			await copyFile(fixture('base_flat.gds'), path.join(tree, 'run', name));
		}

		const runDirs = async (...args: string[]) => {
			const run = await runCli([path.join(tree, 'ref'), path.join(tree, 'run'), '--json', '--out-dir', path.join(dir, 'report'), ...args], {env});
			expect(run.exitCode, run.stderr).toBe(0);
			return JSON.parse(run.stdout) as SuiteResult;
		};

		// No warm KLayout runs yet: the first run waits for the server and its KLayouts.
		for (const result of [await runDirs(), await runDirs('--no-warm-worker')]) {
			expect(result.timings.startupMs, JSON.stringify(result.timings)).toBeGreaterThan(300);
			for (const pair of result.pairs) {
				expect(pair.ms, `${pair.path}: ${JSON.stringify(result.timings)}`).toBeLessThan(result.timings.startupMs);
			}
		}

		// Warm now: nothing to wait for.
		expect((await runDirs()).timings.startupMs).toBeLessThan(300);
	});

	test("git's diff driver takes the warm KLayout too: git starts it once per file", async () => {
		const {env, address, serverPids} = await setup();
		const driver = async (b: string) => {
			// The 7 arguments git gives a diff driver: path, old file/hex/mode, new file/hex/mode.
			const run = await runCli(['git-diff', 'ring.gds', fixture('base.gds'), 'a'.repeat(40), '100644', fixture(b), 'b'.repeat(40), '100644'], {env: {...env, NO_COLOR: '1'}}, LYIPC_CLI);
			expect(run.exitCode, run.stderr).toBe(0);
			return run.stdout;
		};

		expect(await driver('one_shape.gds')).toContain('different: 1 of 4 layers differs');
		const [pid] = await serverPids();
		expect(await hello(address)).toMatchObject({pid, jobs: 1});
		expect(await driver('base_flat.gds')).toMatch(/identical: 4 layers compared/);
		expect(await hello(address)).toMatchObject({pid, jobs: 2});
	});

	test('concurrent first calls: one server answers them all, the others step back', async () => {
		const {address, diff, serverPids} = await setup();
		const runs = await Promise.all([diff('base.gds', 'one_shape.gds'), diff('base.gds', 'via_changed.gds'), diff('base.gds', 'base.oas')]);
		expect(
			runs.map(run => run.exitCode),
			runs.map(run => run.stderr).join('\n'),
		).toEqual([1, 1, 0]);
		await waitFor('one server', async () => (await serverPids()).length === 1);
		expect((await hello(address)).jobs).toBe(3);
	});

	test("a caller's mistake is reported as without the server, exit 2", async () => {
		const {diff} = await setup();
		for (const bad of ['truncated.gds', 'not_layout.gds']) {
			const warm = await diff('base.gds', bad);
			const fresh = await runCli([fixture('base.gds'), fixture(bad), '--no-view', '--json', '--no-warm-worker'], {env: {KLAYOUT}});
			expect(warm.exitCode).toBe(2);
			expect(JSON.parse(warm.stdout)).toEqual(JSON.parse(fresh.stdout));
		}

		// --strict-read reaches the warm worker: the READ_ERROR of a KLayout that cannot read the context cell (before 0.29).
		const warm = await diff('base.gds', 'newer_klayout.gds', '--strict-read');
		const fresh = await runCli([fixture('base.gds'), fixture('newer_klayout.gds'), '--no-view', '--json', '--no-warm-worker', '--strict-read'], {env: {KLAYOUT}});
		expect(warm.exitCode).toBe(fresh.exitCode);
		if (fresh.exitCode === 2) {
			expect(JSON.parse(warm.stdout)).toEqual(JSON.parse(fresh.stdout));
		}
	});

	test('idle for LYIPC_WARM_WORKER_IDLE seconds: the server and its KLayout stop, the socket goes', async () => {
		const {address, diff, serverPids} = await setup(1);
		expect((await diff('base.gds', 'one_shape.gds')).exitCode).toBe(1);
		const [pid] = await serverPids();
		const klayouts = await childrenOf(pid!);
		expect(klayouts.length).toBeGreaterThan(0);
		await waitFor('the idle server to stop', () => !processAlive(pid!) && klayouts.every(child => !processAlive(child)) && !existsSync(address));
	});

	test('a server killed outright: its KLayout goes too, the next call starts a new one', async () => {
		const {address, diff, serverPids} = await setup();
		expect((await diff('base.gds', 'one_shape.gds')).exitCode).toBe(1);
		const [pid] = await serverPids();
		const klayouts = await childrenOf(pid!);
		process.kill(pid!, 'SIGKILL');
		await waitFor('its KLayout to exit', () => klayouts.every(child => !processAlive(child)));
		expect(existsSync(address)).toBe(true); // left behind
		const next = await diff('base.gds', 'one_shape.gds');
		expect(next.exitCode).toBe(1);
		expect((await hello(address)).pid).not.toBe(pid);
	});

	test.each([
		['a server that drops the call', WARM_PROTOCOL],
		['a server of another build (another protocol), which would answer in its own way', WARM_PROTOCOL - 1],
	])('%s: a fresh KLayout answers the call', async (_what, protocol) => {
		const {address, diff, dir} = await setup();
		// Says hello like a server, then goes away with the job.
		const jobs: string[] = [];
		const server = net.createServer(socket => {
			socket.setEncoding('utf8');
			socket.on('data', (chunk: string) => {
				const request = JSON.parse(chunk.split('\n')[0]!) as {id: number; op: string};
				if (request.op === 'hello') {
					socket.write(JSON.stringify({id: request.id, ok: true, result: {protocol, pid: 1, klayout: {path: KLAYOUT, source: 'env'}, klayoutVersion: '0.0.0', jobs: 0}}) + '\n');
				} else {
					jobs.push(request.op);
					socket.destroy();
				}
			});
		});
		await new Promise<void>(resolve => {
			server.listen(address, resolve);
		});
		try {
			const run = await diff('base.gds', 'one_shape.gds');
			expect(run.exitCode).toBe(1);
			const result = JSON.parse(run.stdout) as CompareResult;
			expect(result.layers.find(layer => layer.key === '1/0')).toMatchObject({status: 'different', xorCount: 1});
			expect(result.klayout!.version).not.toBe('0.0.0');
			expect(await readdir(path.join(dir, 'out'))).toEqual(['base_vs_one_shape.xor.gds', 'base_vs_one_shape.xor.lyrdb']);
			// A server of another protocol is never sent a job.
			expect(jobs).toEqual(protocol === WARM_PROTOCOL ? ['xor'] : []);
		} finally {
			server.close();
		}
	});

	test.each([
		['says hello, then answers nothing more, not even a ping', 'silent-after-hello', 4],
		['answers pings but never hello', 'no-hello', 4],
		['answers hello and pings but never starts the job', 'loses-jobs', 2],
		['starts the job but never answers it', 'stalls-jobs', 3],
	])('a server that %s: a fresh KLayout answers the call within its --timeout and a fresh comparison', async (_what, how, timeoutSeconds) => {
		const {address, env} = await setup();
		const fake = execa(FAKE_SERVER, [address, String(WARM_PROTOCOL), how], {reject: false});
		try {
			await waitFor('the fake server to listen', () => existsSync(address));
			const began = performance.now();
			const run = await runCli([fixture('base.gds'), fixture('one_shape.gds'), '--json', '--no-view', '--timeout', String(timeoutSeconds)], {env, timeout: 60_000});
			const took = performance.now() - began;
			expect(run.exitCode, run.stderr).toBe(1);
			expect((JSON.parse(run.stdout) as CompareResult).klayout!.version).not.toBe('0.0.0');
			// Given up within the timeout (a quarter of it for hello, 2 s without a KLayout working, 2 s past it once started), then ~6 s for a fresh comparison on a loaded machine (more for a KLayout that starts slowly).
			expect(took).toBeLessThan((timeoutSeconds + 2) * 1000 + Math.max(6000, 3 * (await klayoutStartupMs())));
		} finally {
			fake.kill('SIGKILL');
			await fake;
		}
	});

	test('a server that lost the job after its KLayout died and it ran it again: WORKER_DIED, no third run here', async () => {
		const {address, env} = await setup();
		const fake = execa(FAKE_SERVER, [address, String(WARM_PROTOCOL), 'dies-twice'], {reject: false});
		try {
			await waitFor('the fake server to listen', () => existsSync(address));
			const run = await runCli([fixture('base.gds'), fixture('one_shape.gds'), '--json', '--no-view'], {env});
			// A fresh KLayout would have found the difference (exit 1).
			expect(run.exitCode, run.stdout).toBe(2);
			expect(JSON.parse(run.stdout)).toMatchObject({error: {code: 'WORKER_DIED', message: expect.stringContaining('which ran it again') as unknown}});
		} finally {
			fake.kill('SIGKILL');
			await fake;
		}
	});

	test.each(['before the call', 'mid-job'])('a server stopped (SIGSTOP) %s: a fresh KLayout answers the call within seconds', async when => {
		const {env, diff, serverPids} = await setup();
		expect((await diff('base.gds', 'one_shape.gds')).exitCode).toBe(1);
		const [pid] = await serverPids();
		let stopped = performance.now();
		if (when === 'before the call') {
			process.kill(pid!, 'SIGSTOP');
		}

		const running = runCli([fixture(SLOW[0]), fixture(SLOW[1]), '--json', '--no-view', '--mode', 'flat', '--timeout', '20'], {env, timeout: 40_000});
		if (when === 'mid-job') {
			await busyKLayout(pid!);
			process.kill(pid!, 'SIGSTOP');
			stopped = performance.now();
		}

		const run = await running;
		expect(run.exitCode, run.stderr).toBe(1);
		expect((JSON.parse(run.stdout) as CompareResult).layers.find(layer => layer.key === '1/0')).toMatchObject({status: 'different'});
		// 5 s of silence (before the call: hello's 5 s, a quarter of --timeout 20), then a fresh KLayout's start-up and the whole job (~3 s; ~10 s on a loaded machine, more for a KLayout that starts slowly).
		const took = performance.now() - stopped;
		expect(took).toBeLessThan(5000 + Math.max(10_000, 3 * (await klayoutStartupMs())));
	});

	test('lyipc-diff itself stopped (Ctrl+Z) and resumed mid-job: the server still answers it, no fresh KLayout', async () => {
		const {dir, env, address, diff, serverPids} = await setup();
		expect((await diff('base.gds', 'one_shape.gds')).exitCode).toBe(1);
		const [pid] = await serverPids();
		const call = execa(process.execPath, [CLI, fixture(SLOW[0]), fixture(SLOW[1]), '-q', '--no-view', '--mode', 'flat', '--out-dir', path.join(dir, 'out')], {env, reject: false, timeout: 60_000});
		await busyKLayout(pid!);
		call.kill('SIGSTOP');
		await sleep(8000); // longer than the 5 s a silent server is given
		call.kill('SIGCONT');
		let fresh: number[] = [];
		while (call.exitCode === null && fresh.length === 0) {
			fresh = await processesMatching(WORKER_SCRIPT, call.pid);
			await sleep(20);
		}

		expect((await call).exitCode).toBe(1);
		expect(fresh).toEqual([]);
		expect((await hello(address)).jobs).toBe(2);
	});

	test('its KLayout killed mid-job: the server runs the job again on another KLayout', async () => {
		const {address, diff, serverPids} = await setup();
		expect((await diff('base.gds', 'one_shape.gds')).exitCode).toBe(1);
		const [pid] = await serverPids();
		const running = diff(SLOW[0], SLOW[1], '--mode', 'flat');
		const busy = await busyKLayout(pid!);
		// The server needs a new KLayout: the folder of the call that started it is gone by now (runCli removes it).
		process.kill(busy, 'SIGKILL');
		const warm = await running;
		const fresh = await runCli([fixture(SLOW[0]), fixture(SLOW[1]), '--json', '--no-view', '--mode', 'flat', '--no-warm-worker'], {env: {KLAYOUT}});
		expect(warm.exitCode, warm.stderr).toBe(1);
		expect(stable(warm.stdout)).toEqual(stable(fresh.stdout));
		// The same server answered it, on a KLayout of its own.
		expect(await hello(address)).toMatchObject({pid, jobs: 2});
		expect(await childrenOf(pid!)).not.toContain(busy);
	});

	test("a server that stops removes its socket only while it is its own, never a newer server's", async () => {
		const dir = await tempDir();
		const address = path.join(dir, 'warm.sock');
		addresses.push(address);
		const serve = (idleSeconds: number) =>
			execa(process.execPath, [SERVER_MAIN, address], {env: {...process.env, LYIPC_WARM_KLAYOUT: KLAYOUT, LYIPC_WARM_WORKER_IDLE: String(idleSeconds)}, reject: false});
		const first = serve(3);
		await waitFor('the first server to listen', () => existsSync(address));
		expect((await hello(address)).pid).toBe(first.pid);
		// Its socket deleted (by hand, a tmp cleaner), a second server takes the address.
		await unlink(address);
		const second = serve(60);
		await waitFor('the second server to listen', () => existsSync(address));
		expect((await hello(address)).pid).toBe(second.pid);
		expect((await first).exitCode).toBe(0); // idle for 3 s
		expect(existsSync(address)).toBe(true);
		expect((await hello(address)).pid).toBe(second.pid);
		expect(await readdir(dir)).toEqual(['warm.sock']);
	});

	test('idle, the server keeps one KLayout: those started for a burst of jobs stop after spareIdleMs, and start again for the next', async () => {
		const dir = await tempDir();
		const address = path.join(dir, 'warm.sock');
		// Stops once idle for 5 s: after the test's jobs.
		const serving = serveWarmWorker(address, {klayout: KLAYOUT, idleMs: 5000, size: 2, spareIdleMs: 1500});
		await waitFor('the server to listen', () => existsSync(address));
		const klayouts = async () => (await childrenOf(process.pid)).filter(pid => existsSync(`/proc/${pid}`) && readFileSyncSafe(`/proc/${pid}/cmdline`).includes('worker.py'));
		const socket = net.connect(address);
		let answered = 0;
		socket.setEncoding('utf8');
		socket.on('data', (chunk: string) => {
			answered += chunk.split('\n').filter(line => line.includes('"ok"')).length;
		});
		const burst = async (first: number) => {
			const job = (id: number) => JSON.stringify({id, op: 'xor', params: {a: fixture('base.gds'), b: fixture('placed_often_a.gds'), mode: 'flat'}});
			const before = answered;
			socket.write(`${job(first)}\n${job(first + 1)}\n${job(first + 2)}\n`);
			await waitFor('the answers', () => answered === before + 3, 60_000);
		};

		try {
			await burst(1);
			expect(await klayouts()).toHaveLength(2);
			await waitFor('the spare KLayout to stop', async () => (await klayouts()).length === 1, 10_000);
			await sleep(1000);
			expect(await klayouts()).toHaveLength(1); // the last one stays, for the next call
			await burst(4);
			expect(await klayouts()).toHaveLength(2);
		} finally {
			socket.destroy();
			await serving;
			expect(await klayouts()).toEqual([]);
		}
	});

	test('more jobs than KLayouts wait at the server, which says how long each waited', async () => {
		const dir = await tempDir();
		const address = path.join(dir, 'warm.sock');
		// Stops once idle for a second: after the test's two jobs.
		const serving = serveWarmWorker(address, {klayout: KLAYOUT, idleMs: 1000, size: 1});
		await waitFor('the server to listen', () => existsSync(address));
		const socket = net.connect(address);
		const answers: Array<{id: number; result: WarmAnswer}> = [];
		/** When each job's `started` line came. */
		const started = new Map<number, number>();
		socket.setEncoding('utf8');
		let text = '';
		socket.on('data', (chunk: string) => {
			text += chunk;
			const lines = text.split('\n');
			text = lines.pop()!;
			for (const line of lines.map(line => JSON.parse(line) as {id: number; result: WarmAnswer; event?: string})) {
				if (line.event === 'started') {
					started.set(line.id, performance.now());
				} else {
					answers.push(line);
				}
			}
		});
		const job = (id: number) => ({id, op: 'xor', params: {a: fixture('base.gds'), b: fixture('placed_often_a.gds'), mode: 'flat'}});
		socket.write(`${JSON.stringify(job(1))}\n${JSON.stringify(job(2))}\n`);
		try {
			await waitFor('both answers', () => answers.length === 2, 60_000);
			const [first, second] = answers as [(typeof answers)[number], (typeof answers)[number]];
			const took = (answer: WarmAnswer) => (answer.result as {timings: {readMs: number; xorMs: number}}).timings;
			// One KLayout: the second job waited for the whole of the first (both for its start-up).
			expect(second.result.waitedMs).toBeGreaterThanOrEqual(took(first.result).readMs + took(first.result).xorMs);
			expect(first.result.waitedMs).toBeLessThan(second.result.waitedMs);
			// Each job is said to start when the KLayout takes it (its timeout runs from then): the second after the first's work.
			expect(started.get(2)! - started.get(1)!).toBeGreaterThanOrEqual(took(first.result).readMs + took(first.result).xorMs);
		} finally {
			socket.destroy();
			await serving;
		}
	});

	/**
	 * A warm worker server, a process of its own, whose KLayouts are the fake `program` with
	 * `settings` and FAKE_KLAYOUT_LOG `log`; `env` for its client (a fresh KLayout it starts is the same fake).
	 */
	async function fakeServer(program: string, settings: Record<string, string>) {
		const dir = await tempDir();
		const klayout = path.join(FAKE_KLAYOUT, program);
		const log = path.join(dir, 'log');
		const env = {...process.env, ...settings, FAKE_KLAYOUT_LOG: log, LYIPC_WARM_WORKER_DIR: dir};
		const address = (await warmWorkerAddress(klayout, env))!;
		addresses.push(address);
		const server = execa(process.execPath, [SERVER_MAIN, address], {env: {...env, LYIPC_WARM_KLAYOUT: klayout, LYIPC_WARM_WORKER_IDLE: '60'}, reject: false});
		await waitFor('the server to listen', () => existsSync(address));
		return {klayout, env, address, server, log};
	}

	test('jobs waiting at the server for a KLayout are never given up for that: 4 jobs on its 2 KLayouts, each taking most of its timeout', async () => {
		const {klayout, env, address, server} = await fakeServer('slow-jobs', {FAKE_JOB_MS: '4000'});
		const runs = new WarmWorkerRuns({klayout, env});
		try {
			const began = performance.now();
			const pids = await Promise.all(Array.from({length: 4}, async () => runs.run(async worker => (await worker.request<{pid: number}>('xor', {}, {timeout: 5000})).pid)));
			// Two rounds of 4 s: the last two jobs were answered after more than their 5 s and the 2 s margin since they were sent.
			expect(performance.now() - began).toBeGreaterThan(8000);
			const klayouts = await childrenOf(server.pid!);
			expect(klayouts).toHaveLength(2);
			expect(
				pids.every(pid => klayouts.includes(pid)),
				`${pids.join()} from ${klayouts.join()}`,
			).toBe(true);
			expect((await hello(address)).jobs).toBe(4);
		} finally {
			await runs.close();
			server.kill('SIGKILL');
			await server;
		}
	});

	test('a job whose KLayout dies twice on the server: WORKER_DIED, never run a third time; each run has its whole timeout', async () => {
		const {klayout, env, server, log} = await fakeServer('crash-on-job', {FAKE_CRASH_AFTER_MS: '3500'});
		const client = new WarmWorkerClient({klayout, env});
		try {
			const began = performance.now();
			await expect(client.request('xor', {}, {timeout: 4000})).rejects.toMatchObject({
				code: 'WORKER_DIED',
				message: expect.stringMatching(/KLayout died twice on this job: .*killed by SIGSEGV/) as unknown,
			});
			// Two runs of 3.5 s: more than one run's 4 s and 2 s margin, and no run here after that.
			expect(performance.now() - began).toBeGreaterThan(7000);
			expect((await readFile(log, 'utf8')).trim().split('\n')).toHaveLength(2);
		} finally {
			await client.close();
			server.kill('SIGKILL');
			await server;
		}
	});

	test('off under CI, with --no-warm-worker, and when the socket folder is open to others', async () => {
		const {dir, env, address, diff} = await setup();
		const run = async (extra: Record<string, string>, ...args: string[]) => runCli([fixture('base.gds'), fixture('one_shape.gds'), '--no-view', '-q', ...args], {env: {...env, ...extra}});
		expect((await run({LYIPC_WARM_WORKER: ''})).exitCode).toBe(1); // CI=true
		expect((await diff('base.gds', 'one_shape.gds', '--no-warm-worker')).exitCode).toBe(1);
		expect(await readdir(path.dirname(address))).toEqual([]);
		const open = path.join(dir, 'open');
		await mkdir(path.join(open, `lyipc-${process.getuid!()}`), {recursive: true});
		await chmod(path.join(open, `lyipc-${process.getuid!()}`), 0o755);
		expect((await run({LYIPC_WARM_WORKER_DIR: open})).exitCode).toBe(1);
		expect(await readdir(path.join(open, `lyipc-${process.getuid!()}`))).toEqual([]);
	});
});
