// The corpus benchmark's batch mode (bench/corpus/batch.mjs): a chunk's tree, each pair judged
// in the reports of one directory run, and the memory limit on any one process of the run.
import {mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {chunksOf, judgeChunk, makeChunkTree} from '../../bench/corpus/batch.mjs';
import {runLimited} from '../../bench/corpus/limits.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'lyipc-corpus-batch-test-'));
afterAll(() => rmSync(dir, {recursive: true, force: true}));

/** Node code that holds `mb` MB resident (filled, so the pages are real) and then waits. */
const hold = (mb: number) => `const b = Buffer.alloc(${mb} * 1024 * 1024, 1); setInterval(() => b[0]++, 1000);`;

describe('chunks', () => {
	it('cuts pairs into chunks of one source each', () => {
		const pairs = [
			{id: 'a/0', source: 'a'},
			{id: 'a/1', source: 'a'},
			{id: 'b/0', source: 'b'},
			{id: 'a/2', source: 'a'},
		];
		expect(chunksOf(pairs, 2).map(chunk => chunk.map(pair => pair.id))).toEqual([['a/0', 'a/1'], ['a/2'], ['b/0']]);
	});

	it('gives the two sides of a byte-identical pair two files, not two links to one', () => {
		const cache = path.join(dir, 'cache');
		mkdirSync(path.join(cache, 'files'), {recursive: true});
		writeFileSync(path.join(cache, 'files', 'same.gds'), 'x');
		const tree = makeChunkTree(cache, [{id: 's/0', a: 'files/same.gds', b: 'files/same.gds', bPath: 'd/x.gds'}], dir);
		const a = statSync(path.join(tree.reference, 's/0/d/x.gds'));
		const b = statSync(path.join(tree.output, 's/0/d/x.gds'));
		expect(a.ino).not.toBe(b.ino);
	});
});

describe('a chunk judged pair by pair', () => {
	const pairs = [
		{id: 's/0', source: 's', aPath: 'x.gds', bPath: 'x.gds'},
		{id: 's/1', source: 's', aPath: 'y.gds', bPath: 'y.gds'},
	];
	const timings = (ms: number) => ({totalMs: ms, startMs: 0, readMs: ms, structureMs: 0, xorMs: 0, writeMs: 0});

	/** A chunk's run and merge as files: `second` is the second pair's JSON entry. */
	function chunk(second: Record<string, unknown>, {mergedCounts}: {mergedCounts?: Record<string, number>} = {}) {
		const out = mkdtempSync(path.join(dir, 'chunk-'));
		const files = {
			json: path.join(out, 'report.json'),
			junit: path.join(out, 'junit.xml'),
			markdown: path.join(out, 'summary.md'),
			html: path.join(out, 'index.html'),
			merged: path.join(out, 'merged.json'),
			mergedJunit: path.join(out, 'merged.xml'),
			mergedMarkdown: path.join(out, 'merged.md'),
			mergedHtml: path.join(out, 'merged.html'),
		};
		const first = {path: 's/0/x.gds', status: 'identical', ms: 10, queueMs: 0, result: {timings: timings(10)}, pictures: null};
		const reportPairs = [first, {path: 's/1/y.gds', ...second}];
		const counts = {
			total: 2,
			identical: second.status === 'identical' ? 2 : 1,
			different: second.status === 'different' ? 1 : 0,
			missingReference: 0,
			missingOutput: 0,
			error: second.status === 'error' ? 1 : 0,
		};
		writeFileSync(files.json, JSON.stringify({counts, pairs: reportPairs}));
		writeFileSync(files.merged, JSON.stringify({counts: mergedCounts ?? counts, pairs: reportPairs}));
		const failure = second.status === 'different' ? '<failure message="m">m</failure>' : second.status === 'error' ? '<error message="m">m</error>' : '';
		const junit = `<?xml version="1.0"?><testsuites tests="2"><testsuite tests="2"><testcase name="s/0/x.gds"/><testcase name="s/1/y.gds">${failure}</testcase></testsuite></testsuites>`;
		writeFileSync(files.junit, junit);
		writeFileSync(files.mergedJunit, junit);
		const markdown = '2 pairs: 1 identical, 1 different\n| ❌ | `s/1/y.gds` |\n';
		writeFileSync(files.markdown, markdown);
		writeFileSync(files.mergedMarkdown, markdown);
		writeFileSync(files.html, '<td>s/0/x.gds</td><td>s/1/y.gds</td>');
		writeFileSync(files.mergedHtml, '<td>s/0/x.gds</td><td>s/1/y.gds</td>');
		const code = second.status === 'error' ? 2 : second.status === 'different' ? 1 : 0;
		const run = {code, stderr: '', ms: 1000, largest: {mb: 500, command: 'klayout'}};
		const records = judgeChunk({chunk: pairs, paths: ['reports', 'pictures', 'blob'], files, run, merge: {code, ms: 200, over: null}, timeoutMs: 60_000, label: '1'});
		return {first: records[0]!, second: records[1]!};
	}

	it('takes a differing pair whose pictures were skipped over their budget, and says so', () => {
		const {second} = chunk({
			status: 'different',
			ms: 31_000,
			queueMs: 0,
			result: {timings: timings(1000), artifacts: {xor: __filename}},
			pictures: {error: 'pictures skipped: too many differences to draw in 30 s'},
		});
		expect(second.paths.reports).toMatchObject({status: 'ok', ms: 1000, peakMb: 500});
		expect(second.paths.pictures).toMatchObject({status: 'ok', ms: 31_000, picturesMs: 30_000, picturesSkipped: 'pictures skipped: too many differences to draw in 30 s'});
		expect(second.paths.blob).toMatchObject({status: 'ok', ms: 31_100});
	});

	it("marks a pair over time when lyipc's timeout stopped its comparison or its pictures", () => {
		const {first, second} = chunk({status: 'error', ms: 60_100, queueMs: 0, error: {code: 'TIMEOUT', message: 'comparing took longer than the timeout (60 s)'}, result: null, pictures: null});
		expect(first.paths.reports.status).toBe('ok');
		expect(second.paths.reports).toMatchObject({status: 'over time', reason: 'comparing took longer than the timeout (60 s)'});
		const {second: drawn} = chunk({
			status: 'different',
			ms: 70_000,
			queueMs: 0,
			result: {timings: timings(1000), artifacts: {xor: __filename}},
			pictures: {error: 'no pictures: render_diff took longer than 60 s; the KLayout worker was stopped'},
		});
		expect(drawn.paths.reports.status).toBe('ok');
		expect(drawn.paths.pictures.status).toBe('over time');
		expect(drawn.paths.blob.status).toBe('over time');
	});

	it('fails pictures lost with a worker stopped for another pair, and merged counts unlike the run', () => {
		const lost = {
			status: 'different',
			ms: 2000,
			queueMs: 0,
			result: {timings: timings(1000), artifacts: {xor: __filename}},
			pictures: {error: 'no pictures: render_diff was waiting for a KLayout worker that stopped before it could start'},
		};
		const {second} = chunk(lost);
		expect(second.paths.pictures).toMatchObject({status: 'failed', reason: expect.stringMatching(/was waiting for a KLayout worker/)});
		const {first} = chunk({status: 'identical', ms: 10, queueMs: 0, result: {timings: timings(10)}, pictures: null}, {mergedCounts: {total: 2, identical: 1}});
		expect(first.paths.blob).toMatchObject({status: 'failed', reason: expect.stringMatching(/merged counts/)});
		expect(first.paths.reports.status).toBe('ok');
	});
});

describe('the memory limit on one process', () => {
	it('holds each process of a run to the limit, not their sum', async () => {
		// Two children of 150 MB each: 300 MB in all, 150 MB at most in one.
		const two = `const {spawn} = require('node:child_process'); for (let i = 0; i < 2; i++) spawn(process.execPath, ['-e', ${JSON.stringify(hold(150))}], {stdio: 'ignore'}); setTimeout(() => process.exit(0), 2500);`;
		const largest = await runLimited(process.execPath, ['-e', two], {timeoutMs: 30_000, memoryMb: 250, memoryOf: 'largest'});
		expect(largest.over).toBeNull();
		expect(largest.largest.mb).toBeGreaterThan(150);
		expect(largest.largest.mb).toBeLessThan(250);
		const sum = await runLimited(process.execPath, ['-e', two], {timeoutMs: 30_000, memoryMb: 250});
		expect(sum.over).toBe('memory');
	});
});
