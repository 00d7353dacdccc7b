import {mkdir, readdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {layoutStem, planArtifacts} from '../../src/xor/artifacts.js';
import type {LayoutInput} from '../../src/xor/input.js';
import {useTempDirs} from '../helpers/run.js';

function input(given: string, format: 'gds' | 'oasis' = 'gds'): LayoutInput {
	return {path: path.resolve(given), given, size: 1, format, gzip: false};
}

describe('layoutStem', () => {
	test.each([
		['out/ring.gds', 'ring'],
		['ring.GDS.gz', 'ring'],
		['a.b.oas', 'a.b'],
		['x.gdsii', 'x'],
		['weird', 'weird'],
	])('%s -> %s', (file, stem) => {
		expect(layoutStem(file)).toBe(stem);
	});
});

describe('planArtifacts', () => {
	const tempDir = useTempDirs();

	test('default: a fresh folder under the temp dir, named after the inputs, removed when unused', async () => {
		const plan = await planArtifacts(input('ref/ring.gds'), input('run/ring.gds'));
		expect(path.basename(plan.xor)).toBe('ring.xor.gds');
		expect(path.basename(plan.rdb)).toBe('ring.xor.lyrdb');
		expect(path.dirname(plan.xor)).toMatch(/lyipc-diff-/);
		expect(await readdir(path.dirname(plan.xor))).toEqual([]);
		await plan.commit({out: false, rdb: false});
		await expect(readdir(path.dirname(plan.xor))).rejects.toMatchObject({code: 'ENOENT'});
	});

	test('OASIS input gives an OASIS XOR layout; different names are both kept', async () => {
		const plan = await planArtifacts(input('a.oas', 'oasis'), input('b.gds'));
		expect(path.basename(plan.xor)).toBe('a_vs_b.xor.oas');
		await plan.discard();
	});

	test('temporary names are hidden, in the same folder, with the format extension; commit renames them', async () => {
		const dir = await tempDir();
		const plan = await planArtifacts(input('a.gds'), input('b.gds'), {out: path.join(dir, 'deep', 'x.oas.gz')});
		expect(plan.xor).toBe(path.join(dir, 'deep', 'x.oas.gz'));
		expect(plan.rdb).toBe(path.join(dir, 'deep', 'x.lyrdb'));
		expect(path.dirname(plan.xorTemp)).toBe(path.join(dir, 'deep'));
		expect(path.basename(plan.xorTemp)).toMatch(/^\.x\.lyipc-[\da-f]{8}\.tmp\.oas\.gz$/);
		expect(path.basename(plan.rdbTemp)).toMatch(/^\.x\.lyipc-[\da-f]{8}\.tmp\.lyrdb$/);
		// Planning makes no folder: the writer does (KLayout here, makeFolders before a fetch).
		await expect(readdir(path.join(dir, 'deep'))).rejects.toMatchObject({code: 'ENOENT'});
		await plan.makeFolders();
		await writeFile(plan.xorTemp, 'layout');
		await writeFile(plan.rdbTemp, 'markers');
		expect(await plan.commit({out: true, rdb: true})).toEqual({xor: plan.xor, rdb: plan.rdb});
		expect((await readdir(path.join(dir, 'deep'))).sort()).toEqual(['x.lyrdb', 'x.oas.gz']);
	});

	test('discard removes temporaries and the folders it created, but not folders that were there', async () => {
		const dir = await tempDir();
		await mkdir(path.join(dir, 'existing'));
		const plan = await planArtifacts(input('a.gds'), input('b.gds'), {outDir: path.join(dir, 'existing', 'new', 'newer'), rdb: path.join(dir, 'r', 'm.lyrdb')});
		await plan.makeFolders();
		await writeFile(plan.xorTemp, 'half a layout');
		await plan.discard();
		expect(await readdir(dir)).toEqual(['existing']);
		expect(await readdir(path.join(dir, 'existing'))).toEqual([]);
	});

	test('a call that writes nothing never removes the --out-dir another call is writing into', async () => {
		const outDir = path.join(await tempDir(), 'shared');
		// The call that will find nothing plans first (it would have made the folder).
		const identical = await planArtifacts(input('a.gds'), input('c.gds'), {outDir});
		const writing = await planArtifacts(input('a.gds'), input('b.gds'), {outDir});
		await writing.makeFolders(); // the other call's worker starts writing there
		await identical.commit({out: false, rdb: false}); // this one found nothing to write
		await writeFile(writing.xorTemp, 'layout');
		expect(await writing.commit({out: true, rdb: false})).toEqual({xor: writing.xor, rdb: null});
	});

	test('--out needs a layout extension', async () => {
		await expect(planArtifacts(input('a.gds'), input('b.gds'), {out: 'diff.txt'})).rejects.toMatchObject({code: 'USAGE'});
	});
});
