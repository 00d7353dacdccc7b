import {copyFile, readFile, utimes, writeFile} from 'node:fs/promises';
import net from 'node:net';
import {hostname} from 'node:os';
import path from 'node:path';
import {expect, test} from 'vitest';
import {currentView, pngColours, useGuiViewer, v1Exchange, v2Session, viewerStatus, type ViewerStatus} from '../helpers/gui.js';
import {describeKLayout, fixture, ROOT} from '../helpers/run.js';

/** Whether a viewbox holds a box (the view may widen it to the window's aspect ratio, never move off it). */
function holds(viewbox: number[], box: number[]): boolean {
	const e = 1e-6;
	return viewbox[0]! <= box[0]! + e && viewbox[1]! <= box[1]! + e && viewbox[2]! >= box[2]! - e && viewbox[3]! >= box[3]! - e;
}

describeKLayout('the viewer server inside a real KLayout GUI (Xvfb, fresh KLAYOUT_HOME)', () => {
	const gui = useGuiViewer();
	const status = async () => viewerStatus(gui.viewer.port);

	test('a fresh configuration opens no dialog: not at start, not on loading a hierarchy', async () => {
		// KLayout's start-up tips ("started in viewer mode") would be up by now.
		expect((await status()).modal).toBeNull();
		const [load] = await v2Session(gui.viewer.port, [{id: 1, method: 'load', params: {path: fixture('base.gds'), mode: 'new'}}]);
		expect(load).toMatchObject({ok: true});
		expect((await status()).modal).toBeNull();
		await v2Session(gui.viewer.port, [{id: 2, method: 'close'}]); // the next test starts with no view
	});

	test('hello: protocol, versions, capabilities (no klive listener unless asked for)', async () => {
		const [hello] = await v2Session(gui.viewer.port, [{id: 1, method: 'hello'}]);
		const {version} = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {version: string};
		expect(hello!.result).toMatchObject({
			protocol: 2,
			lyipc: version,
			klayout: expect.stringMatching(/^0\.\d+\.\d+$/),
			machine: hostname(),
			methods: expect.arrayContaining(['load', 'upload', 'reload', 'status', 'screenshot', 'markers', 'zoom', 'close', 'show_diff']),
			capabilities: {klive: null, token: false},
		});
	});

	test('v1, byte for byte: ping, load in each mode, a quoted name with a space, reload, cellview', async () => {
		expect((await v1Exchange(gui.viewer.port, 'ping\r\n')).toString('latin1')).toBe('ACK None');
		// Nothing open yet: old clients look for this phrase, in lower case, and fall back to load.
		expect((await v1Exchange(gui.viewer.port, 'reload view\r\n')).toString('latin1')).toMatch(/^ERR '.*needs a layout/);
		expect((await v1Exchange(gui.viewer.port, `load ${fixture('base.gds')}\r\n`)).toString('latin1')).toBe('ACK None');
		let views = (await status()).views;
		expect(currentView(await status()).cellviews.map(cv => cv.file)).toEqual([fixture('base.gds')]);

		const spaced = path.join(gui.temp, 'my chip.gds');
		await copyFile(fixture('one_shape.gds'), spaced);
		const before = views.length;
		expect((await v1Exchange(gui.viewer.port, `load "${spaced}" 1\r\n`)).toString('latin1')).toBe('ACK None');
		views = (await status()).views;
		expect(views).toHaveLength(before + 1);
		expect(views.find(view => view.current)!.cellviews.map(cv => cv.file)).toEqual([spaced]);

		expect((await v1Exchange(gui.viewer.port, `load ${fixture('base.gds')} 2\n`)).toString('latin1')).toBe('ACK None');
		views = (await status()).views;
		expect(views).toHaveLength(before + 1);
		expect(views.find(view => view.current)!.cellviews.map(cv => cv.file)).toEqual([spaced, fixture('base.gds')]);

		// Two cellviews: the old server's reload opened a modal dialog here and never replied.
		expect((await v1Exchange(gui.viewer.port, 'reload view\r\n')).toString('latin1')).toBe('ACK None');
		expect((await v1Exchange(gui.viewer.port, 'cellview CHIP\r\n')).toString('latin1')).toBe('ACK None');
		expect((await v1Exchange(gui.viewer.port, 'kill\r\n')).toString('latin1')).toBe('ACK None');
	});

	test('v1 errors: ERR and the repr of the cause, no newline, connection closed', async () => {
		const reply = (await v1Exchange(gui.viewer.port, 'load /nonexistent/chip.gds\r\n')).toString('utf8');
		expect(reply).toMatch(/^ERR '.*\/nonexistent\/chip\.gds: no such file on the viewer/);
		expect(reply.endsWith('\n')).toBe(false);
		expect(reply).not.toContain('\n'); // repr() escapes the traceback's newlines
	});

	test('v2: several requests on one connection; reload keeps the viewbox', async () => {
		const box = [5, 5, 15, 12];
		const replies = await v2Session(gui.viewer.port, [
			{id: 1, method: 'hello'},
			{id: 2, method: 'load', params: {path: fixture('via_changed.gds'), mode: 'new'}},
			{id: 3, method: 'zoom', params: {box}},
			{id: 4, method: 'reload'},
			{id: 5, method: 'status'},
			{id: 6, method: 'nonsense'},
		]);
		expect(replies.map(reply => [reply.id, reply.ok])).toEqual([
			[1, true],
			[2, true],
			[3, true],
			[4, true],
			[5, true],
			[6, false],
		]);
		expect(replies[0]!.result).toMatchObject({protocol: 2, klayout: expect.stringMatching(/^0\.\d+/)});
		expect(replies[5]!.error).toMatchObject({code: 'BAD_REQUEST'});
		const current = currentView(replies[4]!.result as Awaited<ReturnType<typeof status>>);
		expect(current.cellviews.map(cv => cv.file)).toEqual([fixture('via_changed.gds')]);
		expect(holds(current.viewbox, box), `viewbox ${current.viewbox.join(', ')}`).toBe(true);
		const [left, bottom, right, top] = current.viewbox;
		expect(Math.min(right! - left!, top! - bottom!)).toBeLessThan(12);
	});

	test('reload of a view with two cellviews: in place, no dialog, viewbox kept, a new layer appears', async () => {
		const first = path.join(gui.temp, 'two-a.gds');
		const second = path.join(gui.temp, 'two-b.gds');
		await copyFile(fixture('base.gds'), first);
		await copyFile(fixture('one_shape.gds'), second);
		const box = [10, 10, 30, 25];
		const replies = await v2Session(gui.viewer.port, [
			{id: 1, method: 'load', params: {path: first, mode: 'new'}},
			{id: 2, method: 'load', params: {path: second, mode: 'add'}},
			{id: 3, method: 'zoom', params: {box}},
		]);
		expect(replies.every(reply => reply.ok)).toBe(true);
		const before = currentView(await status());
		await writeFile(second, await readFile(fixture('extra_layer.gds'))); // layer 5/0 is new
		const [reload] = await v2Session(gui.viewer.port, [{id: 4, method: 'reload'}], 10_000);
		expect(reload).toMatchObject({ok: true, result: {reloaded: 2}});
		const after = await status();
		expect(after.modal).toBeNull();
		currentView(after).viewbox.forEach((value, i) => {
			expect(value).toBeCloseTo(before.viewbox[i]!, 6);
		});
		expect(holds(currentView(after).viewbox, box)).toBe(true);
		expect(currentView(after).layers).toBe(before.layers + 1);
		// reload of a file no view shows: said so, not silently done
		const [missing] = await v2Session(gui.viewer.port, [{id: 5, method: 'reload', params: {path: path.join(gui.temp, 'nowhere.gds')}}]);
		expect(missing).toMatchObject({ok: false, error: {code: 'NOT_SHOWN'}});
	});

	test('a file rewritten on disk while shown: no "reload?" prompt, requests still answered', async () => {
		const file = path.join(gui.temp, 'rewritten.gds');
		await copyFile(fixture('base.gds'), file);
		await v2Session(gui.viewer.port, [{id: 1, method: 'load', params: {path: file, mode: 'new'}}]);
		await writeFile(file, await readFile(fixture('one_shape.gds')));
		const later = new Date(Date.now() + 5000);
		await utimes(file, later, later);
		// KLayout's file watcher looks every few hundred ms; its prompt would be up by now.
		await new Promise(resolve => {
			setTimeout(resolve, 2500);
		});
		const started = Date.now();
		const now = await status();
		expect(Date.now() - started).toBeLessThan(2000);
		expect(now.modal).toBeNull();
		expect(currentView(now).cellviews.map(cv => cv.file)).toEqual([file]);
	});

	test("load's parameters: cell, lyp, rdb, keepView; markers; close of a given view", async () => {
		const lyp = path.join(gui.temp, 'one-layer.lyp');
		await writeFile(
			lyp,
			'<?xml version="1.0" encoding="utf-8"?>\n<layer-properties>\n <properties>\n  <name>METAL1</name>\n  <source>1/0@1</source>\n  <visible>true</visible>\n </properties>\n</layer-properties>\n',
		);
		const rdb = path.join(gui.temp, 'empty.lyrdb');
		await writeFile(
			rdb,
			'<?xml version="1.0" encoding="utf-8"?>\n<report-database>\n <description>lyipc test</description>\n <top-cell>CHIP</top-cell>\n <categories/>\n <cells/>\n <items/>\n</report-database>\n',
		);
		const box = [2, 2, 12, 9];
		const replies = await v2Session(gui.viewer.port, [
			{id: 1, method: 'load', params: {path: fixture('base.gds'), mode: 'new', cell: 'VIA', lyp, rdb}},
			{id: 2, method: 'status'},
			{id: 3, method: 'load', params: {path: fixture('base.gds'), mode: 'new'}},
			{id: 4, method: 'zoom', params: {box}},
			{id: 4.5, method: 'status'},
			{id: 5, method: 'load', params: {path: fixture('one_shape.gds'), keepView: true}},
			{id: 5.5, method: 'status'}, // before markers: docking the Marker Browser resizes the view
			{id: 6, method: 'markers', params: {path: rdb}},
			{id: 7, method: 'status'},
			{id: 8, method: 'load', params: {path: fixture('base.gds'), cell: 'NO_SUCH_CELL', mode: 'new'}},
			{id: 9, method: 'load', params: {path: fixture('base.gds'), mode: 'new', lyp: path.join(gui.temp, 'absent.lyp')}},
		]);
		const kept = currentView(replies.splice(6, 1)[0]!.result as ViewerStatus);
		const zoomed = currentView(replies.splice(4, 1)[0]!.result as ViewerStatus);
		expect(
			replies.slice(0, 7).every(reply => reply.ok),
			JSON.stringify(replies),
		).toBe(true);
		const first = currentView(replies[1]!.result as ViewerStatus);
		expect(first.cellviews[0]).toMatchObject({file: fixture('base.gds'), cell: 'VIA'});
		expect(first.layers).toBe(1); // the .lyp's list, not the file's four layers
		expect(first.markerDatabases).toHaveLength(1);
		const second = currentView(replies[6]!.result as ViewerStatus);
		expect(second.index).toBe(first.index + 1);
		expect(second.cellviews.map(cv => cv.file)).toEqual([fixture('one_shape.gds')]);
		// The viewbox as it was, up to KLayout snapping it to whole pixels (~0.01 µm here)
		kept.viewbox.forEach((value, i) => {
			expect(Math.abs(value - zoomed.viewbox[i]!)).toBeLessThan(0.05);
		});
		expect(holds(zoomed.viewbox, [box[0]! + 0.05, box[1]! + 0.05, box[2]! - 0.05, box[3]! - 0.05]), `viewbox ${zoomed.viewbox.join(', ')}`).toBe(true);
		expect(second.markerDatabases).toHaveLength(1);
		expect(replies[7]!.error).toMatchObject({code: 'NO_CELL'});
		expect(replies[8]!.error).toMatchObject({code: 'FILE_NOT_FOUND', message: expect.stringContaining('absent.lyp')});

		const before = (await status()).views.length;
		const [closed] = await v2Session(gui.viewer.port, [{id: 1, method: 'close', params: {view: first.index}}]);
		expect(closed).toMatchObject({ok: true});
		const after = await status();
		expect(after.views).toHaveLength(before - 1);
		expect(after.views.some(view => view.cellviews[0]?.cell === 'VIA')).toBe(false);
	});

	test('a screenshot shows the layout really drawn', async () => {
		const empty = path.join(gui.temp, 'shot.png');
		const [load, shot] = await v2Session(gui.viewer.port, [
			{id: 1, method: 'load', params: {path: fixture('base.gds'), mode: 'new'}},
			{id: 2, method: 'screenshot', params: {width: 400, height: 300, path: empty}},
		]);
		expect(load!.ok && shot!.ok).toBe(true);
		const {width, height, colours} = await pngColours(empty);
		expect([width, height]).toEqual([400, 300]);
		// Background plus layer colours: a blank view has one or two colours.
		const drawn = [...colours.values()]
			.sort((x, y) => y - x)
			.slice(1)
			.reduce((sum, n) => sum + n, 0);
		expect(colours.size).toBeGreaterThan(4);
		expect(drawn).toBeGreaterThan(0.05 * width * height);
	});

	test('a screenshot replaces a PNG, never another file: a text file at its path is refused and left alone', async () => {
		const [png, notes] = [path.join(gui.temp, 'again.png'), path.join(gui.temp, 'notes.txt')];
		await writeFile(notes, 'not a picture\n');
		const replies = await v2Session(gui.viewer.port, [
			{id: 1, method: 'load', params: {path: fixture('base.gds'), mode: 'new'}},
			{id: 2, method: 'screenshot', params: {width: 100, height: 80, path: png}},
			{id: 3, method: 'screenshot', params: {width: 200, height: 160, path: png}},
			{id: 4, method: 'screenshot', params: {width: 100, height: 80, path: notes}},
		]);
		expect(replies.slice(0, 3).map(reply => reply.ok)).toEqual([true, true, true]);
		expect((await pngColours(png)).width).toBe(200);
		expect(replies[3]!.error).toMatchObject({code: 'BAD_REQUEST', message: `screenshot: ${notes} exists and is not a PNG picture; refusing to overwrite it`});
		expect(await readFile(notes, 'utf8')).toBe('not a picture\n');
	});

	test('a client that connects and sends nothing does not delay another', async () => {
		const silent = net.connect(gui.viewer.port, '127.0.0.1');
		await new Promise(resolve => silent.once('connect', resolve));
		const half = net.connect(gui.viewer.port, '127.0.0.1', () => half.write('{"id": 1, "method": "pi'));
		const started = Date.now();
		expect((await v1Exchange(gui.viewer.port, `load ${fixture('one_shape.gds')} 1\r\n`)).toString('latin1')).toBe('ACK None');
		expect(Date.now() - started).toBeLessThan(3000);
		silent.destroy();
		half.destroy();
	});

	test('random bytes and an oversize line: an error for that client, the server keeps serving', async () => {
		const random = Buffer.from(Array.from({length: 4096}, (_, i) => (i * 7919 + 13) % 256));
		const garbage = await v1Exchange(gui.viewer.port, Buffer.concat([random, Buffer.from('\n')]));
		expect(garbage.toString('latin1')).toMatch(/^(ERR |ACK None$)/);
		const oversize = await v1Exchange(gui.viewer.port, Buffer.alloc(1.5 * 1024 * 1024, 'x'));
		expect(oversize.toString('latin1')).toMatch(/^ERR 'request line longer than/);
		const badJson = await v2Session(gui.viewer.port, [{id: 1, method: 'ping'}]);
		expect(badJson[0]).toMatchObject({ok: true, result: 'pong'});
		expect((await v1Exchange(gui.viewer.port, 'ping\n')).toString('latin1')).toBe('ACK None');
	});

	test('hostile parameters: a coded error each, the GUI unharmed', async () => {
		const replies = await v2Session(gui.viewer.port, [
			{id: 1, method: 'load', params: {path: 12}},
			{id: 2, method: 'load', params: {path: fixture('base.gds'), mode: 'sideways'}},
			{id: 3, method: 'zoom', params: {box: ['a', 'b']}},
			{id: 4, method: 'screenshot', params: {width: -5, height: 'x'}},
			{id: 5, method: 'close', params: {view: 999}},
			{id: 6, method: 'upload', params: {size: -1}},
			{id: 7, method: 'upload', params: {size: true}},
			{id: 8, method: 'load', params: {path: fixture('not_layout.gds')}},
			{id: 9, method: 'load', params: {path: fixture('truncated.gds'), mode: 'new'}},
			{id: 10, method: 'ping', params: [1]},
			{id: 11, method: 'ping'},
		]);
		expect(replies.map(reply => reply.ok)).toEqual([false, false, false, false, false, false, false, false, false, false, true]);
		for (const reply of replies.slice(0, -1)) {
			expect(reply.error!.code, JSON.stringify(reply)).toMatch(/^(BAD_REQUEST|FILE_NOT_FOUND|NO_VIEW|LOAD_FAILED)$/);
			expect(reply.error!.message.length).toBeGreaterThan(0);
		}

		expect(replies[7]!.error).toMatchObject({code: 'LOAD_FAILED', message: expect.stringContaining('not_layout.gds')});
		expect((await status()).modal).toBeNull();
	});

	test('a flood of connections, each sending garbage: every one is dealt with, the server keeps serving', async () => {
		const sockets = await Promise.all(
			Array.from(
				{length: 100},
				async (_, i) =>
					new Promise<net.Socket>(resolve => {
						const socket = net.connect(gui.viewer.port, '127.0.0.1', () => {
							socket.write(Buffer.from(Array.from({length: 512}, (_, j) => (i * 31 + j * 17) % 256)));
							resolve(socket);
						});
						socket.on('error', () => undefined); // connections over the limit are reset
					}),
			),
		);
		for (const socket of sockets) {
			socket.destroy();
		}

		const [pong] = await v2Session(gui.viewer.port, [{id: 1, method: 'ping'}]);
		expect(pong).toMatchObject({ok: true, result: 'pong'});
	});
});
