import {copyFile, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {XMLParser} from 'fast-xml-parser';
import {PNG} from 'pngjs';
import {expect, test} from 'vitest';
import {execa} from 'execa';
import {CLI, describeKLayout, expectUsageErrors, fixture, processesMatching, runCli, useTempDirs} from '../helpers/run.js';
import {clickAndScreenshot, describeBrowser, screenshotPage} from '../helpers/chromium.js';
import {pngColours} from '../helpers/gui.js';
import {makeSuiteTree, TREE_EXPECTED} from '../helpers/suite-tree.js';

const tempDir = useTempDirs('lyipc-dirs-');

test('directory mode usage: a directory and a file, per-pair options, reporter specs', async () => {
	const {reference, output} = await makeSuiteTree(await tempDir());
	const cases: Array<[string[], RegExp]> = [
		[[reference, path.join(output, 'same.gds')], /is a directory and .*same\.gds is not: compare two layout files or two directories/],
		[[reference, output, '--out', 'x.gds'], /--out names one pair's artifact; with two directories use --out-dir DIR/],
		[[reference, output, '--reporter', 'xml'], /--reporter xml: expected one of console, json, junit, markdown, html/],
		[[reference, output, '--reporter', 'json', '--reporter', 'junit'], /json and junit would both write to stdout/],
		[[path.join(reference, 'same.gds'), path.join(output, 'same.gds'), '--workers', '2'], /--workers is for comparing two directories/],
	];
	await expectUsageErrors(cases);
});

test('a run folder that does not exist: "no such directory", naming it', async () => {
	const {reference} = await makeSuiteTree(await tempDir());
	const missing = path.join(path.dirname(reference), 'nonexistent');
	for (const args of [
		[reference, missing],
		[missing, reference],
	]) {
		const run = await runCli(args);
		expect(run.exitCode).toBe(2);
		expect(run.stderr).toContain(`${missing}: no such directory (${reference} is a directory`);
		expect(run.stderr).not.toContain('is not:');
	}
});

describeKLayout('lyipc-diff REF_DIR RUN_DIR', () => {
	test('console (piped: plain lines, no escape codes), JUnit and Markdown files, exit 2 for the corrupt pair', async () => {
		const root = await tempDir();
		const {reference, output} = await makeSuiteTree(root);
		const junit = path.join(root, 'reports', 'junit.xml');
		const markdown = path.join(root, 'reports', 'summary.md');
		const run = await runCli(
			[reference, output, '--workers', '2', '--out-dir', path.join(root, 'out'), '--reporter', 'console', '--reporter', `junit=${junit}`, '--reporter', `markdown=${markdown}`],
			{env: {FORCE_COLOR: '0', TMPDIR: root}},
		);
		expect(run.exitCode, run.stderr).toBe(2);
		// biome-ignore lint/suspicious/noControlCharactersInRegex: no terminal escape may reach a pipe
		expect(run.stdout).not.toMatch(/\u001B/);
		expect(run.stdout).toMatch(/^7 pairs: 3 identical, 1 different, 1 missing reference, 1 missing output, 1 could not be compared \(\d+\.\d s, [12] KLayout workers?\)$/m);
		expect(run.stdout).toMatch(/^ {2}chip\/ring\.gds: 1 layer differs: 1\/0 \(1\)$/m);
		expect(run.stdout).toContain(`XOR layout: ${path.join(root, 'out', 'chip', 'ring.xor.gds')}`);
		for (const line of ['different          chip/ring.gds', 'missing output     only_ref.gds', 'missing reference  only_run.oas', 'error              corrupt.gds']) {
			expect(run.stdout).toContain(line);
		}

		const xml = new XMLParser({ignoreAttributes: false, attributeNamePrefix: ''}).parse(await readFile(junit, 'utf8')) as {
			testsuites: {tests: string; failures: string; errors: string; testsuite: {testcase: Array<{name: string; failure?: {type: string}; error?: {type: string}; 'system-out': string}>}};
		};
		expect(xml.testsuites).toMatchObject({tests: '7', failures: '3', errors: '1'});
		const cases = Object.fromEntries(xml.testsuites.testsuite.testcase.map(testcase => [testcase.name, testcase.failure?.type ?? (testcase.error ? 'error' : 'identical')]));
		expect(cases).toEqual(TREE_EXPECTED);
		const ring = xml.testsuites.testsuite.testcase.find(testcase => testcase.name === 'chip/ring.gds')!;
		expect(ring['system-out']).toContain('XOR layout: ../out/chip/ring.xor.gds'); // relative to the report
		expect(xml.testsuites.testsuite.testcase.find(testcase => testcase.name === 'corrupt.gds')!.error!.type).toBe('READ_ERROR');
		// Each time is the pair's own (not counted from the start of the run): with two workers,
		// the times add up to at most twice the run's.
		const times = xml.testsuites.testsuite.testcase.map(testcase => Number((testcase as unknown as {time: string}).time));
		expect(times.reduce((sum, time) => sum + time, 0)).toBeLessThanOrEqual(2 * Number((xml.testsuites as unknown as {time: string}).time) + 0.01);

		const summary = await readFile(markdown, 'utf8');
		expect(summary).toMatch(/^### lyipc-diff: 4 of 7 failing$/m);
		expect(summary).toMatch(/^\| ❌ \| `chip\/ring\.gds` \| 1 layer differs: 1\/0 \(1\) \|/m);
		expect(await readdir(path.join(root, 'reports'))).toEqual(['junit.xml', 'summary.md']); // no temp names left
		expect((await readdir(root)).filter(name => name.startsWith('lyipc-'))).toEqual([]);
	});

	test('Ctrl+C mid-run: the workers stop, exit 2, nothing left in the temp folder', async () => {
		const root = await tempDir();
		const {reference, output} = await makeSuiteTree(root);
		const tmp = path.join(root, 'tmp');
		await execa('mkdir', [tmp]);
		const run = execa(process.execPath, [CLI, reference, output, '--workers', '2'], {env: {TMPDIR: tmp}, reject: false});
		// Once KLayout workers run, interrupt.
		const deadline = Date.now() + 20_000;
		while ((await processesMatching('worker.py', run.pid)).length === 0 && Date.now() < deadline) {
			await new Promise(resolve => {
				setTimeout(resolve, 20);
			});
		}

		run.kill('SIGINT');
		const result = await run;
		expect(result.exitCode).toBe(2);
		expect(await processesMatching('worker.py', run.pid)).toEqual([]);
		expect(await readdir(tmp)).toEqual([]);
	});

	test('Ctrl+C mid-run of many pairs: one "interrupted" line counting the unfinished pairs, not a line each', async () => {
		const root = await tempDir();
		for (const side of ['ref', 'run']) {
			await execa('mkdir', ['-p', path.join(root, side)]);
		}

		const total = 40;
		for (let index = 0; index < total; index++) {
			await copyFile(fixture('base.gds'), path.join(root, 'ref', `p${index}.gds`));
			await copyFile(fixture('base_shifted.gds'), path.join(root, 'run', `p${index}.gds`));
		}

		const run = execa(process.execPath, [CLI, 'ref', 'run', '--workers', '1', '--no-warm-worker'], {cwd: root, env: {FORCE_COLOR: '0'}, reject: false});
		// Piped, the console prints each failing pair as it fails: once one has, interrupt.
		let seen = '';
		await new Promise<void>(resolve => {
			run.stdout!.on('data', (chunk: Buffer) => {
				seen += String(chunk);
				if (seen.includes('different')) {
					resolve();
				}
			});
			void run.finally(resolve);
		});
		run.kill('SIGINT');
		const result = await run;
		expect(result.exitCode).toBe(2);
		const stdout = String(result.stdout);
		expect(stdout).not.toContain('aborted');
		expect(stdout.match(/interrupted/g)).toHaveLength(1);
		const [, unfinished] = /^interrupted: (\d+) of 40 pairs unfinished$/m.exec(stdout) ?? [];
		expect(Number(unfinished)).toBeGreaterThan(0);
		// Every pair is either finished (its line) or counted as unfinished.
		expect(stdout.match(/^different {10}p\d+\.gds$/gm)!.length + Number(unfinished)).toBe(total);
	});

	test('--json: the suite result on stdout; exit 1 for differences only, 0 when all are identical', async () => {
		const {reference, output} = await makeSuiteTree(await tempDir());
		const different = await runCli([reference, output, '--json', '--exclude', 'corrupt.gds']);
		expect(different.exitCode, different.stderr).toBe(1);
		const result = JSON.parse(different.stdout) as {formatVersion: number; status: string; counts: Record<string, number>; pairs: Array<{path: string; status: string}>};
		expect(result).toMatchObject({formatVersion: 2, status: 'different', counts: {total: 6, identical: 3, different: 1, missingReference: 1, missingOutput: 1, error: 0}});
		expect(result.pairs.map(pair => pair.path)).toEqual(
			Object.keys(TREE_EXPECTED)
				.filter(name => name !== 'corrupt.gds')
				.sort(),
		);
		const same = await runCli([reference, output, '-q', '--include', 'same.gds', '--include', 'flat.gds']);
		expect(same.exitCode, same.stderr).toBe(0);
		expect(same.stdout).toMatch(/^2 pairs: 2 identical \(/);
	});

	test('--reporter html alone: the summary line, then where the report is', async () => {
		const root = await tempDir();
		const {reference, output} = await makeSuiteTree(root);
		const run = await runCli([reference, output, '--include', 'chip/**', '--reporter', 'html', '--no-warm-worker'], {cwd: root, env: {FORCE_COLOR: '0'}});
		expect(run.exitCode, run.stderr).toBe(1);
		expect(run.stdout).toMatch(/^\d+ pairs?: \d+ identical, 1 different \(\d+\.\d s, \d KLayout workers?\)\nreport: lyipc-report\/index\.html$/);
	});

	describeBrowser('--reporter html', () => {
		test('lyipc-report/: the page and its pictures in one folder that can be moved; pictures, legend and scale bar drawn; a click enlarges', async () => {
			const root = await tempDir();
			const {reference, output} = await makeSuiteTree(root);
			const run = await runCli([reference, output, '--reporter', 'html', '--reporter', 'junit=lyipc-report/junit.xml', '-q'], {cwd: root});
			expect(run.exitCode, run.stderr).toBe(2);
			expect(run.stdout).toBe(''); // quiet; the reports are files
			// Uploaded as a CI artifact: the folder alone, somewhere else.
			const moved = path.join(root, 'artifact', 'report');
			await execa('mkdir', ['-p', path.dirname(moved)]);
			await execa('mv', [path.join(root, 'lyipc-report'), moved]);
			const report = path.join(moved, 'index.html');
			const html = await readFile(report, 'utf8');
			for (const name of Object.keys(TREE_EXPECTED)) {
				expect(html).toContain(`>${name}<`);
			}

			expect(html).toMatch(/lyipc-diff: 4 of 7 failing/);
			const sources = [...html.matchAll(/<img src="([^"]+)"/g)].map(match => match[1]!);
			expect(sources.every(source => !source.startsWith('/') && !source.includes('..'))).toBe(true);
			// ring: the overview, A, B and the XOR close-up; only_ref: the reference; only_run: the output.
			expect([...new Set(sources)].sort()).toEqual(['chip/ring.a.png', 'chip/ring.b.png', 'chip/ring.overview.png', 'chip/ring.xor.png', 'only_ref.a.png', 'only_run.b.png']);
			// Attachments are named from the project's folder, where a CI looks for them (here: the working directory).
			expect(await readFile(path.join(moved, 'junit.xml'), 'utf8')).toContain('[[ATTACHMENT|lyipc-report/chip/ring.xor.png]]');

			// In each picture: a legend (a swatch per layer, in the band on the right) and a scale
			// bar (dark, in the band at the bottom). The XOR picture: red; the overview: a frame.
			const xor = PNG.sync.read(await readFile(path.join(moved, 'chip', 'ring.xor.png')));
			expect([xor.width, xor.height]).toEqual([960, 720]); // 480 x 360 shown, drawn at 2x
			const count = (png: PNG, colour: number[], box: number[]) => {
				let n = 0;
				for (let y = box[1]!; y < box[3]!; y++) {
					for (let x = box[0]!; x < box[2]!; x++) {
						const i = (y * png.width + x) * 4;
						n += png.data[i] === colour[0] && png.data[i + 1] === colour[1] && png.data[i + 2] === colour[2] ? 1 : 0;
					}
				}

				return n;
			};

			const ink = [0x1d, 0x23, 0x30];
			const red = [0xff, 0x20, 0x20];
			expect(count(xor, ink, [0, 672, 300, 720])).toBeGreaterThan(150); // scale bar and its length, bottom left
			expect(count(xor, red, [724, 44, 960, 672])).toBeGreaterThan(100); // the legend's XOR swatch
			expect(count(xor, ink, [724, 44, 960, 672])).toBeGreaterThan(300); // the legend's words
			expect(count(xor, red, [0, 44, 724, 672])).toBeGreaterThan(1000); // the differences
			const overview = PNG.sync.read(await readFile(path.join(moved, 'chip', 'ring.overview.png')));
			expect(count(overview, [0x1f, 0x4f, 0xe0], [0, 44, 724, 672])).toBeGreaterThan(100); // the difference framed

			// In the browser: every picture drawn. Red and the frame's blue show only in them.
			const shot = path.join(root, 'report.png');
			await screenshotPage(report, {width: 1600, height: 2400}, shot);
			const page = (await pngColours(shot)).colours;
			// Every picture's title and foot bands (a flat colour nothing else on the page has):
			// six pictures of 480 pixels wide with 11 + 12 pixel bands.
			expect(page.get('241,242,245') ?? 0).toBeGreaterThan(0.9 * 6 * 480 * 23);
			expect(page.get('255,32,32') ?? 0).toBeGreaterThan(200);
			// A click on the XOR picture (a real mouse click in Chromium) opens its full-size view.
			const enlarged = path.join(root, 'enlarged.png');
			await clickAndScreenshot(report, {width: 1600, height: 1000}, 'a[title="enlarge"] img[src="chip/ring.xor.png"]', enlarged);
			const big = (await pngColours(enlarged)).colours;
			// The XOR picture at its full 960 x 720: as much red as the PNG holds, far more than its thumbnail.
			const inPng = count(xor, red, [0, 0, 960, 720]);
			expect((big.get('255,32,32') ?? 0) / inPng).toBeGreaterThan(0.9);
			expect(big.get('255,32,32')! / (page.get('255,32,32') ?? 1)).toBeGreaterThan(1.5);
		});
	});
});

describeKLayout('directory mode in CI: the report folder, accepting changes, hints', () => {
	test('lyipc-report/ by default: made and marked, emptied by the next run, a folder that is not ours left alone', async () => {
		const root = await tempDir();
		const {reference, output} = await makeSuiteTree(root);
		const first = await runCli([reference, output, '--exclude', 'corrupt.gds', '-q'], {cwd: root});
		expect(first.exitCode, first.stderr).toBe(1);
		const report = path.join(root, 'lyipc-report');
		expect((await readdir(path.join(report, 'chip'))).sort()).toEqual(['ring.xor.gds', 'ring.xor.lyrdb']);
		expect(first.stdout).toContain('artifacts: lyipc-report');
		// The next run starts from an empty folder: nothing stale survives a pair that passes now.
		const second = await runCli([reference, output, '--include', 'same.gds', '-q'], {cwd: root});
		expect(second.exitCode).toBe(0);
		expect(await readdir(report)).toEqual(['.lyipc-report']);
		// Someone else's folder of that name is never emptied.
		const foreign = path.join(root, 'elsewhere');
		await execa('mkdir', ['-p', path.join(foreign, 'lyipc-report')]);
		await writeFile(path.join(foreign, 'lyipc-report', 'notes.txt'), 'mine');
		const refused = await runCli([reference, output], {cwd: foreign});
		expect(refused.exitCode).toBe(2);
		expect(refused.stderr).toContain('lyipc-report exists and was not written by lyipc-diff; it is left alone');
		expect(await readFile(path.join(foreign, 'lyipc-report', 'notes.txt'), 'utf8')).toBe('mine');
		// Nor is a tree being compared that lives in it.
		await execa('cp', ['-r', reference, path.join(report, 'golden')]);
		const inside = await runCli([path.join(report, 'golden'), output], {cwd: root});
		expect(inside.exitCode).toBe(2);
		expect(inside.stderr).toMatch(/the report folder lyipc-report contains the reference tree \(.*golden\): choose a folder outside the inputs/);
		expect(await readdir(path.join(report, 'golden'))).toContain('same.gds');
	});

	test('a reused --out-dir keeps no stale artifact or picture, and never removes a file lyipc did not write', async () => {
		const root = await tempDir();
		const {reference, output} = await makeSuiteTree(root);
		const out = path.join(root, 'ci-out');
		await execa('mkdir', ['-p', path.join(out, 'chip')]);
		// The user's files, there before the first run and put there between runs.
		await writeFile(path.join(out, 'README.txt'), 'mine');
		const first = await runCli([reference, output, '--include', 'chip/**', '--out-dir', out, '--reporter', 'html', '--reporter', `junit=${path.join(out, 'junit.xml')}`, '-q'], {cwd: root});
		expect(first.exitCode, first.stderr).toBe(1);
		expect((await readdir(path.join(out, 'chip'))).filter(name => name.startsWith('ring.')).length).toBeGreaterThan(3);
		await writeFile(path.join(out, 'chip', 'notes.txt'), 'mine too');
		// Now every pair passes: nothing of the first run may stay.
		await execa('cp', [path.join(reference, 'chip', 'ring.gds'), path.join(output, 'chip', 'ring.gds')]);
		const second = await runCli([reference, output, '--include', 'chip/**', '--out-dir', out, '--reporter', 'html', '-q'], {cwd: root});
		expect(second.exitCode, second.stderr).toBe(0);
		expect((await readdir(out)).sort()).toEqual(['.lyipc-report', 'README.txt', 'chip', 'index.html']);
		expect(await readdir(path.join(out, 'chip'))).toEqual(['notes.txt']);
		expect(await readFile(path.join(out, 'README.txt'), 'utf8')).toBe('mine');
		expect(await readFile(path.join(out, 'index.html'), 'utf8')).toContain('all layouts identical');
	});

	test('--update copies outputs over differing and missing references and says what it changed; --prune deletes references without output', async () => {
		const root = await tempDir();
		const {reference, output} = await makeSuiteTree(root);
		const args = [reference, output, '--exclude', 'corrupt.gds', '--reporter', 'console'];
		const updated = await runCli([...args, '--update'], {cwd: root, env: {NO_COLOR: '1'}});
		expect(updated.stdout).toMatch(new RegExp(`^updated +${escapeRegExp(path.relative(root, path.join(reference, 'chip', 'ring.gds')))}$`, 'm'));
		expect(updated.stdout).toMatch(new RegExp(`^added +${escapeRegExp(path.relative(root, path.join(reference, 'only_run.oas')))}$`, 'm'));
		expect(updated.stdout).toContain('--update: 2 references changed; 1 reference without output kept (--prune deletes them)');
		expect(updated.exitCode).toBe(1); // only_ref.gds still has no output
		expect(await readFile(path.join(reference, 'chip', 'ring.gds'))).toEqual(await readFile(path.join(output, 'chip', 'ring.gds')));
		expect(await readFile(path.join(reference, 'only_run.oas'))).toEqual(await readFile(path.join(output, 'only_run.oas')));
		expect(await readdir(reference)).toContain('only_ref.gds');
		expect((await readdir(path.join(reference, 'chip'))).filter(name => name.startsWith('.'))).toEqual([]); // no temporary files

		const pruned = await runCli([...args, '--update', '--prune'], {cwd: root, env: {NO_COLOR: '1'}});
		expect(pruned.stdout).toMatch(/^deleted +.*only_ref\.gds$/m);
		expect(pruned.exitCode).toBe(0);
		expect(await readdir(reference)).not.toContain('only_ref.gds');
		const clean = await runCli([...args], {cwd: root});
		expect(clean.exitCode, clean.stdout).toBe(0);
		expect((await runCli([...args, '--prune'], {cwd: root})).stderr).toContain('--prune deletes references whose output is gone; it goes with --update');
	});

	test('folders whose paths never match: a hint saying which level to give, not only "missing"', async () => {
		const root = await tempDir();
		const {reference, output} = await makeSuiteTree(root);
		const nested = path.join(root, 'nested');
		await execa('mkdir', ['-p', nested]);
		await execa('cp', ['-r', output, path.join(nested, 'golden')]);
		const run = await runCli([nested, reference, '--exclude', 'corrupt.gds'], {cwd: root, env: {NO_COLOR: '1'}});
		expect(run.exitCode).toBe(1);
		expect(run.stdout).toMatch(
			/^hint: no relative path is in both folders \(reference e\.g\. golden\/.*\)\. The reference paths are the output paths under golden\/: give the reference folder's golden\/ instead\.$/m,
		);
	});

	test('--picture-size sets the size pictures are shown at; they are drawn at twice that', async () => {
		const root = await tempDir();
		const {reference, output} = await makeSuiteTree(root);
		const run = await runCli([reference, output, '--include', 'chip/**', '--reporter', 'html', '--picture-size', '640x400', '-q'], {cwd: root});
		expect(run.exitCode, run.stderr).toBe(1);
		const picture = PNG.sync.read(await readFile(path.join(root, 'lyipc-report', 'chip', 'ring.xor.png')));
		expect([picture.width, picture.height]).toEqual([1280, 800]);
		expect(await readFile(path.join(root, 'lyipc-report', 'index.html'), 'utf8')).toContain('width="640" height="400"');
		const bad = await runCli([reference, output, '--picture-size', 'big']);
		expect(bad.exitCode).toBe(2);
		expect(bad.stderr).toContain("--picture-size: expected WIDTHxHEIGHT in pixels, from 320x240 to 2000x2000, got 'big'");
	});
});

function escapeRegExp(text: string): string {
	return text.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describeKLayout('shared defaults from lyipc.config.json / package.json', () => {
	test('the config sets layers, workers and reporters; the command line wins; a bad config is exit 2', async () => {
		const root = await tempDir();
		const {reference, output} = await makeSuiteTree(root);
		const project = path.join(root, 'project');
		await execa('mkdir', ['-p', path.join(project, 'sub')]);
		// chip/ring.gds differs on 1/0 only: comparing layer 2/0 finds nothing.
		await writeFile(path.join(project, 'lyipc.config.json'), JSON.stringify({layers: ['2/0'], workers: 1, reporters: ['junit=reports/layout.xml'], include: ['chip/**']}));
		const configured = await runCli([reference, output], {cwd: path.join(project, 'sub')}); // found from a subfolder
		expect(configured.exitCode, configured.stderr).toBe(0);
		const junit = await readFile(path.join(project, 'sub', 'reports', 'layout.xml'), 'utf8');
		expect(junit).toMatch(/<testsuites name="lyipc-diff" tests="1" failures="0" errors="0"/);

		const overridden = await runCli([reference, output, '--layers', '1/0', '--json'], {cwd: project});
		expect(overridden.exitCode, overridden.stderr).toBe(1);
		expect(JSON.parse(overridden.stdout)).toMatchObject({counts: {total: 1, different: 1}, workers: {size: 1}});
		const single = [path.join(reference, 'chip', 'ring.gds'), path.join(output, 'chip', 'ring.gds'), '--no-view'];
		expect((await runCli(single, {cwd: project})).exitCode).toBe(0); // workers and reporters: not for two files
		expect((await runCli([...single, '--no-config'], {cwd: project})).exitCode).toBe(1);

		await writeFile(path.join(project, 'package.json'), JSON.stringify({name: 'p', lyipc: {tolerance: 'small'}}));
		await rm(path.join(project, 'lyipc.config.json'));
		const bad = await runCli(single, {cwd: project});
		expect(bad.exitCode).toBe(2);
		expect(bad.stderr).toContain(`${path.join(project, 'package.json')} ("lyipc"): tolerance: expected a number >= 0, got "small"`);
	});
});
