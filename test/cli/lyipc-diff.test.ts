import {chmod, copyFile, link, mkdir, readdir, readFile, stat, symlink} from 'node:fs/promises';
import path from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import {execa} from 'execa';
import {describe, expect, test} from 'vitest';
import {CLI, describeKLayout, FAKE_KLAYOUT, fixture, inspect, processAlive, processesMatching, runCli, useTempDirs, type CliRun} from '../helpers/run.js';
import type {CompareResult} from '../../src/xor/result.js';
import {waitFor} from '../helpers/poll.js';
import {CONTEXT_SKIPPED, skipsContextMeta} from '../helpers/newer-klayout.js';

/** Everything under `dir`, recursively, relative to it. */
async function listTree(dir: string): Promise<string[]> {
	const entries = await readdir(dir, {recursive: true});
	return entries.map(String).sort();
}

// biome-ignore lint/suspicious/noExplicitAny: tests read any path of the --json output
type AnyJson = Record<string, any>;

function jsonOf(run: CliRun): AnyJson {
	return JSON.parse(run.stdout) as AnyJson;
}

describeKLayout('lyipc-diff on the fixtures', () => {
	const tempDir = useTempDirs();

	const diffQuietly = async (args: string[]) => diff(args);

	/** Runs the bin with its own TMPDIR so that leftovers can be seen. */
	async function diff(args: string[]): Promise<CliRun & {tmp: string}> {
		const tmp = await tempDir();
		const run = await runCli(args, {env: {TMPDIR: tmp, NO_COLOR: '1'}, cwd: tmp});
		return {...run, tmp};
	}

	test.each([
		['identical_a.gds', 'identical_b.gds', 'identical: 4 layers compared'],
		['base.gds', 'dbu_0p5nm.gds', 'B  .*dbu_0p5nm\\.gds   dbu 0\\.0005 µm'],
		['base.gds', 'renamed_top.gds', 'top cells: CHIP \\(A\\) vs CHIP_RENAMED \\(B\\)'],
		['base.gds', 'base_flat.gds', 'identical: 4 layers compared'],
		['base.gds', 'base.oas', 'identical: 4 layers compared'],
		['base.gds', 'base.gds.gz', 'identical: 4 layers compared'],
	])('%s vs %s: exit 0', async (a, b, expected) => {
		const run = await diff([fixture(a), fixture(b)]);
		expect(run.stderr).toBe('');
		expect(run.exitCode).toBe(0);
		expect(run.stdout).toMatch(new RegExp(expected));
		expect(run.stdout).toMatch(/^identical: /m);
		expect(run.stdout).not.toMatch(/^engine/m); // how it was done: --verbose
		expect(run.stdout).toMatch(/^1\/0 +4 +4 +0 +same$/m);
		expect(await listTree(run.tmp)).toEqual([]);
	});

	test('byte-identical files: exit 0 without KLayout', async () => {
		const run = await diff([fixture('base.gds'), fixture('base.gds'), '--klayout', '/nonexistent/klayout']);
		expect(run.exitCode).toBe(0);
		expect(run.stdout).toContain('identical: the files are byte-identical (KLayout not needed)');
	});

	test('--verbose: auto says per layer what ran, and why a layer needed a full XOR', async () => {
		const diff = async (args: string[]) => diffQuietly([...args, '--verbose']);
		// Small layouts skip the structural diff (a full XOR costs less); --structure always runs it.
		const small = await diff([fixture('base.gds'), fixture('one_shape.gds')]);
		expect(small.stdout).toMatch(/^engine: auto: full XOR: flat \(4 layers\)$/m);
		const one = await diff([fixture('base.gds'), fixture('one_shape.gds'), '--structure', 'always']);
		expect(one.stdout).toMatch(/^engine: auto: 3 layers unchanged shape for shape, no XOR needed; 1 layer XORed only around the changes \(1 window\)$/m);
		const often = await diff([fixture('placed_very_often_a.gds'), fixture('placed_very_often_b.gds')]);
		expect(often.exitCode).toBe(1);
		expect(often.stdout).toMatch(/^engine: auto: 1 layer unchanged shape for shape, no XOR needed; full XOR: deep \(1 layer\)$/m);
		expect(often.stdout).toMatch(/^ {2}full XOR on 1\/0: a change in cell UNIT, which is placed 90,000 times$/m);
		expect(often.stdout).toMatch(/^1\/0 +90,000 +90,000 +90,000 +[\d,.]+ +500 nm +x [-\d.]+ \.\. [-\d.]+, y [-\d.]+ \.\. [-\d.]+ +different$/m);
		const zero = await diff([fixture('base.gds'), fixture('zero_area_layer.gds')]);
		expect(zero.stdout).toMatch(/^engine: auto: 1 layer in one file only, every shape a difference; full XOR: flat \(4 layers\)$/m);
	});

	test('a restructured cell tree: the same answer as a full XOR, whether or not the structural diff runs', async () => {
		for (const [a, b] of [
			['moved_into_child_a.gds', 'moved_into_child_b.gds'],
			['placed_twice_a.gds', 'placed_twice_b.gds'],
		] as const) {
			for (const structure of ['always', 'auto', 'never']) {
				const run = await diff([fixture(a), fixture(b), '--structure', structure, '--json']);
				expect(run.exitCode, `${a} vs ${b}, --structure ${structure}`).toBe(1);
				const result = JSON.parse(run.stdout) as CompareResult;
				expect(
					result.layers.map(layer => [layer.key, layer.status]),
					`${a} vs ${b}`,
				).toEqual([
					['1/0', 'different'],
					['2/0', 'different'],
					['3/0', 'different'],
				]);
			}
		}
	});

	test('a layer of zero-area shapes in B only: a difference, exit 1, as strmxor says', async () => {
		const run = await diff([fixture('base.gds'), fixture('zero_area_layer.gds')]);
		expect(run.exitCode).toBe(1);
		expect(run.stdout).toMatch(/^7\/0 +- +2 +2 +0 +x [-\d.]+ \.\. [-\d.]+, y [-\d.]+ \.\. [-\d.]+ +only in B$/m);
		expect(run.stdout).toMatch(/^different: 1 of 5 layers differs$/m);
	});

	test('a file from a newer KLayout: compared without its context cell, and the summary says so; --strict-read: exit 2 naming both versions', async () => {
		const json = await diff([fixture('base.gds'), fixture('newer_klayout.gds'), '--json']);
		// KLayout before 0.29 cannot read the meta data in its context cell; 0.29 and later read it.
		const older = skipsContextMeta(jsonOf(json).klayout.version as string);
		const note = older ? CONTEXT_SKIPPED : null;
		expect(jsonOf(json)).toMatchObject({status: 'different', a: {readNote: null}, b: {readNote: note}});
		expect(await listTree(json.tmp)).not.toContainEqual(expect.stringMatching(/lyipc-context-/));

		const run = await diff([fixture('base.gds'), fixture('newer_klayout.gds')]);
		expect(run.exitCode).toBe(1);
		expect(run.stdout).toMatch(/^A {2}.*base\.gds {3}dbu 0\.001 µm$/m);
		expect(run.stdout).toMatch(older ? /^B {2}.*newer_klayout\.gds {3}dbu 0\.001 µm {3}context meta data skipped: written by a newer KLayout$/m : /^B {2}.*newer_klayout\.gds {3}dbu 0\.001 µm$/m);

		const strict = await diff([fixture('base.gds'), fixture('newer_klayout.gds'), '--strict-read']);
		if (!older) {
			expect(strict.exitCode).toBe(1);
			return;
		}

		expect(strict.exitCode).toBe(2);
		expect(strict.stderr).toMatch(
			/newer_klayout\.gds: cannot read layout B: it was written by a newer KLayout \(its context cell holds meta data that KLayout 0\.\d+\.\d+ cannot read: Invalid record inside a context info cell/,
		);
		expect(strict.stderr).toMatch(/compare with KLayout 0\.29 or later \(--klayout PATH\)/);
		const strictJson = await diff([fixture('newer_klayout.gds'), fixture('base.gds'), '--json', '--strict-read']);
		expect(jsonOf(strictJson)).toMatchObject({status: 'error', error: {code: 'READ_ERROR', hint: expect.stringMatching(/KLayout 0\.29 or later/)}});
	});

	test('one-shape difference: exit 1, the table, and the paths of what it wrote', async () => {
		const run = await diff([fixture('base.gds'), fixture('one_shape.gds')]);
		expect(run.exitCode).toBe(1);
		expect(run.stdout).toMatch(/^top cell: CHIP$/m);
		expect(run.stdout).toMatch(/^layer +A shapes +B shapes +XOR +area µm² +max width +where \(µm\) +status$/m);
		expect(run.stdout).toMatch(/^1\/0 +4 +5 +1 +6 +2 µm +x 20 \.\. 22, y 20 \.\. 23 +different$/m); // the area and place of the change
		expect(run.stdout).toMatch(/^2\/0 +1 +1 +0 +same$/m);
		expect(run.stdout).toMatch(/^different: 1 of 4 layers differs$/m);
		const xor = /^XOR layout: +(.+)$/m.exec(run.stdout)?.[1];
		const rdb = /^marker database: +(.+)$/m.exec(run.stdout)?.[1];
		expect(xor).toBe(path.join(run.tmp, path.basename(path.dirname(xor!)), 'base_vs_one_shape.xor.gds'));
		expect(path.dirname(rdb!)).toBe(path.dirname(xor!));
		expect(path.basename(path.dirname(xor!))).toMatch(/^lyipc-diff-/);
		expect(await listTree(path.dirname(xor!))).toEqual(['base_vs_one_shape.xor.gds', 'base_vs_one_shape.xor.lyrdb']);
		const {layout, rdb: markers} = await inspect({layout: xor, rdb});
		expect(layout!.layers).toEqual({'1/0': {polygons: 1, area: 6}});
		expect(markers!.items).toHaveLength(1);
	});

	test('layer only in B', async () => {
		const run = await diff([fixture('base.gds'), fixture('extra_layer.gds')]);
		expect(run.exitCode).toBe(1);
		expect(run.stdout).toMatch(/^5\/0 +- +2 +2 +22 +x 5 \.\. 28, y 5 \.\. 27 +only in B$/m);
	});

	test('sliver: a difference without tolerance; exit 0 with --tolerance, reported in its own column', async () => {
		expect((await diff([fixture('base.gds'), fixture('sliver.gds')])).exitCode).toBe(1);
		const run = await diff([fixture('base.gds'), fixture('sliver.gds'), '--tolerance', '0.01']);
		expect(run.exitCode).toBe(0);
		expect(run.stdout).toMatch(/^layer +A shapes +B shapes +XOR +slivers +status$/m);
		expect(run.stdout).toMatch(/^1\/0 +4 +5 +0 +1 +same \(slivers only\)$/m);
		expect(run.stdout).toContain('identical: 4 layers compared; 1 difference within the tolerance of 0.01 µm');
		expect(await listTree(run.tmp)).toEqual([]);
	});

	test('several top cells: the unpaired ones of each side compared with each other', async () => {
		const run = await diff([fixture('multi_top_a.gds'), fixture('multi_top_b.gds')]);
		expect(run.exitCode).toBe(1);
		expect(run.stdout).toMatch(/^top cell: CHIP\ntop renamed: EXTRA_A → EXTRA_B$/m);
	});

	test('--top-a/--top-b, --layers, --ignore-layers, --mode, --threads, --tile-size', async () => {
		const tops = await diff([fixture('multi_top_a.gds'), fixture('multi_top_b.gds'), '--top-a', 'CHIP', '--top-b', 'CHIP', '--json']);
		expect(jsonOf(tops).topCells).toEqual([{a: 'CHIP', b: 'CHIP', status: 'compared'}]);
		const layers = await diff([fixture('base.gds'), fixture('extra_layer.gds'), '--layers', '1/0,2/0', '--json']);
		expect(layers.exitCode).toBe(0);
		expect(jsonOf(layers).layers.map((layer: {key: string}) => layer.key)).toEqual(['1/0', '2/0']);
		const ignored = await diff([fixture('base.gds'), fixture('extra_layer.gds'), '--ignore-layers', '5', '--json']);
		expect(ignored.exitCode).toBe(0);
		const tiled = await diff([fixture('base.gds'), fixture('one_shape.gds'), '--mode', 'tiled', '--threads', '2', '--tile-size', '5', '--json']);
		expect(tiled.exitCode).toBe(1);
		expect(jsonOf(tiled).layers.map((layer: {mode: string; tileSize: number}) => [layer.mode, layer.tileSize])).toEqual(Array.from({length: 4}, () => ['tiled', 5]));
		const deep = await diff([fixture('base.gds'), fixture('one_shape.gds'), '--mode', 'deep', '-v']);
		expect(deep.stdout).toMatch(/^engine: deep \(4 layers\)$/m);
	});

	test('--json: the result object alone on stdout', async () => {
		const run = await diff([fixture('base.gds'), fixture('via_changed.gds'), '--json', '--max-markers', '4']);
		expect(run.exitCode).toBe(1);
		const result = jsonOf(run);
		expect(result).toMatchObject({
			formatVersion: 1,
			status: 'different',
			identical: false,
			differentLayers: 1,
			a: {path: fixture('base.gds'), format: 'gds', gzip: false, dbu: 0.001, topCells: ['CHIP']},
			b: {path: fixture('via_changed.gds'), dbu: 0.001},
			dbu: 0.001,
			fastPath: null,
			mode: 'auto',
			tolerance: 0,
			topCells: [{a: 'CHIP', b: 'CHIP', status: 'compared'}],
			klayout: {version: expect.stringMatching(/^0\.\d+\.\d+/)},
		});
		expect(result.layers.find((layer: {key: string}) => layer.key === '4/0')).toMatchObject({
			layer: 4,
			datatype: 0,
			name: null,
			status: 'different',
			countA: 10,
			countB: 20,
			xorCount: 10,
			xorArea: 2.5,
			sliverCount: 0,
			markers: 4,
			markersOmitted: 6,
		});
		expect(Object.keys(result.timings).sort()).toEqual(['readMs', 'startMs', 'structureMs', 'totalMs', 'writeMs', 'xorMs']);
		expect((await stat(result.artifacts.xor)).isFile()).toBe(true);
		expect((await stat(result.artifacts.rdb)).isFile()).toBe(true);
	});

	test('--out, --rdb and --out-dir put the files there and nowhere else', async () => {
		const dir = await tempDir();
		const run = await runCli([fixture('base.gds'), fixture('one_shape.gds'), '--out', 'x/diff.oas', '--rdb', 'y/markers.lyrdb'], {cwd: dir, env: {TMPDIR: dir}});
		expect(run.exitCode).toBe(1);
		expect(await listTree(dir)).toEqual(['x', 'x/diff.oas', 'y', 'y/markers.lyrdb']);
		const {layout} = await inspect({layout: path.join(dir, 'x', 'diff.oas')});
		expect(layout!.layers).toEqual({'1/0': {polygons: 1, area: 6}});

		const outDir = await tempDir();
		const inDir = await runCli([fixture('base.gds'), fixture('one_shape.gds'), '--out-dir', path.join(outDir, 'results'), '-q'], {cwd: outDir, env: {TMPDIR: outDir}});
		expect(inDir.exitCode).toBe(1);
		expect(inDir.stdout).toBe('');
		expect(await listTree(outDir)).toEqual(['results', 'results/base_vs_one_shape.xor.gds', 'results/base_vs_one_shape.xor.lyrdb']);
	});

	test('--quiet prints nothing; the exit code tells', async () => {
		const same = await diff([fixture('identical_a.gds'), fixture('identical_b.gds'), '--quiet']);
		expect([same.exitCode, same.stdout, same.stderr]).toEqual([0, '', '']);
	});
});

describeKLayout('lyipc-diff on bad input: exit 2, the file and the cause, nothing left behind', () => {
	const tempDir = useTempDirs();

	async function refused(args: string[], expected: RegExp, env: Record<string, string> = {}): Promise<CliRun> {
		const tmp = await tempDir();
		const outDir = path.join(tmp, 'out');
		const run = await runCli([...args, '--out-dir', outDir], {env: {TMPDIR: tmp, ...env}, cwd: tmp});
		expect(run.exitCode).toBe(2);
		expect(run.stdout).toBe('');
		expect(run.stderr).toMatch(expected);
		expect(await listTree(tmp)).toEqual([]);
		return run;
	}

	test.each([
		['missing file', ['nope.gds', 'base.gds'], /^lyipc-diff: nope\.gds \(A\): no such file$/m],
		['a directory', ['.', 'base.gds'], /^lyipc-diff: \. is a directory and .*base\.gds is not: compare two layout files or two directories$/m],
		['an empty file', ['base.gds', 'empty.gds'], /empty\.gds \(B\): file is empty \(0 bytes\)/],
		['a text file named .gds', ['not_layout.gds', 'base.gds'], /not_layout\.gds \(A\): not a GDSII or OASIS file: is text starting with "This is a text file/],
		['a truncated GDS', ['base.gds', 'truncated.gds'], /truncated\.gds: cannot read layout B: Unexpected end-of-file/],
	])('%s', async (_name, files, expected) => {
		await refused(
			files.map(file => (file === 'nope.gds' || file === '.' ? file : fixture(file))),
			expected,
		);
	});

	test('an unreadable file', async () => {
		const dir = await tempDir();
		await chmod(dir, 0o755);
		const locked = path.join(dir, 'locked.gds');
		await copyFile(fixture('base.gds'), locked);
		await chmod(locked, 0o000);
		// root reads anything: run the bin as nobody then, so the permission check is real.
		const asNobody = process.getuid?.() === 0 ? {uid: 65_534, gid: 65_534} : {};
		const run = await runCli([locked, fixture('base.gds')], {cwd: dir, ...asNobody});
		expect(run.exitCode).toBe(2);
		expect(run.stderr).toContain(`lyipc-diff: ${locked} (A): permission denied`);
	});

	test.each([
		[['--bogus', 'a.gds', 'b.gds'], /^lyipc-diff: unknown option --bogus\nRun 'lyipc-diff --help' for the options\.$/m],
		[['a.gds'], /expected two layout files A and B \(or two directories\), got one/],
		[[], /expected two layout files A and B \(or two directories\), got none/],
		[['a.gds', 'b.gds', 'c.gds'], /got 3: a\.gds b\.gds c\.gds/],
		[['--mode', 'fast', 'a.gds', 'b.gds'], /--mode: expected one of auto, deep, flat, tiled, got 'fast'/],
		[['--structure', 'sometimes', 'a.gds', 'b.gds'], /--structure: expected one of auto, always, never, got 'sometimes'/],
		[['--tolerance', 'abc', 'a.gds', 'b.gds'], /--tolerance: expected a width in µm, got 'abc'/],
		[['--layers', '1/x', 'a.gds', 'b.gds'], /invalid layer '1\/x'/],
		[['--threads', '0', 'a.gds', 'b.gds'], /threads must be a whole number >= 1/],
		[['--timeout=-1', 'a.gds', 'b.gds'], /--timeout: expected seconds >= 0/],
		[['--tolerance'], /option --tolerance needs a value/],
		[['--json=yes', 'a.gds', 'b.gds'], /option --json takes no value/],
	])('usage error %j', async (args, expected) => {
		const run = await runCli(args);
		expect(run.exitCode).toBe(2);
		expect(run.stderr).toMatch(expected);
	});

	test.each([
		['--out is A', () => ['a.gds', 'b.gds', '--out', 'a.gds'], /--out a\.gds is input a\.gds/],
		['--rdb is B', (dir: string) => ['a.gds', 'b.gds', '--rdb', path.join(dir, 'b.gds')], /--rdb .*b\.gds is input b\.gds/],
		['--out is a symlink to A', () => ['a.gds', 'b.gds', '--out', 'link.gds'], /--out link\.gds is input a\.gds/],
		['--rdb is a hard link of B', () => ['a.gds', 'b.gds', '--rdb', 'hard.lyrdb'], /--rdb hard\.lyrdb is input b\.gds/],
		['--out is A, byte-identical inputs', () => ['a.gds', 'a-copy.gds', '--out', 'a.gds'], /--out a\.gds is input a\.gds/],
	])('an output that is an input: %s -> exit 2, nothing written, the input intact', async (_name, args, expected) => {
		const dir = await tempDir();
		await copyFile(fixture('base.gds'), path.join(dir, 'a.gds'));
		await copyFile(fixture('base.gds'), path.join(dir, 'a-copy.gds'));
		await copyFile(fixture('one_shape.gds'), path.join(dir, 'b.gds'));
		await symlink(path.join(dir, 'a.gds'), path.join(dir, 'link.gds'));
		await link(path.join(dir, 'b.gds'), path.join(dir, 'hard.lyrdb'));
		const before = await listTree(dir);
		const run = await runCli(args(dir), {cwd: dir, env: {TMPDIR: dir}});
		expect(run.exitCode).toBe(2);
		expect(run.stderr).toMatch(expected);
		expect(await listTree(dir)).toEqual(before);
		expect(await readFile(path.join(dir, 'a.gds'))).toEqual(await readFile(fixture('base.gds')));
		expect(await readFile(path.join(dir, 'b.gds'))).toEqual(await readFile(fixture('one_shape.gds')));
	});

	test('a write error names the path given, not a hidden temporary file', async () => {
		const dir = await tempDir();
		await chmod(dir, 0o755);
		const home = path.join(dir, 'home');
		await mkdir(home, {mode: 0o777});
		await chmod(home, 0o777);
		await mkdir(path.join(dir, 'locked'));
		const out = path.join(dir, 'locked', 'diff.gds');
		// root writes anywhere: run the bin as nobody, so the folder is really not writable.
		const asNobody = process.getuid?.() === 0 ? {uid: 65_534, gid: 65_534} : {};
		await chmod(path.join(dir, 'locked'), 0o555);
		const run = await runCli([fixture('base.gds'), fixture('one_shape.gds'), '--out', out], {cwd: home, env: {TMPDIR: home, HOME: home, KLAYOUT_HOME: home}, ...asNobody});
		expect(run.exitCode).toBe(2);
		expect(run.stderr).toContain(`${out}: cannot write XOR layout`);
		expect(run.stderr).not.toMatch(/lyipc-[\da-f]{8}\.tmp/);
		expect(await readdir(path.join(dir, 'locked'))).toEqual([]);
	});

	test('a very long output name: written, no temporary file left', async () => {
		const dir = await tempDir();
		const out = path.join(dir, `${'x'.repeat(240)}.gds`);
		const run = await runCli([fixture('base.gds'), fixture('one_shape.gds'), '--out', out, '-q'], {cwd: dir, env: {TMPDIR: dir}});
		expect(run.exitCode).toBe(1);
		expect(await readdir(dir)).toEqual([path.basename(out), `${'x'.repeat(240)}.lyrdb`].sort());
	});

	test('--out with a name that is no layout', async () => {
		await refused([fixture('base.gds'), fixture('one_shape.gds'), '--out', 'diff.txt'], /--out diff\.txt: the XOR layout needs a layout extension/);
	});

	test('KLayout missing: --klayout and KLAYOUT name what was tried and say how to install', async () => {
		const run = await refused([fixture('base.gds'), fixture('one_shape.gds'), '--klayout', '/nonexistent/klayout'], /--klayout \/nonexistent\/klayout: not an executable file/);
		expect(run.stderr).toContain('sudo apt-get install klayout');
		await refused([fixture('base.gds'), fixture('one_shape.gds')], /KLAYOUT \/opt\/none\/klayout: not an executable file/, {KLAYOUT: '/opt/none/klayout'});
	});

	test('KLayout too old', async () => {
		await refused([fixture('base.gds'), fixture('one_shape.gds'), '--klayout', path.join(FAKE_KLAYOUT, 'too-old')], /KLayout 0\.27\.8 at .* is too old: lyipc needs 0\.28 or newer/);
	});

	test('KLayout crashing mid-comparison', async () => {
		await refused(
			[fixture('base.gds'), fixture('one_shape.gds'), '--klayout', path.join(FAKE_KLAYOUT, 'crash-on-job')],
			/comparing .*base\.gds and .*one_shape\.gds: the KLayout worker died \(killed by SIGSEGV\) during xor/,
		);
	});

	test('a program that is not KLayout', async () => {
		await refused([fixture('base.gds'), fixture('one_shape.gds'), '--klayout', path.join(FAKE_KLAYOUT, 'not-klayout')], /KLayout at .*not-klayout exited \(exit code 64\) before it was ready/);
	});

	test('a timeout stops KLayout and says how to raise it', async () => {
		const run = await refused(
			[fixture('base.gds'), fixture('one_shape.gds'), '--timeout', '0.001'],
			/comparing .*base\.gds and .*one_shape\.gds took longer than the timeout \(0\.001 s\); KLayout was stopped/,
		);
		expect(run.stderr).toContain('--timeout SEC');
	});

	test('Ctrl+C while KLayout works: exit 2, KLayout stopped, nothing left behind', async () => {
		const tmp = await tempDir();
		const child = execa(process.execPath, [CLI, fixture('base.gds'), fixture('one_shape.gds'), '--out-dir', path.join(tmp, 'out')], {reject: false, cwd: tmp, env: {TMPDIR: tmp}});
		// Wait until the KLayout worker is running, then interrupt as a terminal would.
		let workers: number[] = [];
		for (let i = 0; i < 100 && workers.length === 0; i++) {
			await delay(20);
			workers = await processesMatching('klayout/worker.py', child.pid);
		}

		expect(workers.length).toBeGreaterThan(0);
		child.kill('SIGINT');
		const run = await child;
		expect(run.exitCode).toBe(2);
		expect(String(run.stderr)).toMatch(/aborted/);
		expect(await listTree(tmp)).toEqual([]);
		await waitFor('the workers to stop', () => workers.every(pid => !processAlive(pid)));
	});

	test('--json on an error: a status "error" object with the code, and still exit 2', async () => {
		const tmp = await tempDir();
		const run = await runCli([fixture('empty.gds'), fixture('base.gds'), '--json'], {cwd: tmp, env: {TMPDIR: tmp}});
		expect(run.exitCode).toBe(2);
		expect(JSON.parse(run.stdout)).toEqual({
			formatVersion: 1,
			status: 'error',
			error: {code: 'INPUT_EMPTY', message: `${fixture('empty.gds')} (A): file is empty (0 bytes)`, path: fixture('empty.gds')},
		});
	});
});

describe('lyipc-diff --help and --version', () => {
	test('--help lists every option', async () => {
		const run = await runCli(['--help']);
		expect(run.exitCode).toBe(0);
		for (const option of [
			'--json',
			'--tolerance',
			'--layers',
			'--ignore-layers',
			'--top-a',
			'--top-b',
			'--mode',
			'--structure',
			'--threads',
			'--tile-size',
			'--timeout',
			'--klayout',
			'--out-dir',
			'--out',
			'--rdb',
			'--max-markers',
			'--strict-read',
			'--quiet',
			'--help',
			'--version',
			'--view',
			'--no-view',
			'--target',
			'--include',
			'--exclude',
			'--workers',
			'--reporter',
		]) {
			expect(run.stdout).toContain(option);
		}

		expect(run.stdout).toContain('Exit codes: 0 no differences, 1 differences (or, for directories, a file on one side\nonly), 2 could not compare (for directories: any pair).');
	});

	test('--version', async () => {
		const run = await runCli(['--version']);
		expect(run.stdout).toMatch(/^lyipc-diff \d+\.\d+\.\d+$/);
	});
});
