import {access, readFile, rm} from 'node:fs/promises';
import path from 'node:path';
import {expect, test} from 'vitest';
import type {SuiteResult} from '../../src/suite/run-suite.js';
import {describeKLayout, expectUsageErrors, runCli, useTempDirs} from '../helpers/run.js';
import {makeSuiteTree, statusesOf, TREE_EXPECTED} from '../helpers/suite-tree.js';

const tempDir = useTempDirs('lyipc-shards-');

test('shard and merge usage: i/n, blob needs a folder, --update runs unsharded, merge needs blobs', async () => {
	const root = await tempDir();
	const {reference, output} = await makeSuiteTree(root);
	const cases: Array<[string[], RegExp]> = [
		[[reference, output, '--shard', '4/3'], /--shard 4\/3: expected i\/n with 1 <= i <= n/],
		[[reference, output, '--reporter', 'blob'], /--reporter blob needs a folder: --reporter blob=DIR/],
		[[reference, output, '--shard', '1/2', '--update'], /--update accepts the outputs of every pair; run it without --shard/],
		[
			[reference, output, '--reporter', `blob=${path.join(root, 'out', 'blob')}`, '--out-dir', path.join(root, 'out')],
			/--out-dir .*out and --reporter blob=.*blob must be folders apart, neither inside the other/,
		],
		[['merge-reports'], /merge-reports: expected the blob folders of the shards/],
		[['merge-reports', root], /no shard results here \(lyipc-blob\.json: ENOENT\)/],
		[['merge-reports', root, '--workers', '2'], /merge-reports: unknown option --workers/],
	];
	await expectUsageErrors(cases);
});

describeKLayout('--shard i/n and merge-reports', () => {
	test('three shards, merged: the same pairs, statuses and counts as one run, pictures included; a shard missing or given twice is refused', async () => {
		const root = await tempDir();
		const {reference, output} = await makeSuiteTree(root);
		const whole = await runCli([reference, output, '--workers', '2', '--out-dir', path.join(root, 'whole'), '--json']);
		expect(whole.exitCode, whole.stderr).toBe(2);
		const expected = JSON.parse(whole.stdout) as SuiteResult;
		expect(statusesOf(expected)).toEqual(TREE_EXPECTED);

		const shards: SuiteResult[] = [];
		for (const index of [1, 2, 3]) {
			const blob = path.join(root, 'blobs', `shard-${index}`);
			const run = await runCli([reference, output, '--shard', `${index}/3`, '--workers', '1', '--out-dir', path.join(root, `out-${index}`), '--reporter', 'json', '--reporter', `blob=${blob}`]);
			const result = JSON.parse(run.stdout) as SuiteResult;
			// Each shard's exit code says what its own pairs found.
			expect(run.exitCode, run.stderr).toBe(result.status === 'error' ? 2 : result.status === 'different' ? 1 : 0);
			expect(result.shard).toEqual({index, count: 3});
			shards.push(result);
		}

		// Each pair in exactly one shard, and no shard idle.
		expect(shards.flatMap(result => result.pairs.map(pair => pair.path)).sort()).toEqual(Object.keys(TREE_EXPECTED).sort());
		expect(shards.every(result => result.pairs.length > 0)).toBe(true);

		const blobs = [1, 2, 3].map(index => path.join(root, 'blobs', `shard-${index}`));
		const html = path.join(root, 'merged', 'index.html');
		const merged = await runCli(['merge-reports', ...blobs, '--out-dir', path.join(root, 'merged'), '--reporter', 'json', '--reporter', `html=${html}`]);
		const mergedJson = await runCli(['merge-reports', ...blobs, '--out-dir', path.join(root, 'merged-json'), '--json']);
		expect((JSON.parse(mergedJson.stdout) as SuiteResult).counts).toEqual(expected.counts);
		expect(merged.exitCode, merged.stderr).toBe(2);
		const result = JSON.parse(merged.stdout) as SuiteResult;
		expect(result.pairs.map(pair => pair.path)).toEqual(expected.pairs.map(pair => pair.path));
		expect(statusesOf(result)).toEqual(statusesOf(expected));
		expect(result.counts).toEqual(expected.counts);
		expect(result.status).toBe(expected.status);

		// The differing pair's artifacts and pictures were carried over into the merged report folder.
		const ring = result.pairs.find(pair => pair.path === 'chip/ring.gds')!;
		expect(ring.result!.artifacts.xor).toBe(path.join(root, 'merged', 'chip', 'ring.xor.gds'));
		expect(ring.pictures?.xor).toBe(path.join(root, 'merged', 'chip', 'ring.xor.png'));
		await access(ring.result!.artifacts.xor!);
		await access(ring.pictures!.xor!);
		const page = await readFile(html, 'utf8');
		expect(page).toContain('src="chip/ring.xor.png"');

		const missing = await runCli(['merge-reports', blobs[0]!, blobs[2]!, '--out-dir', path.join(root, 'merged')]);
		expect(missing.exitCode).toBe(2);
		expect(missing.stderr).toContain('merge-reports: shard 2/3 missing');
		const twice = await runCli(['merge-reports', ...blobs, blobs[1]!, '--out-dir', path.join(root, 'merged')]);
		expect(twice.exitCode).toBe(2);
		expect(twice.stderr).toMatch(/both hold shard 2\/3/);

		// A blob cut short (a CI artifact half downloaded): named, exit 2, the last report left alone.
		const shardOfRing = blobs.find((_, index) => shards[index]!.pairs.some(pair => pair.path === 'chip/ring.gds'))!;
		await rm(path.join(shardOfRing, 'files', 'chip', 'ring.xor.png'));
		const cut = await runCli(['merge-reports', ...blobs, '--out-dir', path.join(root, 'merged')]);
		expect(cut.exitCode).toBe(2);
		expect(cut.stderr).toContain(`lyipc-diff: ${shardOfRing}: the blob lacks files/chip/ring.xor.png`);
		await access(ring.pictures!.xor!);
	});
});
