import {execa} from 'execa';
import {mkdir, mkdtemp, readFile, rename, rm, symlink, truncate, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, expect, test} from 'vitest';
import {mergeBlobs, writeBlob} from '../../src/suite/blob.js';
import {compareDirectories} from '../../src/suite/run-suite.js';
import {type BlobEdit, copyBlob, inBlob, inPair, makeSmallTree, snapshot} from '../helpers/blobs.js';
import {describeKLayout, useTempDirs} from '../helpers/run.js';

const tempDir = useTempDirs('lyipc-blob-');

describeKLayout('merging blobs: a blob is untrusted input', () => {
	let made: string;
	/** A real blob of a small run: a differing pair with pictures and artifacts, an identical pair, a reference without output. */
	let source: string;

	beforeAll(async () => {
		made = await mkdtemp(path.join(tmpdir(), 'lyipc-blob-source-'));
		const {reference, output} = await makeSmallTree(made);
		const result = await compareDirectories(reference, output, {outDir: path.join(made, 'out'), workers: 1, pictures: {}, shard: {index: 1, count: 1}});
		source = path.join(made, 'blob');
		await writeBlob(result, source);
	});

	afterAll(async () => {
		await rm(made, {recursive: true, force: true});
	});

	/** A fresh folder with the last report of a good merge in `report/`, as a CI job's workspace has it. */
	async function workspace(): Promise<{root: string; report: string}> {
		const root = await tempDir();
		const report = path.join(root, 'report');
		await mergeBlobs([source], report);
		await writeFile(path.join(report, 'index.html'), 'the last report\n');
		return {root, report};
	}

	/** The merge of `dirs` is refused with `code` and a message matching `message`, and the last report is as it was. */
	async function expectRefused(dirs: string[], report: string, code: string, message: RegExp, reports: string[] = []): Promise<void> {
		const outputs = reports.map(file => ({flag: `--reporter json=${file}`, path: file, kind: 'file' as const}));
		const before = await snapshot(report);
		await expect(mergeBlobs(dirs, report, {outputs})).rejects.toMatchObject({code, message: expect.stringMatching(message)});
		expect(await snapshot(report)).toEqual(before);
	}

	test('every field is checked against its type: BAD_BLOB naming the blob and the field, before the last report is touched', async () => {
		const {root, report} = await workspace();
		const markup = '<script>document.title="pwned"</script>';
		const cases: Array<[string, BlobEdit, RegExp]> = [
			['a count with markup', inPair('different', 'result.layers.0.countA', markup), /pairs\[\d\]\.result\.layers\[0\]\.countA: expected a whole number >= 0, got "<script>document\.title/],
			['a status with markup', inPair('different', 'status', '<img src=x onerror=alert(1)>'), /pairs\[\d\]\.status: expected one of "identical", "different", .*, got "<img src=x/],
			['ms as text', inPair('identical', 'ms', '"><script>x</script>'), /pairs\[\d\]\.ms: expected a number >= 0, got "\\"><script>/],
			['the xor count as text', inPair('different', 'result.layers.0.xorCount', '1'), /layers\[0\]\.xorCount: expected a whole number >= 0, got "1"/],
			['pictures.size as text', inPair('different', 'pictures.size', '<b>'), /pairs\[\d\]\.pictures\.size: expected an object, got "<b>"/],
			['a picture width with markup', inPair('different', 'pictures.size.width', '480" onload="x'), /pictures\.size\.width: expected a whole number >= 1/],
			['result null', inBlob('result', null), /: result: expected an object, got null/],
			['pairs null', inBlob('result.pairs', null), /: pairs: expected a list, got null/],
			['a pair null', inBlob('result.pairs.1', null), /: pairs\[1\]: expected an object, got null/],
			['a layer null', inPair('different', 'result.layers.0', null), /layers\[0\]: expected an object, got null/],
			['an input summary null', inPair('different', 'result.a', null), /pairs\[\d\]\.result\.a: expected an object, got null/],
			['a huge count', inPair('different', 'result.layers.0.countB', 1e300), /countB: expected a whole number >= 0, got 1e\+300/],
			['a negative area', inPair('different', 'result.layers.0.xorArea', -1), /xorArea: expected a number >= 0, got -1/],
			['a box of three', inPair('different', 'result.layers.0.bbox', [1, 2, 3]), /bbox: expected four numbers \[left, bottom, right, top\] or null, got \[1,2,3\]/],
			['a missing field', inPair('identical', 'attempts', undefined), /pairs\[\d\]\.attempts: expected a whole number >= 0, got nothing/],
			['a pair path with ..', inPair('identical', 'path', '../../x.gds'), /pairs\[\d\]\.path: expected a relative path \(no "\.\." part, not absolute\), got "\.\.\/\.\.\/x\.gds"/],
			[
				'a picture outside the blob',
				inPair('different', 'pictures.a', '../../../etc/passwd'),
				/pictures\.a: expected a path under files\/ ending in \.png \(no "\.\." part, not absolute\) or null, got "\.\.\/\.\.\/\.\.\/etc\/passwd"/,
			],
			['a picture by absolute path', inPair('different', 'pictures.xor', '/etc/passwd'), /pictures\.xor: expected a path under files\/ ending in \.png/],
			['a picture under files/ with ..', inPair('different', 'pictures.b', 'files/../../x.png'), /pictures\.b: expected a path under files\//],
			[
				'an artifact that is a page',
				inPair('different', 'result.artifacts.xor', 'files/evil.html'),
				/result\.artifacts\.xor: expected a path under files\/ ending in \.gds, \.oas or another layout extension/,
			],
			['a line break in a path (a fake line in a CI log)', inPair('identical', 'path', 'a.gds\nPASS everything.gds'), /pairs\[\d\]\.path: expected a relative path/],
			['a terminal escape in a path', inPair('identical', 'path', 'a\u001B]0;pwned\u0007.gds'), /pairs\[\d\]\.path: expected a relative path/],
			['a read note with a terminal escape', inPair('different', 'result.b.readNote', 'x\u001B[2J'), /pairs\[\d\]\.result\.b\.readNote: expected text without control characters or null/],
			['an unknown error code', inPair('identical', 'error', {code: 'NOPE', message: 'x'}), /pairs\[\d\]\.error\.code: expected one of lyipc's error codes/],
			['a shard past the count', inBlob('result.shard', {index: 3, count: 2}), /: shard\.index: expected a whole number from 1 to shard\.count \(2\), got 3/],
			['another result format', inBlob('result.formatVersion', 3), /: formatVersion: expected 2, got 3/],
			['another blob format', inBlob('blobFormat', 2), /lyipc-blob\.json: a blob of format 2; this lyipc-diff reads format 1/],
			['no blob at all', () => '[]', /lyipc-blob\.json: a blob without blobFormat/],
			['JSON cut short', blob => JSON.stringify(blob).slice(0, 300), /lyipc-blob\.json: not JSON/],
		];
		for (const [index, [what, edit, message]] of cases.entries()) {
			const dir = await copyBlob(source, path.join(root, `blob-${index}`), edit);
			await expectRefused([dir], report, 'BAD_BLOB', new RegExp(`^${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*${message.source}`), []).catch((error: Error) => {
				throw new Error(`${what}: ${error.message}`);
			});
		}
	});

	test('files: a symlink (also a symlinked folder), a FIFO or a missing file is refused before the last report is touched; no secret is copied', async () => {
		const {root, report} = await workspace();
		const secret = path.join(root, 'secret.png');
		await writeFile(secret, 'TOP SECRET\n', {mode: 0o600});

		const linked = await copyBlob(source, path.join(root, 'linked'));
		await rm(path.join(linked, 'files', 'ring.a.png'));
		await symlink(secret, path.join(linked, 'files', 'ring.a.png'));
		await expectRefused([linked], report, 'BAD_BLOB', /linked: pairs\[\d\]\.pictures\.a: files\/ring\.a\.png is a symbolic link; a blob holds regular files only/);

		// files/sub -> a folder outside the blob, holding a regular file of the right name.
		const outside = path.join(root, 'outside');
		await mkdir(outside);
		await writeFile(path.join(outside, 'ring.a.png'), 'TOP SECRET\n');
		const viaFolder = await copyBlob(source, path.join(root, 'via-folder'), inPair('different', 'pictures.a', 'files/sub/ring.a.png'));
		await symlink(outside, path.join(viaFolder, 'files', 'sub'));
		await expectRefused([viaFolder], report, 'BAD_BLOB', /via-folder: pairs\[\d\]\.pictures\.a: files\/sub is a symbolic link/);

		// A FIFO would stall a reader that waits for its writer.
		const fifo = await copyBlob(source, path.join(root, 'fifo'));
		await rm(path.join(fifo, 'files', 'ring.xor.png'));
		await execa('mkfifo', [path.join(fifo, 'files', 'ring.xor.png')]);
		await expectRefused([fifo], report, 'BAD_BLOB', /fifo: pairs\[\d\]\.pictures\.xor: files\/ring\.xor\.png is not a regular file/);

		const jsonLinked = await copyBlob(source, path.join(root, 'json-linked'));
		await rename(path.join(jsonLinked, 'lyipc-blob.json'), path.join(root, 'elsewhere.json'));
		await symlink(path.join(root, 'elsewhere.json'), path.join(jsonLinked, 'lyipc-blob.json'));
		await expectRefused([jsonLinked], report, 'BAD_BLOB', /json-linked: lyipc-blob\.json is a symbolic link/);

		const jsonFifo = await copyBlob(source, path.join(root, 'json-fifo'));
		await rm(path.join(jsonFifo, 'lyipc-blob.json'));
		await execa('mkfifo', [path.join(jsonFifo, 'lyipc-blob.json')]);
		await expectRefused([jsonFifo], report, 'BAD_BLOB', /json-fifo: lyipc-blob\.json is not a regular file/);

		const cut = await copyBlob(source, path.join(root, 'cut'));
		await rm(path.join(cut, 'files', 'ring.xor.gds'));
		await expectRefused([cut], report, 'INPUT_NOT_FOUND', /cut: the blob lacks files\/ring\.xor\.gds \(pairs\[\d\]\.result\.artifacts\.xor\)/);

		for (const file of Object.keys(await snapshot(report))) {
			expect(await readFile(path.join(report, file), 'utf8').catch(() => '')).not.toContain('TOP SECRET');
		}
	});

	test('places, symlinks resolved: a blob in the report folder, the report folder in a blob, a report file in a blob', async () => {
		const {root, report} = await workspace();
		// The blob lies in the (marked) report folder, given by a symlink from outside it.
		const inside = await copyBlob(source, path.join(report, 'blob'));
		await symlink(inside, path.join(root, 'blob-link'));
		await expectRefused([path.join(root, 'blob-link')], report, 'USAGE', /--out-dir .*report contains the blob .*blob-link \(.*\): choose a folder outside the inputs/);
		await expect(readFile(path.join(inside, 'lyipc-blob.json'), 'utf8')).resolves.toContain('blobFormat');
		await rm(inside, {recursive: true});

		// The report folder given by a symlink into a blob.
		const blob = await copyBlob(source, path.join(root, 'blob'));
		await symlink(path.join(blob, 'files'), path.join(root, 'report-link'));
		const inBlob = await snapshot(blob);
		await expect(mergeBlobs([blob], path.join(root, 'report-link'))).rejects.toMatchObject({code: 'USAGE', message: expect.stringMatching(/--out-dir .*report-link lies inside the blob .*blob/)});
		await expect(mergeBlobs([blob], path.join(blob, 'new-report'))).rejects.toMatchObject({code: 'USAGE', message: expect.stringMatching(/--out-dir .*new-report lies inside the blob/)});
		await expectRefused([blob], report, 'USAGE', /--reporter json=.*blob\/lyipc-blob\.json lies inside the blob/, [path.join(blob, 'lyipc-blob.json')]);
		expect(await snapshot(blob)).toEqual(inBlob);
	});

	test('shards and pairs are checked before anything is removed: a pair in two blobs, a pair twice in one, a huge shard count', async () => {
		const {root, report} = await workspace();
		const first = await copyBlob(source, path.join(root, 'first'), inBlob('result.shard', {index: 1, count: 2}));
		const second = await copyBlob(source, path.join(root, 'second'), inBlob('result.shard', {index: 2, count: 2}));
		await expectRefused([first, second], report, 'USAGE', /merge-reports: (ring|only|sub\/same)\.gds is in more than one blob \(.*first and .*second\)/);

		const twice = await copyBlob(source, path.join(root, 'twice'), blob => {
			blob.result.pairs.push(blob.result.pairs[0]);
			return undefined;
		});
		await expectRefused([twice], report, 'BAD_BLOB', /twice: pairs\[3\]\.path: ".*" is also pairs\[0\]\.path/);

		const huge = await copyBlob(source, path.join(root, 'huge'), inBlob('result.shard', {index: 1, count: Number.MAX_SAFE_INTEGER}));
		const started = Date.now();
		await expectRefused(
			[huge],
			report,
			'USAGE',
			/merge-reports: shard 2\/9007199254740991, 3\/9007199254740991, .*, \.\.\. missing; give every shard's blob folder \(given: .*huge holds 1\/9007199254740991\)$/,
		);

		// Shard 2 keeps only the differing pair, renamed: its files are still shard 1's names.
		const sameFiles = await copyBlob(source, path.join(root, 'same-files'), blob => {
			blob.result.shard = {index: 2, count: 2};
			blob.result.pairs = blob.result.pairs.filter((pair: {status: string}) => pair.status === 'different').map((pair: {path: string}) => ({...pair, path: `renamed/${pair.path}`}));
			return undefined;
		});
		await expectRefused([first, sameFiles], report, 'BAD_BLOB', /same-files: pairs\[0\]\.\S+ names files\/\S+, which .*first: pairs\[\d\]\.\S+ names too/);

		const ofThree = await copyBlob(source, path.join(root, 'of-three'), inBlob('result.shard', {index: 3, count: 3}));
		await expectRefused([first, ofThree], report, 'USAGE', /merge-reports: the blobs come from different splits \(given: .*first holds 1\/2, .*of-three holds 3\/3\)$/);
		expect(Date.now() - started).toBeLessThan(5000);
	});

	test('a blob file larger than any result is refused without reading it', async () => {
		const {root, report} = await workspace();
		const blob = await copyBlob(source, path.join(root, 'huge'));
		await truncate(path.join(blob, 'lyipc-blob.json'), 600 * 2 ** 20); // sparse: no disk used
		await expectRefused([blob], report, 'BAD_BLOB', /lyipc-blob\.json: 600 MB; a blob's result is at most 512 MB/);
	});

	test('a good blob merges: fields rebuilt from the known ones, files copied as regular files into the report', async () => {
		const {root} = await workspace();
		const blob = await copyBlob(source, path.join(root, 'blob'), inPair('different', 'extra', '<b>unknown</b>'));
		const merged = await mergeBlobs([blob], path.join(root, 'merged'));
		const ring = merged.pairs.find(pair => pair.path === 'ring.gds')!;
		expect(ring).not.toHaveProperty('extra');
		expect(ring.pictures?.xor).toBe(path.join(root, 'merged', 'ring.xor.png'));
		expect(await readFile(ring.pictures!.xor!)).toEqual(await readFile(path.join(source, 'files', 'ring.xor.png')));
		expect(merged.counts).toEqual({total: 3, identical: 1, different: 1, missingReference: 0, missingOutput: 1, error: 0});
		expect(ring.result?.b.readNote).toBeNull();
	});

	test("a blob of a lyipc before readNote merges: the inputs' readNote is null", async () => {
		const {root} = await workspace();
		const blob = await copyBlob(source, path.join(root, 'blob'), inPair('different', 'result.a.readNote', undefined));
		const merged = await mergeBlobs([blob], path.join(root, 'merged'));
		expect(merged.pairs.find(pair => pair.path === 'ring.gds')?.result?.a).toMatchObject({readNote: null, topCells: expect.any(Array)});
	});
});
