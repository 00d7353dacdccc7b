import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {expect, test} from 'vitest';
import {WorkerPool} from '../../src/engine/pool.js';
import {WORKER_SCRIPT} from '../../src/engine/worker.js';
import {waitFor} from '../helpers/poll.js';
import {describeKLayout, FAKE_KLAYOUT, fixture, processesMatching} from '../helpers/run.js';

test('a worker that dies in a job fails that job only; the next job gets a fresh worker', async () => {
	const pool = new WorkerPool({size: 1, klayout: path.join(FAKE_KLAYOUT, 'crash-on-job')});
	try {
		for (let job = 1; job <= 3; job++) {
			await expect(pool.run(async worker => worker.request('xor', {}))).rejects.toMatchObject({code: 'WORKER_DIED'});
			expect(pool.started).toBe(job);
		}
	} finally {
		await pool.close();
	}
});

test('depth 2: a worker killed while starting fails the job that started it; the job queued to it runs on a new worker', async () => {
	const dir = await mkdtemp(path.join(tmpdir(), 'lyipc-pool-'));
	const marker = path.join(dir, 'killed');
	const pool = new WorkerPool({size: 1, depth: 2, klayout: path.join(FAKE_KLAYOUT, 'killed-while-starting'), env: {...process.env, FAKE_KLAYOUT_MARKER: marker}});
	try {
		const [first, second] = await Promise.allSettled([0, 1].map(async () => pool.run(async worker => worker.request<{pid: number}>('xor', {}))));
		const killed = Number(await readFile(marker, 'utf8'));
		expect(first).toMatchObject({status: 'rejected', reason: {code: 'WORKER_START_FAILED', message: expect.stringContaining('killed by SIGKILL') as unknown}});
		expect(second).toMatchObject({status: 'fulfilled', value: {pid: expect.any(Number) as unknown}});
		expect((second as PromiseFulfilledResult<{pid: number}>).value.pid).not.toBe(killed);
		expect(pool.started).toBe(1);
	} finally {
		await pool.close();
		await rm(dir, {recursive: true, force: true});
	}
});

/** A pool of one worker taking two jobs, starting the fake KLayout `program`, whose starts are logged (FAKE_KLAYOUT_LOG); closed afterwards. */
async function withStartLog(program: string, check: (pool: WorkerPool, starts: () => Promise<number>) => Promise<void>): Promise<void> {
	const dir = await mkdtemp(path.join(tmpdir(), 'lyipc-pool-'));
	const log = path.join(dir, 'starts');
	const pool = new WorkerPool({size: 1, depth: 2, startTimeout: 1000, klayout: path.join(FAKE_KLAYOUT, program), env: {...process.env, FAKE_KLAYOUT_LOG: log}});
	const starts = async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
	try {
		await check(pool, starts);
	} finally {
		await pool.close();
		await rm(dir, {recursive: true, force: true});
	}
}

test.each([
	['not KLayout', 'not-klayout', 'WORKER_START_FAILED', /exited \(exit code 64\) before it was ready/],
	['too old', 'too-old', 'KLAYOUT_TOO_OLD', /0\.27\.8 .* is too old/],
	['hung at start', 'never-ready', 'WORKER_START_FAILED', /did not start the worker within 1 s/],
])('depth 2: a KLayout that cannot start (%s) fails the job queued to it with the same error, and is not started again for it', async (_what, program, code, message) => {
	await withStartLog(program, async (pool, starts) => {
		const [first, second] = await Promise.allSettled([0, 1].map(async () => pool.run(async worker => worker.request('xor', {}))));
		expect(first).toMatchObject({status: 'rejected', reason: {code, message: expect.stringMatching(message) as unknown}});
		expect(second).toMatchObject({status: 'rejected', reason: {code, message: (first as PromiseRejectedResult).reason.message as unknown}});
		expect(await starts()).toBe(1);
		expect(pool.started).toBe(0);
	});
});

test('depth 2: a start cancelled by the job that asked for it is begun again for the job queued to it', async () => {
	await withStartLog('never-ready', async (pool, starts) => {
		const cancel = new AbortController();
		const first = pool.run(async worker => worker.request('xor', {}), cancel.signal);
		const second = pool.run(async worker => worker.request('xor', {}));
		await waitFor('the first start', async () => (await starts()) === 1);
		cancel.abort();
		await expect(first).rejects.toMatchObject({code: 'ABORTED'});
		// Not cancelled itself, it gets a start of its own (which hangs too).
		await expect(second).rejects.toMatchObject({code: 'WORKER_START_FAILED', message: expect.stringContaining('did not start the worker within 1 s') as unknown});
		expect(await starts()).toBe(2);
	});
});

test('jobs waiting when the pool closes fail with ABORTED instead of hanging; a bad size is a usage error', async () => {
	const pool = new WorkerPool({size: 1, klayout: path.join(FAKE_KLAYOUT, 'crash-on-job')});
	let release: (() => void) | undefined;
	const first = pool.run(
		async () =>
			new Promise<void>(resolve => {
				release = resolve;
			}),
	);
	const second = pool.run(async () => 'never');
	// The first job holds the only worker once it has started (slower on a loaded machine).
	await waitFor('the first job to hold the worker', () => release !== undefined);
	const closing = pool.close();
	release!();
	await first;
	await expect(second).rejects.toMatchObject({code: 'ABORTED'});
	await closing;
	expect(() => new WorkerPool({size: 0})).toThrow(/workers: expected a whole number >= 1/);
	expect(() => new WorkerPool({size: 1, depth: 0})).toThrow(/depth: expected a whole number >= 1/);
});

describeKLayout('WorkerPool with real KLayout', () => {
	test('at most `size` workers, reused across jobs', async () => {
		const pool = new WorkerPool({size: 2});
		try {
			let running = 0;
			let most = 0;
			const pids = await Promise.all(
				Array.from({length: 8}, async () =>
					pool.run(async worker => {
						running++;
						most = Math.max(most, running);
						await worker.request('hello');
						// Held until a second job runs beside it (or 10 s): a second KLayout slow to start
						// on a loaded machine must not leave the first to run all eight alone.
						const until = Date.now() + 10_000;
						while (most < 2 && Date.now() < until) {
							await new Promise(resolve => {
								setTimeout(resolve, 20);
							});
						}

						running--;
						return worker.pid;
					}),
				),
			);
			expect(most).toBe(2);
			expect(pool.started).toBe(2);
			expect(new Set(pids).size).toBe(2);
		} finally {
			await pool.close();
		}
	});

	test('a worker that died without a job (a dropped link, a lost node) is replaced before the next job', async () => {
		const pool = new WorkerPool({size: 1});
		try {
			const first = await pool.run(async worker => {
				await worker.request('hello');
				return worker;
			});
			const pid = first.pid!;
			process.kill(pid, 'SIGKILL');
			await waitFor('the idle worker to be seen gone', () => !first.alive);
			const next = await pool.run(async worker => {
				await worker.request('hello');
				return worker.pid;
			});
			expect(next).not.toBe(pid);
			expect(pool.started).toBe(2);
		} finally {
			await pool.close();
		}
	});

	/** A flat XOR of a cell placed 90,000 times: a job that keeps KLayout busy for a moment. */
	const slow = {a: fixture('placed_very_often_a.gds'), b: fixture('placed_very_often_b.gds'), mode: 'flat'};
	/** Runs `check` on a fresh pool of one worker taking two jobs, closed afterwards. */
	async function withDepth2(check: (pool: WorkerPool) => Promise<void>): Promise<void> {
		const pool = new WorkerPool({size: 1, depth: 2});
		try {
			await check(pool);
		} finally {
			await pool.close();
		}
	}

	test('depth 2: a second job waits inside the worker, and KLayout takes it as soon as the first is answered', async () => {
		await withDepth2(async pool => {
			const waits: number[] = [];
			const jobs = await Promise.all(
				[0, 1].map(async index =>
					pool.run(async worker => {
						const result = await worker.request<{timings: {readMs: number; xorMs: number}}>('xor', slow, {onQueued: ms => (waits[index] = ms)});
						return {pid: worker.pid, timings: result.timings};
					}),
				),
			);
			expect(pool.started).toBe(1);
			expect(jobs[0]!.pid).toBe(jobs[1]!.pid);
			// The second job was in the worker while the first ran: it waited at least that long.
			expect(waits[1]).toBeGreaterThanOrEqual(jobs[0]!.timings.readMs + jobs[0]!.timings.xorMs);
			expect(waits[0]).toBeLessThan(waits[1]!);
		});
	});

	test('depth 2: a KLayout killed while starting fails the job that started it; the job queued to it runs on a new one', async () => {
		await withDepth2(async pool => {
			const jobs = [0, 1].map(async () =>
				pool.run(async worker => {
					await worker.request('hello');
					return worker.pid;
				}),
			);
			let starting: number | undefined;
			await waitFor(
				'KLayout to be starting',
				async () => {
					[starting] = await processesMatching(WORKER_SCRIPT, process.pid);
					return starting !== undefined;
				},
				10_000,
			);
			process.kill(starting!, 'SIGKILL');
			const [first, second] = await Promise.allSettled(jobs);
			expect(first).toMatchObject({status: 'rejected', reason: {code: 'WORKER_START_FAILED', message: expect.stringContaining('before it was ready') as unknown}});
			expect(second).toMatchObject({status: 'fulfilled', value: expect.any(Number) as unknown});
			expect((second as PromiseFulfilledResult<number>).value).not.toBe(starting);
			expect(pool.started).toBe(1);
		});
	});

	test('depth 2: a job waiting behind one that times out never ran, and runs on a new worker', async () => {
		await withDepth2(async pool => {
			const [first, second] = await Promise.allSettled([
				pool.run(async worker => worker.request('xor', slow, {timeout: 50})),
				pool.run(async worker => {
					await worker.request('hello');
					return worker.pid;
				}),
			]);
			expect(first).toMatchObject({status: 'rejected', reason: {code: 'TIMEOUT'}});
			expect(second.status).toBe('fulfilled');
			expect(pool.started).toBe(2);
		});
	});
});
