// The corpus benchmark's limits and checks (bench/corpus): a run over its time or memory is
// stopped with everything working for it, and a wrong report is named as wrong.
import {spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {gitOutput, junitReason, markdownReason, mergedReason, picturesReason} from '../../bench/corpus/checks.mjs';
import {runLimited} from '../../bench/corpus/limits.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'lyipc-corpus-test-'));
afterAll(() => rmSync(dir, {recursive: true, force: true}));

/** Node code that holds `mb` MB resident (filled, so the pages are real) and then waits. */
const hold = (mb: number) => `const b = Buffer.alloc(${mb} * 1024 * 1024, 1); setInterval(() => b[0]++, 1000);`;
/** Whether a process runs (a zombie, killed and not yet reaped by its new parent, does not). */
function alive(pid: number): boolean {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
	} catch {
		return false;
	}
}

describe('runLimited', () => {
	it('stops a run past its time', async () => {
		const run = await runLimited(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {timeoutMs: 500, memoryMb: 4000});
		expect(run.over).toBe('time');
		expect(run.ms).toBeGreaterThanOrEqual(500);
		expect(run.ms).toBeLessThan(5000);
	});

	it('stops a run whose grandchild grows past the memory limit, grandchild included', async () => {
		const pidFile = path.join(dir, 'grandchild.pid');
		const parent = `const c = require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(hold(400))}], {stdio: 'ignore'}); require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(c.pid)); setInterval(() => {}, 1000);`;
		const run = await runLimited(process.execPath, ['-e', parent], {timeoutMs: 30_000, memoryMb: 250});
		expect(run.over).toBe('memory');
		expect(run.peakMb).toBeGreaterThan(250);
		const grandchild = Number(readFileSync(pidFile, 'utf8'));
		await new Promise(resolve => setTimeout(resolve, 200));
		const left = alive(grandchild);
		if (left) {
			process.kill(grandchild, 'SIGKILL');
		}

		expect(left).toBe(false);
	});

	it('counts and stops the processes that work for a run outside its tree (a warm worker)', async () => {
		const helper = spawn(process.execPath, ['-e', hold(300)], {stdio: 'ignore', detached: true});
		try {
			await new Promise(resolve => setTimeout(resolve, 1000));
			const run = await runLimited(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {timeoutMs: 30_000, memoryMb: 250, helpers: () => [helper.pid!]});
			expect(run.over).toBe('memory');
			await new Promise(resolve => setTimeout(resolve, 200));
			expect(alive(helper.pid!)).toBe(false);
		} finally {
			try {
				process.kill(helper.pid!, 'SIGKILL');
			} catch {}
		}
	});

	it('leaves a run within its limits alone and reports its peak', async () => {
		const run = await runLimited(process.execPath, ['-e', `${hold(100)} setTimeout(() => process.exit(3), 800);`], {timeoutMs: 30_000, memoryMb: 1000});
		expect(run.over).toBeNull();
		expect(run.code).toBe(3);
		expect(run.peakMb).toBeGreaterThan(100);
	});
});

describe('report checks', () => {
	const junit = (body: string) => {
		const file = path.join(dir, `junit-${Math.random()}.xml`);
		writeFileSync(file, `<?xml version="1.0"?><testsuites tests="1"><testsuite tests="1">${body}</testsuite></testsuites>`);
		return file;
	};

	it('takes a JUnit file with the pair and a failure for a difference', () => {
		expect(junitReason(junit('<testcase name="a/x.gds"><failure message="m">m</failure></testcase>'), 'a/x.gds', 'different')).toBeNull();
	});

	it('names a JUnit file without the failure, with another pair, or not XML', () => {
		expect(junitReason(junit('<testcase name="a/x.gds"></testcase>'), 'a/x.gds', 'different')).toMatch(/do not match/);
		expect(junitReason(junit('<testcase name="y.gds"/>'), 'a/x.gds', 'identical')).toMatch(/expected one <testcase/);
		expect(junitReason(junit('<testcase name="a/x.gds">'), 'a/x.gds', 'identical')).toMatch(/not XML/);
	});

	it('wants a failing pair listed in the Markdown summary', () => {
		const file = path.join(dir, 'summary.md');
		writeFileSync(file, '1 pair: 0 identical, 1 different\n');
		expect(markdownReason(file, 'x.gds', 'different')).toMatch(/not listed/);
		writeFileSync(file, '1 pair: 0 identical, 1 different\n| ❌ | `x.gds` |\n');
		expect(markdownReason(file, 'x.gds', 'different')).toBeNull();
	});

	it('wants every picture of a differing pair, each a PNG', () => {
		const png = path.join(dir, 'p.png');
		writeFileSync(png, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]));
		const fake = path.join(dir, 'fake.png');
		writeFileSync(fake, 'not a picture');
		const pictures = {overview: png, a: png, b: png, xor: png, closeups: [png], error: null};
		expect(picturesReason({status: 'different', pictures})).toBeNull();
		expect(picturesReason({status: 'different', pictures: {...pictures, closeups: [fake]}})).toMatch(/not a PNG/);
		expect(picturesReason({status: 'different', pictures: null})).toMatch(/without pictures/);
		expect(picturesReason({status: 'different', pictures: {...pictures, error: 'no pictures: timeout'}})).toBe('no pictures: timeout');
		expect(picturesReason({status: 'identical', pictures: null})).toBeNull();
	});

	it('compares merge-reports with the run', () => {
		const run = {counts: {total: 1, different: 1}, pairs: [{status: 'different'}]};
		expect(mergedReason(run, structuredClone(run), 1, 1)).toBeNull();
		expect(mergedReason(run, {counts: {total: 1, different: 0}, pairs: [{status: 'identical'}]}, 1, 0)).toMatch(/merged counts/);
		expect(mergedReason(run, structuredClone(run), 1, 2)).toMatch(/exit 2/);
	});

	it("reads git diff's output with lyipc's driver", () => {
		const out = 'lyipc diff a/x.gds b/x.gds\nA ...\n\ndifferent: 1 of 2 layers differs\n\n';
		expect(gitOutput({code: 1, stdout: out, stderr: ''}, false)).toEqual({verdict: 'different', reason: null});
		expect(gitOutput({code: 1, stdout: 'lyipc diff a/x.gds b/x.gds\ncould not compare the two versions: bad\n', stderr: ''}, false).verdict).toBe('error');
		expect(gitOutput({code: 128, stdout: '', stderr: 'fatal: external diff died, stopping at x.gds\n'}, false).reason).toMatch(/exit 128: fatal: external diff died/);
		expect(gitOutput({code: 1, stdout: 'Binary files a/x.gds and b/x.gds differ\n', stderr: ''}, false).reason).toMatch(/not the driver/);
		expect(gitOutput({code: 0, stdout: '', stderr: ''}, true)).toEqual({verdict: 'identical', reason: null});
	});
});
