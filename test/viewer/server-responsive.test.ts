import path from 'node:path';
import {execa} from 'execa';
import {beforeAll, expect, test} from 'vitest';
import {PNG} from 'pngjs';
import {readdir, readFile} from 'node:fs/promises';
import {fifo, gzippedZeros, LAYERS_HEAD, LAYERS_TAIL, layerProperties, MARKERS_HEAD, MARKERS_TAIL, markerDatabase, overlappingBoxes, repeated, squareGrid} from '../helpers/hostile-files.mjs';
import {startGuiViewer, useGuiViewer, v1Exchange, v2Session, viewerStatus, type V2Reply} from '../helpers/gui.js';
import {whilePinging} from '../helpers/ping-loop.mjs';
import {klayoutStartupMs} from '../helpers/klayout-startup.js';
import {waitFor} from '../helpers/poll.js';
import {describeKLayout, fixture} from '../helpers/run.js';

/**
 * Requests that once held the window for seconds, minutes or for ever (issue 28), each sent
 * while a second connection pings the viewer: the longest ping round trip is how long the GUI
 * thread could not answer. KLayout itself answers a ping in about a millisecond; a loaded CI
 * machine adds some, far below the second allowed.
 */
const BLOCK_MS = 1000;

describeKLayout('hostile requests never hold the window (ping loop on a second connection)', () => {
	const gui = useGuiViewer({settings: {screenshotTimeout: 8}, klive: true});
	const files = {} as Record<'boxes' | 'grid' | 'zeros' | 'rdbGz' | 'rdbMillion' | 'lyp' | 'fifo', string>;
	beforeAll(async () => {
		const at = (name: string) => path.join(gui.temp, name);
		files.boxes = at('boxes.gds.gz');
		files.grid = at('grid.gds');
		files.zeros = at('zeros.gds.gz');
		files.rdbGz = at('items.lyrdb.gz');
		files.rdbMillion = at('million.lyrdb');
		files.lyp = at('layers.lyp');
		files.fifo = fifo(at('pipe'));
		await Promise.all([
			overlappingBoxes(files.boxes, 1_000_000),
			squareGrid(files.grid, 200, false),
			gzippedZeros(files.zeros, 512 * 1024 ** 2),
			markerDatabase(files.rdbGz, 4_000_000, true),
			markerDatabase(files.rdbMillion, 1_000_000),
			layerProperties(files.lyp, 100_000),
		]);
	}, 60_000);

	const timed = async (requests: Array<Record<string, unknown>>, timeout = 60_000) => {
		const {result, longestMs} = await whilePinging(gui.viewer.port, async () => v2Session(gui.viewer.port, requests, timeout));
		return {replies: result, longestMs};
	};

	const errorOf = (reply: V2Reply | undefined) => `${reply?.error?.code}: ${reply?.error?.message}`;

	test('a FIFO as screenshot path, layout, layer properties or marker database: refused at once, never opened', async () => {
		const {replies, longestMs} = await timed([
			{id: 0, method: 'load', params: {path: fixture('base.gds'), mode: 'new'}},
			{id: 1, method: 'screenshot', params: {path: files.fifo}},
			{id: 2, method: 'load', params: {path: files.fifo}},
			{id: 3, method: 'load', params: {path: fixture('base.gds'), lyp: files.fifo}},
			{id: 4, method: 'markers', params: {path: files.fifo}},
			{id: 5, method: 'show_diff', params: {a: fixture('base.gds'), b: fixture('base.gds'), xor: files.fifo}},
		]);
		expect(replies[0]!.ok).toBe(true);
		expect(errorOf(replies[1])).toMatch(/^BAD_REQUEST: screenshot: .*pipe is a FIFO; a screenshot is written to a new file or over a PNG only$/);
		for (const reply of replies.slice(2)) {
			expect(errorOf(reply)).toMatch(/^FILE_NOT_FOUND: .*pipe: a FIFO, not a .*; only regular files are read$/);
		}

		expect(longestMs).toBeLessThan(BLOCK_MS);
	});

	test('512 MB of zeros, gzip-compressed, as a layout: LOAD_FAILED in milliseconds', async () => {
		const started = Date.now();
		const {replies, longestMs} = await timed([{id: 1, method: 'load', params: {path: files.zeros, mode: 'new'}}]);
		expect(errorOf(replies[0])).toMatch(/^LOAD_FAILED: .*zeros\.gds\.gz: not a layout format KLayout reads \(binary data with no known signature\)$/);
		expect(Date.now() - started).toBeLessThan(BLOCK_MS);
		expect(longestMs).toBeLessThan(BLOCK_MS);
	});

	test('side files: 4M compressed markers, a million markers, 100 000 layers: TOO_LARGE at once', async () => {
		const {replies, longestMs} = await timed([
			{id: 0, method: 'load', params: {path: fixture('base.gds'), mode: 'new'}},
			{id: 1, method: 'markers', params: {path: files.rdbGz}},
			{id: 2, method: 'markers', params: {path: files.rdbMillion}},
			{id: 3, method: 'load', params: {path: fixture('base.gds'), mode: 'new', lyp: files.lyp}},
		]);
		expect(errorOf(replies[1])).toMatch(/^TOO_LARGE: .*items\.lyrdb\.gz: inflates to more than 8 MB; refused as a marker database$/);
		expect(errorOf(replies[2])).toMatch(/^TOO_LARGE: .*million\.lyrdb: \d+ MB, more than the 8 MB a marker database may have here$/);
		expect(errorOf(replies[3])).toMatch(/^TOO_LARGE: .*layers\.lyp: \d+\.\d MB, more than the 2 MB a layer properties file may have here$/);
		expect(longestMs).toBeLessThan(BLOCK_MS);
		expect((await viewerStatus(gui.viewer.port)).views.at(-1)!.markerDatabases).toEqual([]);
	});

	// KLayout reads <item/>, <item >, <x:item> alike, nests without bound (and crashes past some
	// 20 000 levels), expands entities, reads Calibre's RVE text and (after 0.28) a ".waived"
	// file beside it.
	test('marker databases dense in every way KLayout reads them: refused at once, the window answers', async () => {
		const at = (name: string) => path.join(gui.temp, name);
		const item = '<item><category>c</category><cell>TOP</cell></item>';
		const entities = `<!DOCTYPE report-database [<!ENTITY e "${item.repeat(50)}">]>`;
		await Promise.all([
			repeated(at('empty-items.lyrdb'), [MARKERS_HEAD, ['<item/>', 4_000_000], MARKERS_TAIL]),
			repeated(at('spaced-items.lyrdb'), [MARKERS_HEAD, ['<item ><category>c</category><cell>TOP</cell></item\n>', 30_000], ['<x:item/>', 30_000], MARKERS_TAIL]),
			repeated(at('elements.lyrdb.gz'), [MARKERS_HEAD, ['<x/>', 1_500_000], MARKERS_TAIL], true),
			repeated(at('nested.lyrdb'), [MARKERS_HEAD, ['<item >', 50_000], MARKERS_TAIL]),
			repeated(at('cells.lyrdb'), [MARKERS_HEAD.replace('<cells>', `<cells>${'<cell/>'.repeat(20_000)}`), MARKERS_TAIL]),
			repeated(at('entities.lyrdb'), ['<?xml version="1.0"?>\n', entities, MARKERS_HEAD.replace(/^.*\n/, ''), ['&e;', 40_000], MARKERS_TAIL]),
			repeated(at('calibre.db'), ['TOP 1000\nc\n500000 500000 1\nc\n', ['p 1 1\n0 0\n', 500_000]]),
			repeated(at('waived.db'), ['TOP 1000\nc\n1 1 1\nc\np 1 1\n0 0\n']),
		]);
		fifo(at('waived.db.waived'));
		const {replies, longestMs} = await timed([
			{id: 0, method: 'load', params: {path: fixture('base.gds'), mode: 'new'}},
			...['empty-items.lyrdb', 'spaced-items.lyrdb', 'elements.lyrdb.gz', 'nested.lyrdb', 'cells.lyrdb', 'entities.lyrdb', 'calibre.db', 'waived.db'].map((name, i) => ({
				id: i + 1,
				method: 'markers',
				params: {path: at(name)},
			})),
		]);
		expect(replies.slice(1).map(errorOf)).toEqual([
			expect.stringMatching(/^TOO_LARGE: .*empty-items\.lyrdb: 26 MB, more than the 8 MB a marker database may have here$/),
			expect.stringMatching(/^TOO_LARGE: .*spaced-items\.lyrdb: more than 50000 items \(<item>\); refused as a marker database$/),
			expect.stringMatching(/^TOO_LARGE: .*elements\.lyrdb\.gz: more than 300000 XML elements; refused as a marker database$/),
			expect.stringMatching(/^TOO_LARGE: .*nested\.lyrdb: elements nested more than 2000 deep; refused as a marker database$/),
			expect.stringMatching(/^TOO_LARGE: .*cells\.lyrdb: more than 10000 cells \(<cell>\); refused as a marker database$/),
			expect.stringMatching(/^LOAD_FAILED: .*entities\.lyrdb: '<!DOCTYPE report-dat': declarations are not read in a marker database$/),
			expect.stringMatching(/^TOO_LARGE: .*calibre\.db: more than 200000 lines; refused as a marker database$/),
			expect.stringMatching(/^FILE_NOT_FOUND: .*waived\.db\.waived: a FIFO, not a marker database; only regular files are read$/),
		]);
		expect(longestMs).toBeLessThan(BLOCK_MS);
		expect((await viewerStatus(gui.viewer.port)).views.at(-1)!.markerDatabases).toEqual([]);
	}, 60_000);

	test('layer properties and netlists dense in every way: refused at once, the window answers', async () => {
		const at = (name: string) => path.join(gui.temp, name);
		await Promise.all([
			repeated(at('open-tags.lyp'), [LAYERS_HEAD, ['<properties ><source>1/0@1</source></properties >\n', 150_000], LAYERS_TAIL]),
			repeated(at('same-layer.lyp'), [LAYERS_HEAD, ['<properties><source>1/0@1</source></properties>\n', 2000], LAYERS_TAIL]),
			repeated(at('groups.lyp'), [LAYERS_HEAD, '<properties><source>1/0@1</source>', ['<group-members><source>1/0@1</source></group-members>', 1200], '</properties>', LAYERS_TAIL]),
			repeated(at('long-name.lyp'), [LAYERS_HEAD, '<properties><source>1/0@1</source><name>', ['x', 1_000_000], '</name></properties>', LAYERS_TAIL]),
			repeated(at('nets.l2n'), ["#%l2n-klayout\ntop(TOP)\nunit(0.001)\nlayer(m1 '1/0')\nconnect(m1 m1)\ncircuit(TOP\n", [' net(1)\n', 400_000], ')\n']),
		]);
		const {replies, longestMs} = await timed(
			['open-tags.lyp', 'same-layer.lyp', 'groups.lyp', 'long-name.lyp'].map((name, i) => ({id: i, method: 'load', params: {path: fixture('base.gds'), mode: 'new', lyp: at(name)}})),
		);
		expect(replies.map(errorOf)).toEqual([
			expect.stringMatching(/^TOO_LARGE: .*open-tags\.lyp: 7\.2 MB, more than the 2 MB a layer properties file may have here$/),
			expect.stringMatching(/^TOO_LARGE: .*same-layer\.lyp: more than 1000 layers \(<properties>, <group-members>\); refused as a layer properties file$/),
			expect.stringMatching(/^TOO_LARGE: .*groups\.lyp: more than 1000 layers/),
			expect.stringMatching(/^TOO_LARGE: .*long-name\.lyp: a text longer than 4096 bytes; refused as a layer properties file$/),
		]);
		expect(longestMs).toBeLessThan(BLOCK_MS);
		const klive = await whilePinging(
			gui.viewer.port,
			async () => JSON.parse((await v1Exchange(gui.viewer.klivePort!, JSON.stringify({gds: fixture('base.gds'), l2n: at('nets.l2n')}) + '\n')).toString('utf8')) as {type: string; error?: string},
		);
		expect(klive.result).toMatchObject({type: 'error', error: expect.stringMatching(/nets\.l2n: more than 250000 records; refused as a netlist database$/)});
		expect(klive.longestMs).toBeLessThan(BLOCK_MS);
	}, 60_000);

	// The limits are set so that the densest file within them is read within the second: each
	// at (or just under) every limit of its kind at once.
	test('the densest marker database and layer properties within the limits: shown, the window answers within the second', async () => {
		const at = (name: string) => path.join(gui.temp, name);
		const polygon = ['<item><category>c</category><cell>TOP</cell><values><value>polygon: (0,0', [';1,1', 1_500_000], ')</value></values></item>'] as const;
		await Promise.all([
			repeated(at('densest.lyrdb'), [MARKERS_HEAD.replace('<cells>', `<cells>${'<cell/>'.repeat(9990)}`), ['<item><cell>TOP</cell></item>', 49_990], ['<x/>', 189_000], ...polygon, MARKERS_TAIL]),
			repeated(at('densest.lyp'), [LAYERS_HEAD, ['<properties><source>1/0@1</source></properties>\n', 999], ['<x/>', 280_000], LAYERS_TAIL]),
		]);
		const {replies, longestMs} = await timed([
			{id: 0, method: 'load', params: {path: fixture('base.gds'), mode: 'new', lyp: at('densest.lyp')}},
			{id: 1, method: 'markers', params: {path: at('densest.lyrdb')}},
		]);
		expect(
			replies.map(reply => reply.ok),
			JSON.stringify(replies.map(reply => reply.error)),
		).toEqual([true, true]);
		// Reading these files takes most of the second on KLayout 0.28.5 on an idle 2-core machine,
		// whose `klayout -b` starts in ~1.3 s; a slower KLayout (0.30.0 starts 1.3-1.8x slower) or a
		// loaded machine gets the second scaled alike.
		expect(longestMs).toBeLessThan(BLOCK_MS * Math.max(1, (await klayoutStartupMs()) / 1300));
		await v2Session(gui.viewer.port, [{id: 2, method: 'close'}]); // its 999 layers would slow the next test's drawing
	}, 60_000);

	test('a million overlapping boxes: a picture of them is drawn apart, and TOO_LARGE past screenshotTimeout (8 s here)', async () => {
		const load = await timed([{id: 1, method: 'load', params: {path: files.boxes, mode: 'new'}}]);
		expect(load.replies[0]!.ok, errorOf(load.replies[0])).toBe(true);
		expect(load.longestMs).toBeLessThan(BLOCK_MS);
		const started = Date.now();
		const {replies, longestMs} = await timed([
			{id: 1, method: 'screenshot', params: {width: 800, height: 600}},
			{id: 2, method: 'screenshot', params: {width: 10_000, height: 10_000}},
			{id: 3, method: 'status'},
		]);
		expect(errorOf(replies[0])).toMatch(/^TOO_LARGE: screenshot: drawing this view takes more than 8 s \(screenshotTimeout in lyipc\.json\)/);
		expect(Date.now() - started).toBeLessThan(30_000);
		expect(errorOf(replies[1])).toMatch(/^TOO_LARGE: screenshot: 10000 x 10000 pixels; at most 10000 on a side and 25000000 in all/);
		expect(replies[2]!.ok).toBe(true);
		expect(longestMs).toBeLessThan(BLOCK_MS);
		await v2Session(gui.viewer.port, [{id: 4, method: 'close'}]); // its drawing on screen would slow the next test
	}, 60_000);

	test('40 000 small squares: drawn by a separate KLayout, the picture right; zoomed in, drawn in the window', async () => {
		const shot = path.join(gui.temp, 'grid.png');
		const {replies, longestMs} = await timed([
			{id: 1, method: 'load', params: {path: files.grid, mode: 'new'}},
			{id: 2, method: 'screenshot', params: {width: 400, height: 400, path: shot}},
			{id: 3, method: 'zoom', params: {box: [0, 0, 10, 10]}},
			{id: 4, method: 'screenshot', params: {width: 400, height: 400}},
		]);
		expect(
			replies.map(reply => reply.ok),
			JSON.stringify(replies.map(reply => reply.error)),
		).toEqual([true, true, true, true]);
		expect(replies[1]!.result).toEqual({path: shot, width: 400, height: 400, separately: true});
		expect(replies[3]!.result.separately).toBeUndefined();
		expect(longestMs).toBeLessThan(BLOCK_MS);
		// Both pictures: the window's background (the separate KLayout is told the colour the window
		// uses), the layer's colour over a good part of the picture.
		const pictures = [PNG.sync.read(await readFile(shot)), PNG.sync.read(Buffer.from(replies[3]!.result.png as string, 'base64'))];
		const backgrounds = pictures.map(png => {
			const counts = new Map<number, number>();
			for (let i = 0; i < 8 * png.width * 4; i += 4) {
				counts.set(png.data.readUInt32BE(i), (counts.get(png.data.readUInt32BE(i)) ?? 0) + 1);
			}

			return [...counts].sort((x, y) => y[1] - x[1])[0]![0];
		});
		expect(backgrounds[0]).toBe(backgrounds[1]);
		for (const [i, png] of pictures.entries()) {
			expect([png.width, png.height]).toEqual([400, 400]);
			let drawn = 0;
			for (let j = 0; j < png.data.length; j += 4) {
				drawn += png.data.readUInt32BE(j) === backgrounds[i] ? 0 : 1;
			}

			expect(drawn / (400 * 400)).toBeGreaterThan(0.03);
			expect(drawn / (400 * 400)).toBeLessThan(0.9);
		}

		// No picture left behind under a hidden name.
		expect((await readdir(gui.temp)).filter(name => name.startsWith('.lyipc-screenshot-'))).toEqual([]);
	}, 60_000);
});

describeKLayout('a viewer drawing a picture apart can still be stopped', () => {
	const alive = (pid: number) => {
		try {
			process.kill(pid, 0);
			return true;
		} catch {
			return false;
		}
	};

	test.each([
		['lyipc quit', 'quit'],
		['SIGTERM', 'SIGTERM'],
	] as const)(
		'%s ends KLayout and the KLayout that draws',
		async (_name, how) => {
			const viewer = await startGuiViewer({via: 'boot', settings: {screenshotTimeout: 600}});
			try {
				const boxes = path.join(viewer.home, 'boxes.gds.gz');
				await overlappingBoxes(boxes, 1_000_000);
				await v2Session(viewer.port, [{id: 1, method: 'load', params: {path: boxes, mode: 'new'}}]);
				const drawing = v2Session(viewer.port, [{id: 2, method: 'screenshot', params: {width: 800, height: 600}}], 60_000).catch((error: Error) => error);
				// The drawing KLayout is a child of the viewer's.
				const children = async () => (await execa('pgrep', ['-P', String(viewer.klayout.pid), '-f', 'lyipc_render_job.py'], {reject: false})).stdout.split('\n').filter(Boolean).map(Number);
				await waitFor('a KLayout drawing the picture', async () => (await children()).length > 0);
				const [renderer] = await children();
				if (how === 'quit') {
					const [quit] = await v2Session(viewer.port, [{id: 3, method: 'quit', params: {force: true}}], 10_000);
					expect(quit).toMatchObject({ok: true});
				} else {
					process.kill(viewer.klayout.pid!, 'SIGTERM'); // KLayout alone ignores it while busy
				}

				await waitFor('KLayout to end', () => viewer.klayout.exitCode !== null && viewer.klayout.exitCode !== undefined, 15_000);
				await waitFor('the drawing KLayout to end', () => !alive(renderer!), 15_000);
				// Its request was answered as stopped, or its connection went with KLayout.
				const answer = await drawing;
				if (!(answer instanceof Error)) {
					expect(answer[0]!.error?.code).toBe('VIEWER_STOPPED');
				}
			} finally {
				await viewer.stop();
			}
		},
		90_000,
	);
});
