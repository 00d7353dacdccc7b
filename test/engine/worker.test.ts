import {spawnSync} from 'node:child_process';
import {mkdir, readdir, symlink, writeFile} from 'node:fs/promises';
import {setTimeout as delay} from 'node:timers/promises';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {KLayoutWorker} from '../../src/engine/worker.js';
import {describeKLayout, FAKE_KLAYOUT, fixture, processAlive, processesMatching, useTempDirs} from '../helpers/run.js';
import {waitFor} from '../helpers/poll.js';

async function waitGone(pid: number | undefined): Promise<boolean> {
	for (let i = 0; i < 100 && processAlive(pid); i++) {
		await delay(50);
	}

	return !processAlive(pid);
}

describeKLayout('KLayoutWorker with the real KLayout', () => {
	let worker: KLayoutWorker;
	beforeAll(async () => {
		worker = await KLayoutWorker.start();
	});
	afterAll(async () => {
		await worker.close();
	});

	test('says hello with the KLayout version', async () => {
		expect(worker.klayoutVersion).toMatch(/^0\.(2[89]|3\d)\./);
		const hello = await worker.request<{protocol: number; klayout: string; pid: number}>('hello');
		expect(hello).toEqual({protocol: 1, klayout: worker.klayoutVersion, pid: expect.any(Number)});
		expect(worker.alive).toBe(true);
	});

	test('queued jobs run one after the other and each gets its own answer', async () => {
		const jobs = ['base.gds', 'one_shape.gds', 'extra_layer.gds'].map(async name =>
			worker.request<{identical: boolean; layers: unknown[]}>('xor', {a: fixture('base.gds'), b: fixture(name), threads: 1}),
		);
		const results = await Promise.all(jobs);
		expect(results.map(result => result.identical)).toEqual([true, false, false]);
		expect(results.map(result => result.layers.length)).toEqual([4, 4, 5]);
	});

	test('a job error is a coded rejection, and the worker carries on', async () => {
		await expect(worker.request('xor', {a: fixture('truncated.gds'), b: fixture('base.gds')})).rejects.toMatchObject({
			code: 'READ_ERROR',
			path: fixture('truncated.gds'),
			message: expect.stringMatching(/truncated\.gds: cannot read layout A: Unexpected end-of-file/),
		});
		await expect(worker.request('frobnicate')).rejects.toMatchObject({code: 'BAD_REQUEST', message: "unknown op 'frobnicate'"});
		await expect(worker.request('xor', {a: fixture('base.gds'), b: fixture('base.gds'), topA: 'NOPE'})).rejects.toMatchObject({code: 'TOP_CELL_NOT_FOUND'});
		expect(await worker.request('hello')).toMatchObject({protocol: 1});
	});
});

describeKLayout('scratch folders of a KLayout killed outright', () => {
	const tempDir = useTempDirs('lyipc-scratch-');

	test("a new worker removes this user's folders of dead workers, nothing else", async () => {
		const tmp = await tempDir();
		const gone = spawnSync('true').pid!; // a pid no process has now
		const dead = path.join(tmp, `lyipc-context-${gone}-x1y2`);
		const alive = path.join(tmp, `lyipc-context-${process.pid}-a1b2`);
		const target = path.join(tmp, 'kept');
		await Promise.all([mkdir(dead), mkdir(alive), mkdir(target)]);
		await writeFile(path.join(dead, 'layout.gds'), 'a copy');
		await writeFile(path.join(target, 'file'), "the user's");
		await symlink(target, path.join(tmp, `lyipc-context-${gone}-link`));
		await writeFile(path.join(tmp, `lyipc-context-${gone}-file`), '');

		const worker = await KLayoutWorker.start({env: {...process.env, TMPDIR: tmp}});
		try {
			expect(await worker.request('hello')).toMatchObject({protocol: 1});
			expect((await readdir(tmp)).sort()).toEqual(['kept', `lyipc-context-${gone}-file`, `lyipc-context-${gone}-link`, `lyipc-context-${process.pid}-a1b2`].sort());
			expect(await readdir(target)).toEqual(['file']);
		} finally {
			await worker.close();
		}
	});
});

describeKLayout('KLayoutWorker failures', () => {
	test('a job over its timeout kills KLayout and fails with TIMEOUT; the worker is then dead', async () => {
		const worker = await KLayoutWorker.start();
		const pid = worker.pid;
		const started = Date.now();
		await expect(worker.request('xor', {a: fixture('base.gds'), b: fixture('one_shape.gds')}, {timeout: 1})).rejects.toMatchObject({code: 'TIMEOUT'});
		expect(Date.now() - started).toBeLessThan(5000);
		expect(worker.alive).toBe(false);
		expect(await waitGone(pid)).toBe(true);
		await expect(worker.request('hello')).rejects.toMatchObject({code: 'TIMEOUT'});
		await worker.close();
	});

	test('KLayout killed from outside in the middle of a job: WORKER_DIED, not a hang', async () => {
		const worker = await KLayoutWorker.start();
		const job = worker.request('xor', {a: fixture('base.gds'), b: fixture('one_shape.gds')});
		process.kill(worker.pid!, 'SIGKILL');
		await expect(job).rejects.toMatchObject({code: 'WORKER_DIED', message: expect.stringMatching(/killed by SIGKILL/)});
		expect(worker.alive).toBe(false);
		await worker.close();
	});

	test('an abort signal: a queued job is dropped; a running job stops the process', async () => {
		const worker = await KLayoutWorker.start();
		const early = new AbortController();
		const queued = worker.request('xor', {a: fixture('base.gds'), b: fixture('one_shape.gds')}, {signal: early.signal});
		early.abort();
		await expect(queued).rejects.toMatchObject({code: 'ABORTED'});
		expect(worker.alive).toBe(true);

		const late = new AbortController();
		const running = worker.request('xor', {a: fixture('base.gds'), b: fixture('one_shape.gds')}, {signal: late.signal});
		await delay(1); // the job is on KLayout's stdin now
		late.abort();
		await expect(running).rejects.toMatchObject({code: 'ABORTED'});
		expect(worker.alive).toBe(false);
		expect(await waitGone(worker.pid)).toBe(true);
	});

	test('close() ends an idle worker cleanly', async () => {
		const worker = await KLayoutWorker.start();
		const pid = worker.pid;
		await worker.close();
		expect(worker.alive).toBe(false);
		expect(processAlive(pid)).toBe(false);
	});
});

describe('KLayoutWorker with stand-in programs', () => {
	test('a KLayout older than 0.28 is refused with its version', async () => {
		await expect(KLayoutWorker.start({klayout: path.join(FAKE_KLAYOUT, 'too-old')})).rejects.toMatchObject({
			code: 'KLAYOUT_TOO_OLD',
			message: expect.stringMatching(/KLayout 0\.27\.8 at .*too-old is too old: lyipc needs 0\.28 or newer/),
		});
	});

	test('a crash during a job fails that job with WORKER_DIED and what KLayout printed', async () => {
		const worker = await KLayoutWorker.start({klayout: path.join(FAKE_KLAYOUT, 'crash-on-job')});
		await expect(worker.request('xor', {a: 'a.gds', b: 'b.gds'})).rejects.toMatchObject({
			code: 'WORKER_DIED',
			message: expect.stringMatching(/died \(killed by SIGSEGV\) during xor; KLayout said:\n {2}Segmentation fault in db::Region::xor/),
		});
	});

	test('a program that is not KLayout: WORKER_START_FAILED with its complaint', async () => {
		await expect(KLayoutWorker.start({klayout: path.join(FAKE_KLAYOUT, 'not-klayout')})).rejects.toMatchObject({
			code: 'WORKER_START_FAILED',
			message: expect.stringMatching(/exited \(exit code 64\) before it was ready; KLayout said:\n {2}not-klayout: unknown option -b/),
		});
	});

	test('a KLayout that never gets ready: WORKER_START_FAILED after the start timeout, and it is killed', async () => {
		const error = await KLayoutWorker.start({klayout: path.join(FAKE_KLAYOUT, 'never-ready'), startTimeout: 500}).catch((error_: unknown) => error_);
		expect(error).toMatchObject({code: 'WORKER_START_FAILED', message: expect.stringMatching(/did not start the worker within 0\.5 s/)});
		await waitFor('the fake KLayout to be killed', async () => (await processesMatching('fake-klayout/never-ready')).length === 0);
	});
});
