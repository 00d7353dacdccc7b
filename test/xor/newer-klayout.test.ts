import {createHash} from 'node:crypto';
import {mkdir, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {gzipSync} from 'node:zlib';
import {afterAll, beforeAll, expect, test} from 'vitest';
import {KLayoutWorker} from '../../src/engine/worker.js';
import {compareLayouts, type CompareOptions} from '../../src/xor/compare.js';
import type {SuiteResult} from '../../src/suite/run-suite.js';
import type {CompareResult} from '../../src/xor/result.js';
import {describeKLayout, fixture, runCli, useTempDirs} from '../helpers/run.js';
import {CONTEXT_SKIPPED, skipsContextMeta} from '../helpers/newer-klayout.js';

/**
 * KLayout 0.30.0's answer on fixtures/newer_klayout_a.gds against newer_klayout_b.gds (written
 * by 0.30.0 with PCells and meta data, fixtures/newer_klayout.py): `lyipc-diff --klayout` with
 * KLayout 0.30.0 gave these layers; the same answer with newer_klayout_b.oas as B.
 */
const ANSWER_OF_0_30 = [
	{key: '1/0', status: 'same', countA: 1, countB: 1, xorCount: 0, bbox: null},
	{key: '2/0', status: 'different', countA: 1, countB: 1, xorCount: 1, bbox: [16.5, -3.5, 23.5, 3.5]},
	{key: '3/0', status: 'same', countA: 5, countB: 5, xorCount: 0, bbox: null},
];
/** KLayout 0.30.0's answer on base.gds against newer_klayout.gds (its TOP holds one 1 µm square on 1/0). */
const BASE_AGAINST_NEWER = [
	{key: '1/0', status: 'different', countA: 4, countB: 1, xorCount: 1, xorArea: 303},
	{key: '2/0', status: 'only-in-a', countA: 1, countB: 0, xorCount: 1},
	{key: '3/0', status: 'only-in-a', countA: 11, countB: 0, xorCount: 11},
	{key: '4/0', status: 'only-in-a', countA: 10, countB: 0, xorCount: 10},
];

function answer(result: CompareResult): unknown {
	return result.layers.map(({key, status, countA, countB, xorCount, bbox}) => ({key, status, countA, countB, xorCount, bbox}));
}

function sha(bytes: Buffer): string {
	return createHash('sha256').update(bytes).digest('hex');
}

/**
 * GDS files that KLayout 0.29 and later write with meta data in their context cell. KLayout
 * before 0.29 cannot read that cell: it compares them without it and says so; 0.29 and later
 * read them whole (no note). The answer is the same either way.
 */
describeKLayout('files written by a newer KLayout, with context meta data', () => {
	let worker: KLayoutWorker;
	let older: boolean;
	let scratch: string;
	const tempDir = useTempDirs('lyipc-newer-');
	beforeAll(async () => {
		scratch = await mkdtemp(path.join(tmpdir(), 'lyipc-newer-tmp-'));
		// The worker's own temp folder, to see that no copy is left behind.
		worker = await KLayoutWorker.start({env: {...process.env, TMPDIR: scratch}});
		const [major, minor] = worker.klayoutVersion.split('.').map(Number);
		older = major! === 0 && minor! < 29;
	});
	afterAll(async () => {
		await worker.close();
		await rm(scratch, {recursive: true, force: true});
	});

	async function compare(a: string, b: string, options: CompareOptions = {}): Promise<CompareResult> {
		return compareLayouts(a, b, {worker, outDir: await tempDir(), ...options});
	}

	const note = () => (older ? CONTEXT_SKIPPED : null);

	test("a pair written by KLayout 0.30 compares, with the note, and the answer is 0.30's", async () => {
		const before = await Promise.all(['newer_klayout_a.gds', 'newer_klayout_b.gds'].map(async name => sha(await readFile(fixture(name)))));
		const result = await compare(fixture('newer_klayout_a.gds'), fixture('newer_klayout_b.gds'));
		expect(result).toMatchObject({status: 'different', differentLayers: 1, topCells: [{a: 'TOP', b: 'TOP', status: 'compared'}]});
		expect(result.a.readNote).toBe(note());
		expect(result.b.readNote).toBe(note());
		expect(answer(result)).toEqual(ANSWER_OF_0_30);
		expect(result.layers[1]!.xorArea).toBeCloseTo(10.215964, 5);
		// The files were only read, and the copies without their context cell are gone.
		const after = await Promise.all(['newer_klayout_a.gds', 'newer_klayout_b.gds'].map(async name => sha(await readFile(fixture(name)))));
		expect(after).toEqual(before);
		expect(await readdir(scratch)).toEqual([]);
	});

	test('gzipped, the same', async () => {
		const gz = path.join(await tempDir(), 'newer_klayout_b.gds.gz');
		await writeFile(gz, gzipSync(await readFile(fixture('newer_klayout_b.gds'))));
		const result = await compare(fixture('newer_klayout_a.gds'), gz);
		expect(result.b).toMatchObject({gzip: true, readNote: note()});
		expect(answer(result)).toEqual(ANSWER_OF_0_30);
		expect(await readdir(scratch)).toEqual([]);
	});

	test('OASIS from KLayout 0.30 keeps its context in properties that every KLayout reads: no note, the same answer', async () => {
		const result = await compare(fixture('newer_klayout_a.gds'), fixture('newer_klayout_b.oas'));
		expect(result.a.readNote).toBe(note());
		expect(result.b).toMatchObject({format: 'oasis', readNote: null});
		expect(answer(result)).toEqual(ANSWER_OF_0_30);
	});

	test('a context cell holding what KLayout before 0.29 calls "Invalid record inside a context info cell" (newer_klayout.gds)', async () => {
		const result = await compare(fixture('base.gds'), fixture('newer_klayout.gds'));
		expect(result.a.readNote).toBeNull();
		expect(result.b.readNote).toBe(note());
		expect(result.layers).toMatchObject(BASE_AGAINST_NEWER);
	});

	test('strictRead keeps the READ_ERROR that names both versions', async () => {
		const run = compare(fixture('base.gds'), fixture('newer_klayout.gds'), {strictRead: true});
		if (!older) {
			// KLayout 0.29 and later read the cell: nothing to refuse.
			expect((await run).b.readNote).toBeNull();
			return;
		}

		await expect(run).rejects.toMatchObject({
			code: 'READ_ERROR',
			path: fixture('newer_klayout.gds'),
			message: expect.stringMatching(
				new RegExp(
					`newer_klayout\\.gds: cannot read layout B: it was written by a newer KLayout \\(its context cell holds meta data that KLayout ${worker.klayoutVersion.replaceAll('.', '\\.')} cannot read: Invalid record inside a context info cell`,
				),
			),
			hint: expect.stringMatching(/KLayout 0\.29 or later .*--strict-read/),
		});
	});

	test('a file that cannot be read even without its context cell: READ_ERROR naming both versions, and why', async () => {
		const whole = await readFile(fixture('newer_klayout.gds'));
		const dir = await tempDir();
		// Cut inside TOP, after the context cell (which ends at byte 220 of the 328).
		const cut = path.join(dir, 'cut.gds');
		await writeFile(cut, whole.subarray(0, 250));
		// Cut inside the context cell itself, after the record KLayout 0.28 refuses.
		const cutContext = path.join(dir, 'cut_context.gds');
		await writeFile(cutContext, whole.subarray(0, 150));
		for (const [file, reason] of [
			[cut, /, and without that cell: Unexpected end-of-file/],
			[cutContext, /, and without that cell: the file ends inside a record at byte 128/],
		] as const) {
			const error: unknown = await compare(fixture('base.gds'), file).catch((error: unknown) => error);
			if (!older) {
				expect(error, file).toMatchObject({code: 'READ_ERROR', message: expect.not.stringContaining('newer KLayout')});
				continue;
			}

			expect(error, file).toMatchObject({
				code: 'READ_ERROR',
				path: file,
				message: expect.stringMatching(
					new RegExp(
						`cannot read layout B: it was written by a newer KLayout \\(its context cell holds meta data that KLayout ${worker.klayoutVersion.replaceAll('.', '\\.')} cannot read: Invalid record inside a context info cell`,
					),
				),
				hint: expect.stringMatching(/KLayout 0\.29 or later/),
			});
			expect((error as Error).message, file).toMatch(reason);
		}

		expect(await readdir(scratch)).toEqual([]);
	});
});

/** A directory run: each reporter names the pairs with such a file, and their pictures are drawn. */
describeKLayout('lyipc-diff REF RUN with files from a newer KLayout', () => {
	const tempDir = useTempDirs('lyipc-newer-dirs-');

	test('every reporter says which file was read without its context meta data; the pictures are drawn', async () => {
		const root = await tempDir();
		for (const side of ['ref', 'run']) {
			await mkdir(path.join(root, side));
		}

		const a = await readFile(fixture('newer_klayout_a.gds'));
		await writeFile(path.join(root, 'ref', 'ring.gds'), a);
		await writeFile(path.join(root, 'run', 'ring.gds'), await readFile(fixture('newer_klayout_b.gds')));
		await writeFile(path.join(root, 'ref', 'same.gds'), a);
		// Not the same bytes, so KLayout reads it: gzipped.
		await writeFile(path.join(root, 'run', 'same.gds'), gzipSync(a));
		const run = await runCli(
			['ref', 'run', '--reporter', 'console', '--reporter', 'json=report.json', '--reporter', 'junit=junit.xml', '--reporter', 'markdown=summary.md', '--reporter', 'html', '--no-warm-worker'],
			{cwd: root, env: {NO_COLOR: '1', TMPDIR: root}},
		);
		expect(run.exitCode, run.stderr).toBe(1);
		const json = JSON.parse(await readFile(path.join(root, 'report.json'), 'utf8')) as SuiteResult;
		const older = skipsContextMeta(json.pairs[0]!.result!.klayout!.version);
		const notes = json.pairs.map(pair => [pair.path, pair.status, pair.result?.a.readNote, pair.result?.b.readNote]);
		const note = older ? CONTEXT_SKIPPED : null;
		expect(notes).toEqual([
			['ring.gds', 'different', note, note],
			['same.gds', 'identical', note, note],
		]);
		// The pictures of the differing pair: A and B read as the comparison read them.
		expect(json.pairs[0]!.pictures).toMatchObject({error: null, a: expect.stringMatching(/ring\.a\.png$/), b: expect.stringMatching(/ring\.b\.png$/)});
		expect(await readdir(root)).not.toContainEqual(expect.stringMatching(/^lyipc-context-/));
		if (!older) {
			return;
		}

		expect(run.stdout).toContain(`  ring.gds: 1 layer differs: 2/0 (1)\n    A (reference): ${CONTEXT_SKIPPED}\n    B (output): ${CONTEXT_SKIPPED}\n`);
		expect(run.stdout).toContain('2 pairs compared without the context meta data of a file written by a newer KLayout');
		expect(await readFile(path.join(root, 'junit.xml'), 'utf8')).toContain(`B (output): ${CONTEXT_SKIPPED}`);
		expect(await readFile(path.join(root, 'summary.md'), 'utf8')).toContain('> **Note:** 2 pairs compared without the context meta data');
		expect(await readFile(path.join(root, 'lyipc-report', 'index.html'), 'utf8')).toContain(`same.gds<br><span class="read">A (reference): ${CONTEXT_SKIPPED}</span>`);

		// --strict-read: every such pair could not be compared, exit 2.
		const strict = await runCli(['ref', 'run', '--strict-read', '--reporter', 'json=strict.json', '--no-warm-worker'], {cwd: root, env: {NO_COLOR: '1'}});
		expect(strict.exitCode, strict.stderr).toBe(2);
		const refused = JSON.parse(await readFile(path.join(root, 'strict.json'), 'utf8')) as SuiteResult;
		expect(refused.pairs.map(pair => [pair.path, pair.status, pair.error?.code])).toEqual([
			['ring.gds', 'error', 'READ_ERROR'],
			['same.gds', 'error', 'READ_ERROR'],
		]);
	});
});
