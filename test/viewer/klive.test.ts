import {copyFile, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {beforeAll, expect, test} from 'vitest';
import {currentView, pngColours, useGuiViewer, v2Session, viewerStatus} from '../helpers/gui.js';
import {describeKLayout, fixture, ROOT} from '../helpers/run.js';

const PEERS = path.join(ROOT, 'test', 'peers');
const SHOW = path.join(PEERS, 'kfactory_show.py');

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

	/** What kfactory's show() does, timed: the reply, how long it took and what kfactory logged. */
	const show = async (request: Record<string, unknown>) => {
		const started = Date.now();
		const run = await execa('python3', [SHOW, String(klivePort), JSON.stringify(request)], {reject: false});
		expect(run.exitCode, `no reply: ${run.stdout} ${run.stderr}`).toBe(0);
		return {reply: JSON.parse(run.stdout) as KliveReply, seconds: (Date.now() - started) / 1000, bytes: Buffer.byteLength(run.stdout), log: run.stderr};
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

	test("kfactory's, SiEPIC's and gdsfactory 7's show() each show a layout, and none warns", async () => {
		const file = path.join(gui.temp, 'peer_component.gds');
		await copyFile(fixture('base.gds'), file);
		// kfactory warns "klive is out of date" for any version above 0.4.1 (kcell.py line 3847).
		const kfactory = await show({gds: file, keep_position: true, libraries: []});
		expect(kfactory.reply).toMatchObject({type: 'open', version: '0.4.1'});
		expect(kfactory.log).toBe(`INFO klive v0.4.1: Opened file '${file}'`);

		const siepic = await execa('python3', [path.join(PEERS, 'siepic_klive.py'), String(klivePort), file], {reject: false});
		expect(siepic.exitCode, siepic.stdout).toBe(0);
		expect(JSON.parse(siepic.stdout.replace(/^Message from klive: /, ''))).toMatchObject({type: 'reload', file});

		const other = path.join(gui.temp, 'peer_other.gds');
		await copyFile(fixture('one_shape.gds'), other);
		const gdsfactory = await execa('python3', [path.join(PEERS, 'gdsfactory7_klive.py'), String(klivePort), other], {reject: false});
		expect(gdsfactory.exitCode, gdsfactory.stderr).toBe(0);
		expect(JSON.parse(gdsfactory.stdout.replace(/^INFO Message from klive: /, ''))).toMatchObject({type: 'open', file: other});
		expect((await viewerStatus(gui.viewer.port)).modal).toBeNull();
	});

	test('a show that fails changes nothing in the window: a text file as lyrdb, for a new file and for one on show', async () => {
		const notMarkers = path.join(gui.temp, 'notes.lyrdb');
		await writeFile(notMarkers, 'these are my notes, not a marker database\n');
		const fresh = path.join(gui.temp, 'fresh_component.gds');
		await copyFile(fixture('base.gds'), fresh);
		const before = await viewerStatus(gui.viewer.port);
		const refused = await show({gds: fresh, keep_position: true, libraries: [], lyrdb: notMarkers});
		expect(refused.reply).toMatchObject({type: 'error', error: expect.stringContaining(`${notMarkers}: not a marker database`)});
		expect(await viewerStatus(gui.viewer.port)).toEqual(before); // no new view with the layout

		// A file on show, rewritten with a new layer: not reloaded either.
		const shown = path.join(gui.temp, 'shown_component.gds');
		await copyFile(fixture('base.gds'), shown);
		expect((await show({gds: shown})).reply.type).toBe('open');
		await writeFile(shown, await readFile(fixture('extra_layer.gds')));
		const onShow = await viewerStatus(gui.viewer.port);
		expect((await show({gds: shown, lyrdb: notMarkers})).reply.type).toBe('error');
		expect((await show({gds: shown, markers: [['DBox', '(0,0;1,1)', {color: 'red'}]]})).reply).toMatchObject({type: 'error', error: expect.stringContaining('color must be an integer')});
		// An unknown style key is refused even when its value is null (a known key's null keeps KLayout's default).
		expect((await show({gds: shown, markers: [['DBox', '(0,0;1,1)', {colour: null}]]})).reply).toMatchObject({type: 'error', error: expect.stringContaining("unknown style 'colour'")});
		expect(await viewerStatus(gui.viewer.port)).toEqual(onShow); // same layers, same current view
	});

	test('a netlist database KLayout reads without an error but is none (not one, cut short, an LVS database) is an error; a real one is shown', async () => {
		const layout = path.join(gui.temp, 'netlist_component.gds');
		await copyFile(fixture('base.gds'), layout);
		const before = await viewerStatus(gui.viewer.port);
		const cases: Array<[string, string, string]> = [
			['words.l2n', 'hello world\n', 'not a netlist database'],
			['cut.l2n', REAL_L2N.slice(0, REAL_L2N.indexOf('circuit(')), 'a netlist database without a circuit'],
			['lvs.l2n', '#%lvsdb-klayout\n', 'an LVS database'],
		];
		for (const [name, text, reason] of cases) {
			const file = path.join(gui.temp, name);
			await writeFile(file, text);
			const {reply} = await show({gds: layout, l2n: file});
			expect(reply, name).toMatchObject({type: 'error', error: expect.stringContaining(`${file}: ${reason}`)});
		}

		expect(await viewerStatus(gui.viewer.port)).toEqual(before);
		const real = path.join(gui.temp, 'nets.l2n');
		await writeFile(real, REAL_L2N);
		expect((await show({gds: layout, l2n: real})).reply.type).toBe('open');
	});
});

/** What KLayout 0.28.5's LayoutToNetlist.write gives for two unconnected boxes on 1/0. */
const REAL_L2N = `#%l2n-klayout
top(TOP)
unit(0.001)

# Mask layers
layer(metal1 '1/0')

# Mask layer connectivity
connect(metal1 metal1)

circuit(TOP
 rect((0 0) (6000 1000))
 net(1
  rect(metal1 (0 0) (1000 1000))
 )
 net(2
  rect(metal1 (5000 0) (1000 1000))
 )
)
`;
