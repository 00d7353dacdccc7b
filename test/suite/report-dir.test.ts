import {mkdir, readdir, symlink, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {expect, test} from 'vitest';
import {prepareReportDir} from '../../src/suite/report-dir.js';
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
