import {createHash} from 'node:crypto';
import {hostname} from 'node:os';
import {watch} from 'node:fs';
import {copyFile, link, mkdir, readdir, readFile, stat, symlink, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {expect, test} from 'vitest';
import {CLI, describeKLayout, fixture, runCli, useTempDirs} from '../helpers/run.js';
import {snapshot} from '../helpers/snapshot.mjs';

const tempDir = useTempDirs('lyipc-guard-');

/** ref/ and run/ in `root`: a.gds differs, sub/b.gds is the same, sub/b.xor.gds (a layout that looks like an artifact) differs. */
async function trees(root: string): Promise<void> {
	for (const dir of ['ref/sub', 'run/sub']) {
		await mkdir(path.join(root, dir), {recursive: true});
	}

	await copyFile(fixture('base.gds'), path.join(root, 'ref', 'a.gds'));
	await copyFile(fixture('one_shape.gds'), path.join(root, 'run', 'a.gds'));
	await copyFile(fixture('base.gds'), path.join(root, 'ref', 'sub', 'b.gds'));
	await copyFile(fixture('base.gds'), path.join(root, 'run', 'sub', 'b.gds'));
	await copyFile(fixture('base.gds'), path.join(root, 'ref', 'sub', 'b.xor.gds'));
	await copyFile(fixture('one_shape.gds'), path.join(root, 'run', 'sub', 'b.xor.gds'));
}

test.each([
	['a JSON report onto a reference', ['--reporter', 'json=ref/a.gds'], /--reporter json=ref\/a\.gds lies inside the reference tree/],
	['a JUnit report onto an output', ['--reporter', 'junit=run/a.gds'], /--reporter junit=run\/a\.gds lies inside the run's output tree/],
	['a Markdown report into a tree', ['--reporter', 'markdown=run/sub/summary.md'], /lies inside the run's output tree/],
	['an HTML report onto a reference', ['--reporter', 'html=ref/sub/b.gds'], /lies inside the reference tree/],
	['a report through a symlink to a reference', ['--reporter', 'json=link.json'], /--reporter json=link\.json lies inside the reference tree/],
	['a report that is a hard link of a reference', ['--reporter', 'junit=hard.xml'], /--reporter junit=hard\.xml is input .*ref\/a\.gds: it would be overwritten/],
	['a report onto an input outside the trees (a symlinked reference)', ['--reporter', 'json=store/kept.gds'], /--reporter json=store\/kept\.gds is input .*kept\.gds/],
	['a blob folder in a tree', ['--reporter', 'blob=run/blob'], /--reporter blob=run\/blob lies inside the run's output tree/],
	['a blob folder in the report folder through a symlink', ['--reporter', 'blob=report-link/blob'], /the report folder lyipc-report and --reporter blob=report-link\/blob must be folders apart/],
	['--out-dir inside a tree', ['--out-dir', 'ref/sub'], /--out-dir ref\/sub lies inside the reference tree/],
	['--out-dir inside a tree, its name starting with two dots', ['--out-dir', 'ref/..out'], /--out-dir ref\/\.\.out lies inside the reference tree/],
	['--out-dir holding both trees', ['--out-dir', '.'], /--out-dir \. contains the reference tree/],
	['--out-dir holding an input (a symlinked reference)', ['--out-dir', 'store'], /--out-dir store holds the input .*kept\.gds/],
	['--out-dir that is a file', ['--out-dir', 'notes.txt'], /--out-dir notes\.txt is a file; it must be a folder/],
	['a report onto a FIFO', ['--reporter', 'json=pipe.json'], /--reporter json=pipe\.json is a FIFO; it must be a regular file or a new path/],
	['two reports onto one file', ['--reporter', 'json=r.txt', '--reporter', 'markdown=r.txt'], /--reporter json=r\.txt and --reporter markdown=r\.txt both name r\.txt/],
	['--include reaching out of the trees', ['--include', '../*.gds', '--update'], /--include '\.\.\/\*\.gds': patterns are relative to the two trees and stay inside them/],
	['--include from the root', ['--include', '/etc/**'], /--include '\/etc\/\*\*': patterns are relative to the two trees/],
	['--include from the root in a brace', ['--include', '{/usr,x}/**/*.gds'], /--include '\{\/usr,x\}\/\*\*\/\*\.gds': patterns are relative/],
	['--include out of the trees in an extglob', ['--include', '@(..)/*.gds'], /--include '@\(\.\.\)\/\*\.gds': patterns are relative/],
	['--include selecting nothing', ['--include', 'cells/*.gds'], /no pair to compare: the trees hold layouts \(4 by relative path, e\.g\. a\.gds\)/],
])('directory mode refuses %s: exit 2 before anything is written', async (_name, args, message) => {
	const root = await tempDir();
	await trees(root);
	await mkdir(path.join(root, 'store'));
	await copyFile(fixture('base.gds'), path.join(root, 'store', 'kept.gds'));
	await symlink(path.join(root, 'store', 'kept.gds'), path.join(root, 'ref', 'kept.gds'));
	await copyFile(fixture('base.gds'), path.join(root, 'run', 'kept.gds'));
	await copyFile(fixture('base.gds'), path.join(root, 'precious.gds'));
	await symlink(path.join(root, 'ref', 'a.gds'), path.join(root, 'link.json'));
	await link(path.join(root, 'ref', 'a.gds'), path.join(root, 'hard.xml'));
	await writeFile(path.join(root, 'notes.txt'), 'mine\n');
	await symlink(path.join(root, 'lyipc-report'), path.join(root, 'report-link'));
	await execa('mkfifo', [path.join(root, 'pipe.json')]);
	const before = await snapshot(root);
	const run = await runCli(['ref', 'run', '--no-view', ...args], {cwd: root});
	expect(run.exitCode, run.stderr).toBe(2);
	expect(run.stderr).toMatch(message);
	expect(run.stderr).not.toMatch(/INTERNAL|unexpected failure/);
	expect(await snapshot(root)).toEqual(before);
});

test.each([
	['the run inside the reference tree, with --update --prune', ['.', 'run', '--update', '--prune'], /run lies inside \.: the trees must be apart/],
	['the reference inside the run tree', ['run/ref', 'run'], /run\/ref lies inside run: the trees must be apart/],
	['one tree twice', ['ref', './ref/'], /ref and \.\/ref\/ are the same folder/],
	['one tree twice through a symlink', ['ref', 'same'], /ref and same are the same folder/],
])('trees that contain each other are refused: %s', async (_name, args, message) => {
	const root = await tempDir();
	await trees(root);
	await mkdir(path.join(root, 'run', 'ref'));
	await copyFile(fixture('base.gds'), path.join(root, 'run', 'ref', 'a.gds'));
	await symlink(path.join(root, 'ref'), path.join(root, 'same'));
	const before = await snapshot(root);
	const run = await runCli([...args, '--no-view'], {cwd: root});
	expect(run.exitCode, run.stderr).toBe(2);
	expect(run.stderr).toMatch(message);
	expect(await snapshot(root)).toEqual(before);
});

test.each([
	['--out onto a FIFO', ['--out', 'pipe.gds'], /--out pipe\.gds is a FIFO; it must be a regular file or a new path/],
	['--rdb onto a device', ['--rdb', 'null.lyrdb'], /--rdb null\.lyrdb is a device; it must be a regular file or a new path/],
	['--out-dir that is a file', ['--out-dir', 'b.gds'], /--out-dir b\.gds is a file; it must be a folder/],
	['--out and --rdb onto one file', ['--out', 'x.gds', '--rdb', 'x.gds'], /--out x\.gds and --rdb x\.gds both name x\.gds/],
])('two files: %s is a usage error and the target stays as it was', async (_name, args, message) => {
	const dir = await tempDir();
	await copyFile(fixture('base.gds'), path.join(dir, 'a.gds'));
	await copyFile(fixture('one_shape.gds'), path.join(dir, 'b.gds'));
	await execa('mkfifo', [path.join(dir, 'pipe.gds')]);
	// A device of our own (as root, as CI runs): /dev/null itself must never be at stake in a test.
	const device = process.getuid?.() === 0 && (await execa('mknod', [path.join(dir, 'null.lyrdb'), 'c', '1', '3'], {reject: false})).exitCode === 0;
	const before = await snapshot(dir);
	const run = await runCli(['a.gds', 'b.gds', '--no-view', ...args], {cwd: dir, env: {TMPDIR: dir}});
	if (args[1] === 'null.lyrdb' && !device) {
		expect.fail('making a device node needs root (CI runs as root)');
	}

	expect(run.exitCode, run.stderr).toBe(2);
	expect(run.stderr).toMatch(message);
	expect(run.stderr).not.toMatch(/lyipc-[\da-f]{8}\.tmp|INTERNAL/);
	expect(await snapshot(dir)).toEqual(before);
	expect((await stat(path.join(dir, 'pipe.gds'))).isFIFO()).toBe(true);
});

test('--json: a usage error is the JSON error object on stdout', async () => {
	for (const args of [
		['--json', '--frobnicate', 'a.gds', 'b.gds'],
		['a.gds', '--json'],
		['merge-reports', '--json'],
	]) {
		const run = await runCli(args);
		expect(run.exitCode, args.join(' ')).toBe(2);
		expect(JSON.parse(run.stdout), args.join(' ')).toMatchObject({status: 'error', error: {code: 'USAGE', message: expect.any(String)}});
	}
});

test('a file whose name is not UTF-8 is named as such, not as missing', async () => {
	const dir = await tempDir();
	await copyFile(fixture('base.gds'), path.join(dir, 'a.gds'));
	await writeFile(Buffer.from(`${dir}/b\xff.gds`, 'latin1'), await readFile(fixture('one_shape.gds')));
	// Node.js cannot put such bytes into an argument: a shell does, as it would for a user.
	const run = await execa('sh', ['-c', `exec "$0" "$1" a.gds "$(printf 'b\\377.gds')" --no-view`, process.execPath, CLI], {cwd: dir, reject: false});
	expect(run.exitCode).toBe(2);
	expect(run.stderr).toMatch(/b\uFFFD\.gds \(B\): cannot read \(its name is not valid UTF-8 \(shown with \uFFFD\), and lyipc-diff cannot open such names; rename it\)/);
	expect(run.stderr).not.toContain('no such file');
});

describeKLayout('directory mode writes only its own files', () => {
	test('pairs of one name in several formats get artifacts and pictures of their own', async () => {
		const root = await tempDir();
		await mkdir(path.join(root, 'ref'));
		await mkdir(path.join(root, 'run'));
		const sources: Array<[string, string, string]> = [
			['x.gds', 'base.gds', 'one_shape.gds'],
			['x.gds.gz', 'base.gds.gz', 'one_shape.gds'],
			['x.gdsii', 'base.gds', 'extra_layer.gds'],
			['x.oas', 'base.oas', 'sliver.gds'],
			['y.gds', 'base.gds', 'one_shape.gds'],
		];
		for (const [name, reference, output] of sources) {
			await copyFile(fixture(reference), path.join(root, 'ref', name));
			await copyFile(fixture(output), path.join(root, 'run', name));
		}

		const run = await runCli(['ref', 'run', '--no-view', '--reporter', 'json=report.json', '--reporter', 'html', '--closeups', '0'], {cwd: root});
		expect(run.exitCode, run.stderr).toBe(1);
		const report = JSON.parse(await readFile(path.join(root, 'report.json'), 'utf8')) as {
			pairs: Array<{path: string; status: string; result: {artifacts: {xor: string; rdb: string}}; pictures: {a: string; b: string; xor: string; overview: string}}>;
		};
		expect(report.pairs.map(pair => [pair.path, pair.status])).toEqual(sources.map(([name]) => [name, 'different']));
		const files = report.pairs.flatMap(pair => [pair.result.artifacts.xor, pair.result.artifacts.rdb, pair.pictures.a, pair.pictures.b, pair.pictures.xor, pair.pictures.overview]);
		expect(new Set(files.map(file => file.toLowerCase())).size).toBe(files.length);
		const byPath = Object.fromEntries(report.pairs.map(pair => [pair.path, path.basename(pair.result.artifacts.xor)]));
		// A name of its own keeps the short form; names that clash keep the whole file name.
		expect(byPath).toEqual({'x.gds': 'x.gds.xor.gds', 'x.gds.gz': 'x.gds.gz.xor.gds', 'x.gdsii': 'x.gdsii.xor.gds', 'x.oas': 'x.oas.xor.oas', 'y.gds': 'y.xor.gds'});
		for (const file of files) {
			expect((await stat(file)).size, file).toBeGreaterThan(0);
		}

		// Each pair's markers are its own: the sliver is only in x.oas's.
		const markers = await Promise.all(report.pairs.map(async pair => readFile(pair.result.artifacts.rdb, 'utf8')));
		expect(markers.map(text => text.includes("'5/0'") || text.includes('5/0'))).toEqual([false, false, true, false, false]);
	});

	test('what a killed --update left in the reference tree is removed by the next run; a live writer\u2019s is kept', async () => {
		const root = await tempDir();
		await trees(root);
		const gone = execa(process.execPath, ['-e', 'process.exit(0)']);
		await gone;
		const host = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
		const dead = path.join(root, 'ref', 'sub', `.b.gds.lyipc-${host}-${gone.pid!}-0badf00d.tmp`);
		const live = path.join(root, 'ref', `.a.gds.lyipc-${host}-${process.pid}-0badf00d.tmp`);
		// Another machine sharing the folder: its process numbers mean nothing here.
		const elsewhere = path.join(root, 'ref', `.a.gds.lyipc-0000abcd-${gone.pid!}-0badf00d.tmp`);
		const foreign = path.join(root, 'ref', '.a.gds.1234abcd.tmp'); // not lyipc's name: not touched
		for (const file of [dead, live, elsewhere, foreign]) {
			await writeFile(file, 'half a layout');
		}

		const run = await runCli(['ref', 'run', '--no-view', '-q'], {cwd: root});
		expect(run.exitCode, run.stderr).toBe(1);
		expect(await readdir(path.join(root, 'ref', 'sub'))).not.toContain(path.basename(dead));
		expect(await readdir(path.join(root, 'ref'))).toEqual(expect.arrayContaining([path.basename(live), path.basename(elsewhere), path.basename(foreign)]));
	});

	test('SIGKILL while --update copies a reference: the leftover is recognised and removed by the next run', async () => {
		const root = await tempDir();
		await trees(root);
		// A large new output (no reference yet): --update copies it in without a comparison, and
		// the copy lasts long enough to be interrupted.
		const big = Buffer.alloc(256 * 1024 * 1024, 7);
		await writeFile(path.join(root, 'run', 'big.gds'), big);
		const refDir = path.join(root, 'ref');
		const update = execa(process.execPath, [CLI, 'ref', 'run', '--update', '--no-view', '-q'], {cwd: root, reject: false});
		const seen = await new Promise<string>(resolve => {
			const watcher = watch(refDir, (_event, name) => {
				if (name?.startsWith('.big.gds.')) {
					update.kill('SIGKILL');
					watcher.close();
					resolve(name);
				}
			});
		});
		await update;
		const left = (await readdir(refDir)).filter(name => name.startsWith('.big.gds.'));
		expect(left, `the kill came after the copy (${seen})`).toHaveLength(1);
		expect(left[0]).toMatch(/^\.big\.gds\.lyipc-[\da-f]{8}-\d+-[\da-f]{8}\.tmp$/);

		const next = await runCli(['ref', 'run', '--no-view', '-q'], {cwd: root});
		expect(next.exitCode, next.stderr).toBe(1);
		expect((await readdir(refDir)).filter(name => name.startsWith('.'))).toEqual([]);
	});

	test('--update never writes outside the reference tree through a symlinked folder', async () => {
		const root = await tempDir();
		await trees(root);
		await mkdir(path.join(root, 'elsewhere'));
		await symlink(path.join(root, 'elsewhere'), path.join(root, 'ref', 'linked'));
		await mkdir(path.join(root, 'run', 'linked'));
		await copyFile(fixture('one_shape.gds'), path.join(root, 'run', 'linked', 'new.gds'));
		const before = await snapshot(root);
		const run = await runCli(['ref', 'run', '--update', '--no-view', '-q'], {cwd: root});
		expect(run.exitCode, run.stderr).toBe(2);
		expect(run.stderr).toMatch(/--update: .*linked\/new\.gds lies in .*elsewhere, outside the reference tree .*; nothing was changed/);
		// Refused before anything is compared or written.
		expect(await snapshot(root)).toEqual(before);
		expect(await readdir(path.join(root, 'elsewhere'))).toEqual([]);
	});
});
