import {copyFile, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {beforeAll, expect, test} from 'vitest';
import {currentView, pngColours, useGuiViewer, v2Session, viewerStatus} from '../helpers/gui.js';
import {describeKLayout, fixture, ROOT} from '../helpers/run.js';

const SHOW = path.join(ROOT, 'test', 'peers', 'kfactory_show.py');

interface KliveReply {
	version: string;
	klayout_version: string;
	type: 'open' | 'reload' | 'error';
	file?: string;
	info?: string;
	error?: string;
}

describeKLayout('klive-compatible listener: gdsfactory/kfactory show() against the lyipc server', () => {
	const gui = useGuiViewer({klive: true});
	let klivePort = 0;
	beforeAll(() => {
		klivePort = gui.viewer.klivePort!;
	});

	/** What kfactory's show() does, timed: the reply and how long it took. */
	const show = async (request: Record<string, unknown>) => {
		const started = Date.now();
		const run = await execa('python3', [SHOW, String(klivePort), JSON.stringify(request)], {reject: false});
		expect(run.exitCode, `no reply: ${run.stdout} ${run.stderr}`).toBe(0);
		return {reply: JSON.parse(run.stdout) as KliveReply, seconds: (Date.now() - started) / 1000, bytes: Buffer.byteLength(run.stdout)};
	};

	test('hello names the klive port', async () => {
		const [hello] = await v2Session(gui.viewer.port, [{id: 1, method: 'hello'}]);
		expect(hello!.result.capabilities.klive).toBe(klivePort);
	});

	test('a new file opens in a new view, the same file again reloads in place, keeping the viewbox', async () => {
		const file = path.join(gui.temp, 'component.gds');
		await copyFile(fixture('base.gds'), file);
		const opened = await show({gds: file, keep_position: true});
		expect(opened.reply).toMatchObject({type: 'open', file, version: expect.stringMatching(/^\d+\.\d+\.\d+$/), klayout_version: expect.stringMatching(/^0\.\d+/)});
		let status = await viewerStatus(gui.viewer.port);
		const views = status.views.length;
		expect(currentView(status).cellviews.map(cv => cv.file)).toEqual([file]);
		expect(status.modal).toBeNull();

		const box = [5, 5, 20, 15];
		await v2Session(gui.viewer.port, [{id: 1, method: 'zoom', params: {box}}]);
		const before = currentView(await viewerStatus(gui.viewer.port));
		await writeFile(file, await readFile(fixture('extra_layer.gds'))); // the script wrote a new version
		const again = await show({gds: file, keep_position: true});
		expect(again.reply.type).toBe('reload');
		status = await viewerStatus(gui.viewer.port);
		expect(status.views).toHaveLength(views); // no new tab
		const after = currentView(status);
		after.viewbox.forEach((value, i) => {
			expect(value).toBeCloseTo(before.viewbox[i]!, 6);
		});
		expect(after.layers).toBe(before.layers + 1); // the new layer appears
	});

	test('keep_position: another file opens in a new view at the same place', async () => {
		const box = [10, 10, 20, 20];
		await v2Session(gui.viewer.port, [{id: 1, method: 'zoom', params: {box}}]);
		const before = currentView(await viewerStatus(gui.viewer.port)).viewbox;
		expect((await show({gds: fixture('one_shape.gds'), keep_position: true})).reply.type).toBe('open');
		const view = currentView(await viewerStatus(gui.viewer.port));
		expect(view.cellviews.map(cv => cv.file)).toEqual([fixture('one_shape.gds')]);
		view.viewbox.forEach((value, i) => {
			expect(value).toBeCloseTo(before[i]!, 3);
		});
	});

	test('lyrdb goes to the Marker Browser; markers are drawn; a missing technology is reported as info', async () => {
		const compared = await execa(
			process.execPath,
			[path.join(ROOT, 'dist', 'src', 'cli', 'lyipc-diff.js'), fixture('base.gds'), fixture('one_shape.gds'), '--json', '--no-view', '--out-dir', gui.temp],
			{reject: false},
		);
		const {artifacts} = JSON.parse(compared.stdout) as {artifacts: {rdb: string}};
		const {reply} = await show({
			gds: fixture('via_changed.gds'),
			lyrdb: artifacts.rdb,
			technology: 'no_such_pdk',
			markers: [['DBox', '(0,0;40,40)', {color: 0x00ff00, frame_color: 0x00ff00, dither_pattern: 0}]],
		});
		expect(reply).toMatchObject({type: 'open', info: expect.stringContaining('no_such_pdk')});
		const view = currentView(await viewerStatus(gui.viewer.port));
		expect(view.markerDatabases).toHaveLength(1);
		const shot = path.join(gui.temp, 'markers.png');
		await v2Session(gui.viewer.port, [{id: 1, method: 'screenshot', params: {width: 400, height: 300, path: shot}}]);
		const {colours} = await pngColours(shot);
		const green = [...colours]
			.filter(([rgb]) => {
				const [r, g, b] = rgb.split(',').map(Number);
				return r! < 80 && g! > 200 && b! < 80;
			})
			.reduce((sum, [, n]) => sum + n, 0);
		expect(green).toBeGreaterThan(0.2 * 400 * 300); // the 40 µm marker box, solid green, over most of the chip
	});

	test('errors are answered at once (klive never answers them): a missing file, not JSON, no gds', async () => {
		const missing = await show({gds: '/nonexistent/chip.gds'});
		expect(missing.reply).toMatchObject({type: 'error', error: expect.stringContaining('/nonexistent/chip.gds: no such file')});
		expect(missing.seconds).toBeLessThan(3);
		expect((await show({gdz: 1})).reply).toMatchObject({type: 'error', error: expect.stringContaining('"gds"')});
		const long = await show({gds: `/${'x'.repeat(3000)}.gds`});
		expect(long.reply.type).toBe('error');
		expect(long.bytes).toBeLessThan(1024); // clients read one recv(1024)
		const raw = await execa('python3', [
			'-c',
			`
import socket
c = socket.create_connection(("127.0.0.1", ${klivePort}), timeout=0.5)
c.sendall(b"this is not json\\n"); c.settimeout(5); print(c.recv(1024).decode())`,
		]);
		expect(JSON.parse(raw.stdout)).toMatchObject({type: 'error', error: expect.stringMatching(/^not JSON/)});
		expect((await viewerStatus(gui.viewer.port)).modal).toBeNull();
	});
});
