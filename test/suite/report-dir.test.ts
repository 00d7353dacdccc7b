import {lstat, mkdir, readdir, readFile, rm, stat, symlink, utimes, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {expect, test} from 'vitest';
import {prepareReportDir, recordWritten} from '../../src/suite/report-dir.js';
import {useTempDirs} from '../helpers/run.js';

const tempDir = useTempDirs('lyipc-report-dir-');

test('an input that lies in the report folder only by its real path is refused, and the folder is not emptied', async () => {
	const root = await tempDir();
	const report = path.join(root, 'report');
	await prepareReportDir(report);
	await mkdir(path.join(report, 'inputs'));
	await writeFile(path.join(report, 'inputs', 'a.gds'), 'kept');
	await symlink(path.join(report, 'inputs'), path.join(root, 'inputs'));
	// Also the report folder given by a symlink, the input by its own path.
	await symlink(report, path.join(root, 'report-link'));

	for (const [dir, input] of [
		[report, path.join(root, 'inputs')],
		[path.join(root, 'report-link'), path.join(report, 'inputs')],
	] as const) {
		await expect(prepareReportDir(dir, [input])).rejects.toMatchObject({code: 'USAGE', message: expect.stringContaining(`${input} is inside the report folder ${dir}`)});
		expect((await readdir(path.join(report, 'inputs'))).sort()).toEqual(['a.gds']);
	}
});

/** Every file and folder under `dir`, relative, sorted ("sub/" for a folder). */
async function tree(dir: string): Promise<string[]> {
	const entries = await readdir(dir, {recursive: true, withFileTypes: true});
	return entries.map(entry => path.relative(dir, path.join(entry.parentPath, entry.name)) + (entry.isDirectory() ? '/' : '')).sort();
}

test('a reused folder: what the last run recorded is removed, a file of someone else kept, folders left empty removed', async () => {
	const root = await tempDir();
	const report = path.join(root, 'report');
	await prepareReportDir(report);
	await mkdir(path.join(report, 'chip', 'deep'), {recursive: true});
	await mkdir(path.join(report, 'cells'));
	for (const file of ['index.html', 'chip/deep/ring.xor.gds', 'cells/a.png']) {
		await writeFile(path.join(report, file), file);
	}

	await recordWritten(
		report,
		['index.html', 'chip/deep/ring.xor.gds', 'cells/a.png'].map(file => path.join(report, file)),
	);
	// The user's own files, beside and among the recorded ones.
	await writeFile(path.join(report, 'notes.txt'), 'mine');
	await writeFile(path.join(report, 'cells', 'keep.txt'), 'mine');
	await prepareReportDir(report, [], {others: 'keep'});
	expect(await tree(report)).toEqual(['.lyipc-report', 'cells/', 'cells/keep.txt', 'notes.txt']);
	// The manifest starts anew: a third run removes nothing more.
	await prepareReportDir(report);
	expect(await tree(report)).toEqual(['.lyipc-report', 'cells/', 'cells/keep.txt', 'notes.txt']);
	expect(JSON.parse(await readFile(path.join(report, '.lyipc-report'), 'utf8'))).toEqual({lyipcReport: 1, files: []});
});

test('a recorded file the user replaced since (other content, other file) is kept', async () => {
	const root = await tempDir();
	const report = path.join(root, 'report');
	await prepareReportDir(report);
	await writeFile(path.join(report, 'ring.xor.gds'), 'written by the run');
	await writeFile(path.join(report, 'ring.png'), 'written by the run');
	await recordWritten(report, [path.join(report, 'ring.xor.gds'), path.join(report, 'ring.png')]);
	await writeFile(path.join(report, 'ring.xor.gds'), 'the user edited this one'); // same inode, other size and time
	await rm(path.join(report, 'ring.png'));
	await writeFile(path.join(report, 'ring.png'), 'written by the run'); // same size, another file
	await utimes(path.join(report, 'ring.png'), new Date(2001, 1, 1), new Date(2001, 1, 1));
	await prepareReportDir(report);
	expect(await tree(report)).toEqual(['.lyipc-report', 'ring.png', 'ring.xor.gds']);
});

test('a manifest is never trusted out of its folder: no path leaving it, no symlink followed, only regular files', async () => {
	const root = await tempDir();
	const report = path.join(root, 'report');
	const outside = path.join(root, 'outside');
	await mkdir(outside);
	await writeFile(path.join(outside, 'secret.txt'), 'keep');
	await prepareReportDir(report);
	await symlink(outside, path.join(report, 'linked'));
	await symlink(path.join(outside, 'secret.txt'), path.join(report, 'link.txt'));
	await mkdir(path.join(report, 'folder'));
	const info = await stat(path.join(outside, 'secret.txt'));
	const entry = (file: string) => ({path: file, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino});
	const hostile = ['../outside/secret.txt', path.join(outside, 'secret.txt'), 'linked/secret.txt', 'link.txt', './link.txt', 'folder', 'folder/../../outside/secret.txt', 'a\\..\\..\\outside'];
	await writeFile(path.join(report, '.lyipc-report'), JSON.stringify({lyipcReport: 1, files: hostile.map(entry)}));
	await prepareReportDir(report);
	expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('keep');
	expect(await tree(report)).toEqual(['.lyipc-report', 'folder/', 'link.txt', 'linked']);
	// recordWritten records no symlink and nothing outside either.
	await recordWritten(report, [path.join(report, 'link.txt'), path.join(report, 'linked', 'secret.txt'), path.join(outside, 'secret.txt')]);
	expect(JSON.parse(await readFile(path.join(report, '.lyipc-report'), 'utf8'))).toEqual({lyipcReport: 1, files: []});
});

test('a manifest that is a symlink is not read through, and is replaced by a file; a malformed one removes nothing', async () => {
	const root = await tempDir();
	const report = path.join(root, 'report');
	await mkdir(report);
	await writeFile(path.join(report, 'a.png'), 'x');
	const info = await stat(path.join(report, 'a.png'));
	await writeFile(path.join(root, 'elsewhere.json'), JSON.stringify({lyipcReport: 1, files: [{path: 'a.png', size: info.size, mtimeMs: info.mtimeMs, ino: info.ino}]}));
	await symlink(path.join(root, 'elsewhere.json'), path.join(report, '.lyipc-report'));
	await prepareReportDir(report);
	expect(await tree(report)).toEqual(['.lyipc-report', 'a.png']);
	expect((await lstat(path.join(report, '.lyipc-report'))).isFile()).toBe(true);
	expect(await readFile(path.join(root, 'elsewhere.json'), 'utf8')).toContain('a.png');
	await writeFile(path.join(report, '.lyipc-report'), '{"lyipcReport": 1, "files": [');
	await prepareReportDir(report);
	expect(await tree(report)).toEqual(['.lyipc-report', 'a.png']);
});

test("a folder with files and no manifest: refused by default, used as it is with others: keep; an older version's mark: emptied as it promised", async () => {
	const root = await tempDir();
	const report = path.join(root, 'report');
	await mkdir(report);
	await writeFile(path.join(report, 'notes.txt'), 'mine');
	await expect(prepareReportDir(report)).rejects.toMatchObject({code: 'USAGE', message: expect.stringContaining('was not written by lyipc-diff')});
	await prepareReportDir(report, [], {others: 'keep'});
	expect(await tree(report)).toEqual(['.lyipc-report', 'notes.txt']);

	const old = path.join(root, 'old');
	await mkdir(path.join(old, 'chip'), {recursive: true});
	await writeFile(path.join(old, 'chip', 'ring.xor.gds'), 'x');
	await writeFile(path.join(old, '.lyipc-report'), 'Written by lyipc-diff; emptied by its next run.\n');
	await prepareReportDir(old);
	expect(await tree(old)).toEqual(['.lyipc-report']);
});
