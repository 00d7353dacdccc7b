import path from 'node:path';
import {expect, test} from 'vitest';
import {WorkerPool} from '../../src/engine/pool.js';
import {describeKLayout, FAKE_KLAYOUT} from '../helpers/run.js';

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

test('jobs waiting when the pool closes fail with ABORTED instead of hanging; a bad size is a usage error', async () => {
	const pool = new WorkerPool({size: 1, klayout: path.join(FAKE_KLAYOUT, 'crash-on-job')});
	let release!: () => void;
	const first = pool.run(
		async () =>
			new Promise<void>(resolve => {
				release = resolve;
			}),
	);
	const second = pool.run(async () => 'never');
	await new Promise(resolve => {
		setTimeout(resolve, 200);
	});
	const closing = pool.close();
	release();
	await first;
	await expect(second).rejects.toMatchObject({code: 'ABORTED'});
	await closing;
	expect(() => new WorkerPool({size: 0})).toThrow(/workers: expected a whole number >= 1/);
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
						await new Promise(resolve => {
							setTimeout(resolve, 50);
						});
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
});
