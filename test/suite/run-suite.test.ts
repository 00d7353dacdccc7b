import {existsSync} from 'node:fs';
import {copyFile, cp, mkdir, readdir, readFile} from 'node:fs/promises';
import path from 'node:path';
import {expect, test} from 'vitest';
import {WorkerPool} from '../../src/engine/pool.js';
import {compareDirectories, type SuiteEvent} from '../../src/suite/run-suite.js';
import {findPairs} from '../../src/suite/pairs.js';
import {PNG} from 'pngjs';
import {describeKLayout, FAKE_KLAYOUT, fixture, useTempDirs} from '../helpers/run.js';
import {makeSuiteTree, TREE_EXPECTED} from '../helpers/suite-tree.js';

const tempDir = useTempDirs('lyipc-suite-');

test('pairs by relative path: layouts only (gzipped too, any case), include/exclude globs', async () => {
	const {reference, output} = await makeSuiteTree(await tempDir());
	const pairs = await findPairs(reference, output);
	expect(pairs.map(pair => pair.path)).toEqual(Object.keys(TREE_EXPECTED).sort());
	expect(pairs.find(pair => pair.path === 'only_ref.gds')).toMatchObject({reference: path.join(reference, 'only_ref.gds'), output: null});
	expect((await findPairs(reference, output, {exclude: ['chip/**', '*.gz']})).map(pair => pair.path)).not.toContain('chip/ring.gds');
	expect((await findPairs(reference, output, {include: ['**/*.txt']})).map(pair => pair.path)).toEqual(['notes.txt']);
	await expect(findPairs(reference, path.join(output, 'nope'))).rejects.toMatchObject({code: 'INPUT_NOT_FOUND', message: expect.stringContaining('output directory')});
	await expect(findPairs(reference, path.join(output, 'same.gds'))).rejects.toMatchObject({code: 'USAGE'});
});

test('byte-identical pairs never reach KLayout; a crashing worker fails its pair only and is replaced', async () => {
	const {reference, output} = await makeSuiteTree(await tempDir());
	const pool = new WorkerPool({size: 1, klayout: path.join(FAKE_KLAYOUT, 'crash-on-job')});
	try {
		const result = await compareDirectories(reference, output, {pool, outDir: await tempDir()});
		const status = Object.fromEntries(result.pairs.map(pair => [pair.path, pair.status]));
		// The two byte-identical pairs are answered without a worker; every pair that needs
		// KLayout crashed its worker and is an error of its own, each on a fresh worker.
		expect(status).toEqual({...TREE_EXPECTED, 'flat.gds': 'error', 'chip/ring.gds': 'error'});
		expect(
			result.pairs
				.filter(pair => pair.error?.code === 'WORKER_DIED')
				.map(pair => pair.path)
				.sort(),
		).toEqual(['chip/ring.gds', 'corrupt.gds', 'flat.gds']);
		expect(pool.started).toBe(3);
	} finally {
		await pool.close();
	}
});

describeKLayout('compareDirectories with real KLayout', () => {
	test('a mixed tree: every kind of pair, counts, artifacts mirroring the paths, progress events, no temp files left', async () => {
		const {reference, output} = await makeSuiteTree(await tempDir());
		const outDir = await tempDir();
		const events: SuiteEvent[] = [];
		const result = await compareDirectories(reference, output, {workers: 2, outDir, onEvent: event => events.push(event)});
		expect(Object.fromEntries(result.pairs.map(pair => [pair.path, pair.status]))).toEqual(TREE_EXPECTED);
		expect(result.status).toBe('error');
		expect(result.counts).toEqual({total: 7, identical: 3, different: 1, missingReference: 1, missingOutput: 1, error: 1});
		expect(result.workers.started).toBeGreaterThanOrEqual(1);
		expect(result.workers.started).toBeLessThanOrEqual(2);
		expect(result.pairs.find(pair => pair.path === 'same.gds')!.result!.fastPath).toBe('byte-identical');
		expect(result.pairs.find(pair => pair.path === 'flat.gds')!.result!.fastPath).toBeNull();
		const ring = result.pairs.find(pair => pair.path === 'chip/ring.gds')!;
		expect(ring.result!.artifacts).toEqual({xor: path.join(outDir, 'chip', 'ring.xor.gds'), rdb: path.join(outDir, 'chip', 'ring.xor.lyrdb')});
		expect(result.pairs.find(pair => pair.path === 'corrupt.gds')!.error).toMatchObject({code: 'READ_ERROR', message: expect.stringContaining('corrupt.gds')});
		expect(await readdir(outDir, {recursive: true})).toEqual(expect.arrayContaining(['chip', path.join('chip', 'ring.xor.gds'), path.join('chip', 'ring.xor.lyrdb')]));
		expect((await readdir(outDir, {recursive: true})).filter(name => name.includes('.tmp'))).toEqual([]);
		expect(events[0]).toEqual({type: 'start', total: 7});
		const progress = events.filter(event => event.type === 'pair');
		expect(progress.map(event => event.done)).toEqual([1, 2, 3, 4, 5, 6, 7]);
		expect(progress.at(-1)).toMatchObject({failures: 4, total: 7});
	});

	test('a tree without failures is identical; a shared pool is left running for its owner', async () => {
		const {reference, output} = await makeSuiteTree(await tempDir());
		const pool = new WorkerPool({size: 1});
		try {
			const result = await compareDirectories(reference, output, {pool, include: ['same.gds', 'flat.gds', '*.gz']});
			expect(result).toMatchObject({status: 'identical', counts: {total: 3, identical: 3}});
			expect(existsSync(result.outDir)).toBe(false); // the temp folder, unused, is gone
			const again = await compareDirectories(reference, output, {pool, include: ['flat.gds']});
			expect(again.status).toBe('identical');
			expect(pool.started).toBe(1);
		} finally {
			await pool.close();
		}
	});

	test('pairs sharing a folder: one failing pair cleaning up never removes the folder another pair writes into', async () => {
		const root = await tempDir();
		for (const [name, inReference, inOutput] of [
			['bad.gds', 'base.gds', 'truncated.gds'],
			['chip.gds', 'base.gds', 'via_changed.gds'],
			['gone.gds', 'base.gds', null],
		] as const) {
			await mkdir(path.join(root, 'ref', 'sub'), {recursive: true});
			await mkdir(path.join(root, 'run', 'sub'), {recursive: true});
			await copyFile(fixture(inReference), path.join(root, 'ref', 'sub', name));
			if (inOutput) {
				await copyFile(fixture(inOutput), path.join(root, 'run', 'sub', name));
			}
		}

		const outDir = path.join(root, 'not', 'yet'); // made by the run
		const result = await compareDirectories(path.join(root, 'ref'), path.join(root, 'run'), {workers: 2, outDir, pictures: {size: {width: 320, height: 240}}});
		expect(Object.fromEntries(result.pairs.map(pair => [pair.path, pair.status]))).toEqual({'sub/bad.gds': 'error', 'sub/chip.gds': 'different', 'sub/gone.gds': 'missing-output'});
		const chip = result.pairs.find(pair => pair.path === 'sub/chip.gds')!;
		const gone = result.pairs.find(pair => pair.path === 'sub/gone.gds')!;
		const sub = (name: string) => path.join(outDir, 'sub', name);
		expect(chip.pictures).toMatchObject({
			a: sub('chip.a.png'),
			b: sub('chip.b.png'),
			xor: sub('chip.xor.png'),
			overview: sub('chip.overview.png'),
			closeups: [sub('chip.xor-2.png')],
			groups: 2,
			size: {width: 320, height: 240},
			scale: 2,
			error: null,
		});
		expect(gone.pictures).toMatchObject({a: sub('gone.a.png'), b: null, xor: null, overview: null, closeups: [], error: null});
		expect((await readdir(path.join(outDir, 'sub'))).sort()).toEqual([
			'chip.a.png',
			'chip.b.png',
			'chip.overview.png',
			'chip.xor-2.png',
			'chip.xor.gds',
			'chip.xor.lyrdb',
			'chip.xor.png',
			'gone.a.png',
		]);
		const picture = PNG.sync.read(await readFile(chip.pictures!.xor!));
		expect([picture.width, picture.height]).toEqual([640, 480]); // drawn at twice the size shown

		// Nothing to write: the folders the run made are gone again.
		await cp(path.join(root, 'ref'), path.join(root, 'ref-copy'), {recursive: true});
		const same = await compareDirectories(path.join(root, 'ref'), path.join(root, 'ref-copy'), {outDir: path.join(root, 'other', 'out')});
		expect(same.status).toBe('identical');
		expect(existsSync(path.join(root, 'other'))).toBe(false);
	});
});
