import {copyFile, cp, mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {execa} from 'execa';
import {beforeAll, describe, expect, test} from 'vitest';
import {gdsLibrary} from '../helpers/gds-records.mjs';
import {freePort, kill, pngColours, redShare, startXvfb, useGuiViewer, viewerStatus} from '../helpers/gui.js';
import {describeKLayout, fixture, LYIPC_CLI, processAlive, ROOT, runCli} from '../helpers/run.js';
import {makeSuiteTree} from '../helpers/suite-tree.js';
import {showDiffInViewer} from '../../src/viewer/show-diff.js';
import {compareLayouts} from '../../src/xor/compare.js';
import {waitFor} from '../helpers/poll.js';

// The test's own working directory: relative paths given to lyipc are relative to it.
const lyipc = async (args: string[], env: Record<string, string> = {}) => runCli(args, {env, extendEnv: true, cwd: process.cwd()}, LYIPC_CLI);

describe('lyipc without a viewer: usage errors and no viewer, exit 2', () => {
	test('usage errors are found before connecting', async () => {
		for (const args of [['load'], ['frobnicate'], ['load', fixture('base.gds'), '--new', '--add'], ['screenshot'], ['status', '--bogus']]) {
			const run = await lyipc(args, {LYIPC_PORT: '1'});
			expect(run.exitCode, args.join(' ')).toBe(2);
			expect(run.stderr, args.join(' ')).toMatch(/^lyipc: .+\nRun 'lyipc --help'/);
		}

		// An option of another command is not silently ignored: --port is where a viewer listens.
		const misplaced = await lyipc(['load', fixture('base.gds'), '--port', '5'], {LYIPC_PORT: '1'});
		expect(misplaced.exitCode).toBe(2);
		expect(misplaced.stderr).toMatch(/^lyipc: --port is not an option of 'load' \(it is for: viewer, server\)\n/);

		const missing = await lyipc(['load', 'no/such/chip.gds'], {LYIPC_PORT: '1'});
		expect(missing.exitCode).toBe(2);
		expect(missing.stderr).toBe('lyipc: no/such/chip.gds: no such file');
		const version = await lyipc(['-V']);
		expect(version.stdout).toMatch(/^lyipc \d+\.\d+\.\d+$/);
		const typo = await lyipc(['stauts', '--tiemout', '3']);
		expect(typo.stderr).toContain('unknown option --tiemout (did you mean --timeout?)');
		expect((await lyipc(['stauts'], {LYIPC_PORT: '1'})).stderr).toContain("unknown command 'stauts' (did you mean status?)");
		const help = await lyipc(['--help']);
		expect(help.exitCode).toBe(0);
		expect(help.stdout).toMatch(/^Usage: lyipc <command>/);
	});

	test('every command has its own help: COMMAND --help or -h, exit 0, naming each of its options', async () => {
		const own: Record<string, string[]> = {
			load: ['--new', '--add'],
			reload: [],
			status: ['--json'],
			screenshot: ['--width', '--height'],
			ping: [],
			quit: ['--force'],
			watch: [],
			animate: ['--interval', '--loop'],
			viewer: ['--port', '--host', '--klive', '--klayout'],
			server: ['--uninstall', '--port', '--no-autostart', '--allow-remote-v1'],
			job: ['--remote', '--get', '--show'],
			'git-setup': ['--global', '--uninstall'],
		};
		for (const [command, options] of Object.entries(own)) {
			for (const args of [
				[command, '--help'],
				['--target', 'nowhere', command, '-h'],
			]) {
				const run = await lyipc(args, {LYIPC_PORT: '1'});
				expect(run.exitCode, args.join(' ')).toBe(0);
				expect(run.stdout, args.join(' ')).toMatch(new RegExp(`^Usage: lyipc ${command}\\b`));
				for (const option of options) {
					expect(run.stdout, `${command}: ${option}`).toContain(option);
				}
			}
		}

		// After --, the words are the job's command's own: its --help is not lyipc's.
		const job = await lyipc(['job', '--remote', 'nohost.invalid', '--', 'ls', '--help'], {LYIPC_SSH: 'false'});
		expect(job.stdout).not.toContain('Usage: lyipc');
	});

	test('no viewer running: says where it looked and how to start one', async () => {
		const port = await freePort();
		const run = await lyipc(['ping', '--target', `127.0.0.1:${port}`]);
		expect(run.exitCode).toBe(2);
		expect(run.stderr).toMatch(new RegExp(`^lyipc: no viewer answers at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)\\nStart KLayout with the lyipc server`));
	});
});

describeKLayout('lyipc against a real KLayout GUI', () => {
	const gui = useGuiViewer();

	test('ping, load, load --add, reload, status, screenshot', async () => {
		const env = {LYIPC_PORT: String(gui.viewer.port)};
		const ping = await lyipc(['ping'], env);
		expect(ping.exitCode).toBe(0);
		expect(ping.stdout).toMatch(new RegExp(`^viewer 127\\.0\\.0\\.1:${gui.viewer.port}: KLayout 0\\.\\d+\\.\\d+, protocol 2$`));

		// A relative path: the viewer gets the absolute one.
		expect((await lyipc(['load', path.relative(process.cwd(), fixture('base.gds'))], env)).exitCode).toBe(0);
		expect((await lyipc(['load', fixture('one_shape.gds'), '--add', '--target', `127.0.0.1:${gui.viewer.port}`])).exitCode).toBe(0);
		expect((await lyipc(['reload'], env)).exitCode).toBe(0);
		const status = await lyipc(['status', '--json'], env);
		expect(status.exitCode).toBe(0);
		const {views} = JSON.parse(status.stdout) as {views: Array<{current: boolean; cellviews: Array<{file: string}>}>};
		expect(views.find(view => view.current)!.cellviews.map(cv => cv.file)).toEqual([fixture('base.gds'), fixture('one_shape.gds')]);
		const text = await lyipc(['status'], env);
		expect(text.stdout).toContain(`    ${fixture('one_shape.gds')} (cell CHIP)`);

		const shot = path.join(gui.temp, 'view.png');
		const screenshot = await lyipc(['screenshot', shot, '--width', '320', '--height', '240'], env);
		expect(screenshot.exitCode).toBe(0);
		const {width, height, colours} = await pngColours(shot);
		expect([width, height]).toEqual([320, 240]);
		expect(colours.size).toBeGreaterThan(4);
		expect(await readdir(gui.temp)).toEqual(['view.png']); // no temporary file left
	});

	test('watch: reloads once a rewrite is complete, never a half-written file; new layers appear', async () => {
		const file = path.join(gui.temp, 'live.gds');
		await copyFile(fixture('base.gds'), file);
		const env = {...process.env, LYIPC_PORT: String(gui.viewer.port)};
		const child = execa(process.execPath, [LYIPC_CLI, 'watch', file], {env, reject: false});
		let output = '';
		child.stdout.on('data', (chunk: Buffer) => {
			output += chunk.toString();
		});
		const until = async (done: () => boolean, what: string) => {
			const deadline = Date.now() + 15_000;
			while (!done()) {
				if (Date.now() > deadline) {
					throw new Error(`waited in vain for ${what}; output: ${output}`);
				}

				await new Promise(resolve => {
					setTimeout(resolve, 100);
				});
			}
		};

		const layers = async () => {
			const {views} = JSON.parse((await lyipc(['status', '--json'], {LYIPC_PORT: String(gui.viewer.port)})).stdout) as {views: Array<{current: boolean; layers: number}>};
			return views.find(view => view.current)!.layers;
		};

		await until(() => output.includes('watching 1 file'), 'the watch to start');
		const before = await layers();
		const extra = await readFile(fixture('extra_layer.gds'));
		await writeFile(file, extra.subarray(0, Math.floor(extra.length / 2)));
		await new Promise(resolve => {
			setTimeout(resolve, 1500);
		});
		expect(output.trim()).toBe('watching 1 file; Ctrl+C to stop'); // no reload tried, not even a failed one
		expect(await layers()).toBe(before);
		await writeFile(file, extra);
		await until(() => output.includes(`reloaded ${file}`), 'the reload');
		expect(await layers()).toBe(before + 1); // layer 5/0 is new in the file
		child.kill('SIGINT');
		expect((await child).exitCode).toBe(0);
	}, 60_000);

	test('animate: the frames one after the other in one view, the viewbox kept', async () => {
		const env = {LYIPC_PORT: String(gui.viewer.port)};
		const frames = [fixture('base.gds'), fixture('one_shape.gds'), fixture('via_changed.gds')];
		const run = await lyipc(['animate', ...frames, '--interval', '0.2'], env);
		expect(run.exitCode).toBe(0);
		expect(run.stdout.split('\n')).toEqual(frames.map((frame, index) => `frame ${index + 1}/3: ${frame}`));
		const {views} = JSON.parse((await lyipc(['status', '--json'], env)).stdout) as {views: Array<{current: boolean; cellviews: Array<{file: string}>}>};
		expect(views.find(view => view.current)!.cellviews.map(cv => cv.file)).toEqual([fixture('via_changed.gds')]);
	});

	test("a viewer-side error: exit 2 with the viewer's reason", async () => {
		const run = await lyipc(['reload', fixture('base.gds'), '--timeout', '5'], {LYIPC_PORT: String(gui.viewer.port)});
		expect(run.stderr).toBe('');
		expect(run.exitCode).toBe(0);
		const bad = await lyipc(['screenshot', path.join(gui.temp, 'no-such-dir', 'x.png')], {LYIPC_PORT: String(gui.viewer.port)});
		expect(bad.exitCode).toBe(2);
		expect(bad.stderr).toMatch(/^lyipc: .*no-such-dir\/x\.png: cannot write the screenshot/);
	});
});

describe('lyipc-diff pops differences up in the viewer', () => {
	test('no viewer: --view fails with exit 2; by default one line of hint; --no-view and CI=true stay silent', async () => {
		const port = String(await freePort());
		const pair = [fixture('base.gds'), fixture('one_shape.gds'), '--quiet'];
		const view = await runCli([...pair, '--view'], {env: {LYIPC_PORT: port, CI: 'false'}, extendEnv: true});
		expect(view.exitCode).toBe(2);
		expect(view.stderr).toMatch(new RegExp(`^lyipc-diff: no viewer answers at 127\\.0\\.0\\.1:${port}`));
		const quiet = await runCli(pair, {env: {LYIPC_PORT: port, CI: 'false'}, extendEnv: true});
		expect(quiet.exitCode).toBe(1);
		expect(quiet.stderr).toBe("lyipc-diff: no KLayout viewer answered; 'npx lyipc server install' shows differences in KLayout (--no-view: don't try)");
		for (const env of [
			{LYIPC_PORT: port, CI: 'false', NOVIEW: '1'},
			{LYIPC_PORT: port, CI: 'true'},
		]) {
			const run = await runCli(env.NOVIEW ? [...pair, '--no-view'] : pair, {env, extendEnv: true});
			expect(run.exitCode).toBe(1);
			expect(run.stderr).toBe('');
		}
	});
});

describeKLayout('lyipc-diff with a viewer running', () => {
	const gui = useGuiViewer();

	test('a difference opens A, B and the XOR in one new view, XOR in red, markers loaded, zoomed to it', async () => {
		const env = {LYIPC_PORT: String(gui.viewer.port), CI: 'false'};
		const run = await runCli([fixture('base.gds'), fixture('one_shape.gds'), '--json', '--out-dir', gui.temp], {env, extendEnv: true});
		expect(run.exitCode).toBe(1);
		expect(run.stderr).toMatch(/^lyipc-diff: shown in the KLayout viewer at 127\.0\.0\.1:\d+, view \d+ 'base\.gds vs one_shape\.gds'$/);
		const result = JSON.parse(run.stdout) as {artifacts: {xor: string; rdb: string}};
		const status = JSON.parse((await lyipc(['status', '--json'], env)).stdout) as {
			views: Array<{current: boolean; viewbox: number[]; cellviews: Array<{file: string}>; markerDatabases: string[]}>;
		};
		const view = status.views.find(entry => entry.current)!;
		expect(view.cellviews.map(cv => cv.file)).toEqual([fixture('base.gds'), fixture('one_shape.gds'), result.artifacts.xor]);
		expect(view.markerDatabases).toHaveLength(1);
		// The difference is the 2 x 3 µm box at (20, 20): the view is around it, not the 40 µm chip
		// (wider than high: the Marker Browser docked below takes much of a small window's height).
		const [left, bottom, right, top] = view.viewbox;
		expect(left! < 20 && bottom! < 20 && right! > 22 && top! > 23).toBe(true);
		expect(top! - bottom!).toBeLessThan(20);
		expect(right! - left!).toBeLessThan(40);
		const shot = path.join(gui.temp, 'diff.png');
		expect((await lyipc(['screenshot', shot, '--width', '400', '--height', '300'], env)).exitCode).toBe(0);
		expect(await redShare(shot)).toBeGreaterThan(0.05); // the XOR box, solid red, fills a good part of the picture
	});

	test('the same pair again reuses its view; the title names the pair; layers named A, B, XOR; the Marker Browser docked', async () => {
		const env = {LYIPC_PORT: String(gui.viewer.port), CI: 'false'};
		const before = JSON.parse((await lyipc(['status', '--json'], env)).stdout) as {views: unknown[]};
		for (let run = 0; run < 2; run++) {
			const diff = await runCli([fixture('base.gds'), fixture('via_changed.gds'), '-q', '--out-dir', path.join(gui.temp, 'again')], {env, extendEnv: true});
			expect(diff.exitCode).toBe(1);
		}

		const status = JSON.parse((await lyipc(['status', '--json'], env)).stdout) as {
			views: Array<{current: boolean; title: string; layerNames: string[]; markerDatabases: string[]}>;
			markerBrowser: string | null;
		};
		expect(status.views).toHaveLength(before.views.length + 1);
		const view = status.views.find(entry => entry.current)!;
		expect(view.title).toBe('lyipc-diff: base.gds vs via_changed.gds: 1 layer differs');
		expect(view.layerNames).toEqual(expect.arrayContaining(['A 1/0', 'A 4/0', 'B 4/0', 'XOR 4/0']));
		expect(view.markerDatabases).toHaveLength(1); // the first run's markers replaced, not added to
		expect(status.markerBrowser).toBe('docked');
		expect((await viewerStatus(gui.viewer.port)).modal).toBeNull();
	});

	test('two directories with --view: the first differing pair opens', async () => {
		const {reference, output} = await makeSuiteTree(gui.temp);
		const env = {LYIPC_PORT: String(gui.viewer.port), CI: 'false'};
		const run = await runCli([reference, output, '--view', '--exclude', 'corrupt.gds', '--out-dir', path.join(gui.temp, 'suite-out')], {env, extendEnv: true});
		expect(run.exitCode, run.stderr).toBe(1);
		const status = JSON.parse((await lyipc(['status', '--json'], env)).stdout) as {views: Array<{current: boolean; cellviews: Array<{file: string}>}>};
		expect(status.views.find(view => view.current)!.cellviews.map(cv => cv.file)).toEqual([
			path.join(reference, 'chip', 'ring.gds'),
			path.join(output, 'chip', 'ring.gds'),
			path.join(gui.temp, 'suite-out', 'chip', 'ring.xor.gds'),
		]);
	});
});

/** A and B differing on 60 layers by 1000 boxes each: a marker database of 60 000 items unless capped. */
async function manyDifferences(folder: string): Promise<[string, string]> {
	const [a, b] = [path.join(folder, 'many-a.gds'), path.join(folder, 'many-b.gds')];
	const boxes = Array.from({length: 60}, (_, layer) => Array.from({length: 1000}, (_, i) => [layer + 1, i * 2000, 0, i * 2000 + 1000, 1000] as const)).flat();
	await writeFile(a, gdsLibrary({cells: [{name: 'TOP', boxes}]}));
	await writeFile(b, gdsLibrary({cells: [{name: 'TOP', boxes: [[100, 0, 0, 1000, 1000]]}]}));
	return [a, b];
}

describeKLayout('lyipc-diff: markers the viewer takes, and a word when it does not', () => {
	const gui = useGuiViewer();

	test('60 changed layers of 1000 differences: the marker database stays within what the viewer takes, and is shown', async () => {
		const [a, b] = await manyDifferences(gui.temp);
		const env = {LYIPC_PORT: String(gui.viewer.port), CI: 'false'};
		const run = await runCli([a, b, '--json', '--out-dir', path.join(gui.temp, 'many')], {env, extendEnv: true});
		expect(run.exitCode, run.stderr).toBe(1);
		expect(run.stderr).toMatch(/^lyipc-diff: shown in the KLayout viewer at 127\.0\.0\.1:\d+, view \d+ 'many-a\.gds vs many-b\.gds'$/);
		const layers = (JSON.parse(run.stdout) as {layers: Array<{markers: number; markersOmitted: number}>}).layers;
		const listed = layers.reduce((sum, layer) => sum + layer.markers, 0);
		expect(listed + layers.reduce((sum, layer) => sum + layer.markersOmitted, 0)).toBe(60_001);
		expect(listed).toBeGreaterThan(10_000);
		expect(listed).toBeLessThanOrEqual(20_000);
		const status = await viewerStatus(gui.viewer.port);
		expect(status.views.find(view => view.current)!.markerDatabases).toHaveLength(1);
	}, 60_000);
});

describeKLayout('lyipc-diff --view against a viewer that refuses the marker database (another version, stricter)', () => {
	const serverFolder = path.join(tmpdir(), `lyipc-strict-server-${process.pid}`);
	beforeAll(async () => {
		// The server's own files, taking at most 100 markers.
		await cp(path.join(ROOT, 'klayout'), serverFolder, {recursive: true});
		const limits = path.join(serverFolder, 'lyipc_side_files.py');
		const text = await readFile(limits, 'utf8');
		expect(text).toContain('(("item",), 50000, "items", None)');
		await writeFile(limits, text.replace('(("item",), 50000, "items", None)', '(("item",), 100, "items", None)'));
		return async () => rm(serverFolder, {recursive: true, force: true});
	});
	const gui = useGuiViewer({via: 'boot', serverFolder});

	test('the layouts are shown without the markers, and one line on stderr says why', async () => {
		const [a, b] = await manyDifferences(gui.temp);
		const env = {LYIPC_PORT: String(gui.viewer.port), CI: 'false'};
		const run = await runCli([a, b, '-q', '--view', '--out-dir', path.join(gui.temp, 'many')], {env, extendEnv: true});
		expect(run.exitCode, run.stderr).toBe(1);
		expect(run.stderr).toMatch(/^lyipc-diff: the viewer shows the layouts without the marker database: .*many-a_vs_many-b\.xor\.lyrdb: more than 100 items \(<item>\); refused as a marker database$/);
		const view = (await viewerStatus(gui.viewer.port)).views.find(entry => entry.current)!;
		expect(view.cellviews.map(cellview => cellview.file)).toEqual([a, b, path.join(gui.temp, 'many', 'many-a_vs_many-b.xor.gds')]);
		expect(view.markerDatabases).toEqual([]);
	}, 60_000);

	test('the library: showDiffInViewer resolves markersSkipped, also for the XOR layout alone (A and B left on a remote host)', async () => {
		const [a, b] = await manyDifferences(gui.temp);
		const result = await compareLayouts(a, b, {outDir: path.join(gui.temp, 'library')});
		for (const inputsHere of [true, false]) {
			const shown = await showDiffInViewer(result, {target: {host: '127.0.0.1', port: gui.viewer.port}, inputsHere});
			expect(shown.markersSkipped, String(inputsHere)).toMatch(/many-a_vs_many-b\.xor\.lyrdb: more than 100 items \(<item>\); refused as a marker database$/);
		}

		expect((await viewerStatus(gui.viewer.port)).views.find(view => view.current)!.cellviews.map(cellview => cellview.file)).toEqual([result.artifacts.xor]);
	}, 60_000);
});

describeKLayout('lyipc viewer: KLayout with the server, nothing installed', () => {
	test("no display: a clear error with KLayout's own words at once, no stack trace", async () => {
		const home = await mkdtemp(path.join(tmpdir(), 'lyipc-viewer-home-'));
		try {
			const started = Date.now();
			const run = await lyipc(['viewer'], {DISPLAY: '', WAYLAND_DISPLAY: '', KLAYOUT_HOME: home, LYIPC_PORT: String(await freePort())});
			expect(run.exitCode).toBe(2);
			expect(run.stderr).toMatch(/^lyipc: KLayout \(.+\) did not start the lyipc server on 127\.0\.0\.1:\d+: KLayout ended by SIGABRT: .*no Qt platform plugin could be initialized/);
			expect(run.stderr).toContain('A KLayout GUI needs a display: DISPLAY is not set');
			expect(run.stderr).not.toMatch(/ESRCH|at .*\.js:\d+/);
			expect(Date.now() - started).toBeLessThan(20_000); // was a 61 s wait
		} finally {
			await rm(home, {recursive: true, force: true});
		}
	});

	test('starts a GUI showing the files; called again, shows the new files in it', async () => {
		const xvfb = await startXvfb();
		const home = await mkdtemp(path.join(tmpdir(), 'lyipc-viewer-home-'));
		const env = {DISPLAY: xvfb.display, KLAYOUT_HOME: home, LYIPC_PORT: String(await freePort())};
		let pid: number | undefined;
		try {
			const run = await lyipc(['viewer', fixture('base.gds')], env);
			expect(run.stderr).toBe('');
			expect(run.exitCode).toBe(0);
			pid = Number(new RegExp(`^KLayout viewer on 127\\.0\\.0\\.1:${env.LYIPC_PORT} \\(pid (\\d+)\\)$`).exec(run.stdout)?.[1]);
			expect(pid).toBeGreaterThan(0);
			const again = await lyipc(['viewer', fixture('one_shape.gds')], env);
			expect(again.stdout).toBe(`a viewer already answers at 127.0.0.1:${env.LYIPC_PORT}; 1 file shown there`);
			const {views} = JSON.parse((await lyipc(['status', '--json'], env)).stdout) as {views: Array<{cellviews: Array<{file: string}>}>};
			expect(views.flatMap(view => view.cellviews.map(cv => cv.file))).toEqual([fixture('base.gds'), fixture('one_shape.gds')]);
			// lyipc quit ends it.
			const quit = await lyipc(['quit'], env);
			expect(quit.exitCode, quit.stderr).toBe(0);
			await waitFor('KLayout to quit', () => !processAlive(pid));
			pid = undefined;
			// SIGTERM ends a viewer lyipc started (KLayout alone ignores it).
			const second = await lyipc(['viewer'], env);
			expect(second.exitCode, second.stderr).toBe(0);
			pid = Number(/\(pid (\d+)\)/.exec(second.stdout)?.[1]);
			process.kill(pid, 'SIGTERM');
			await waitFor('KLayout to end on SIGTERM', () => !processAlive(pid));
			pid = undefined;
		} finally {
			if (pid) {
				process.kill(-pid, 'SIGKILL');
			}

			kill(xvfb.process);
			await rm(home, {recursive: true, force: true});
		}
	}, 90_000);
});
