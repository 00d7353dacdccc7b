import {copyFile} from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import {expect, test} from 'vitest';
import {pngColours, useGuiViewer, v1Exchange, v2Session} from '../helpers/gui.js';
import {describeKLayout, fixture} from '../helpers/run.js';

describeKLayout('the viewer server inside a real KLayout GUI (Xvfb, fresh KLAYOUT_HOME)', () => {
	const gui = useGuiViewer();

	const status = async () => (await v2Session(gui.viewer.port, [{id: 's', method: 'status'}]))[0]!.result as {
		views: Array<{index: number; current: boolean; viewbox: number[]; layers: number; cellviews: Array<{file: string; cell: string}>}>;
	};

	test('v1, byte for byte: ping, load in each mode, a quoted name with a space, reload, cellview', async () => {
		expect((await v1Exchange(gui.viewer.port, 'ping\r\n')).toString('latin1')).toBe('ACK None');
		// Nothing open yet: old clients look for this phrase and fall back to load.
		expect((await v1Exchange(gui.viewer.port, 'reload view\r\n')).toString('latin1')).toMatch(/^ERR '.*Needs a layout/);
		expect((await v1Exchange(gui.viewer.port, `load ${fixture('base.gds')}\r\n`)).toString('latin1')).toBe('ACK None');
		let views = (await status()).views;
		expect(views.at(-1)!.cellviews.map(cv => cv.file)).toEqual([fixture('base.gds')]);

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
		expect(replies.map(reply => [reply.id, reply.ok])).toEqual([[1, true], [2, true], [3, true], [4, true], [5, true], [6, false]]);
		expect(replies[0]!.result).toMatchObject({protocol: 2, klayout: expect.stringMatching(/^0\.\d+/)});
		expect(replies[5]!.error).toMatchObject({code: 'BAD_REQUEST'});
		const current = (replies[4]!.result as Awaited<ReturnType<typeof status>>).views.find(view => view.current)!;
		expect(current.cellviews.map(cv => cv.file)).toEqual([fixture('via_changed.gds')]);
		// The view may widen the box to the window's aspect ratio, never move off it.
		const [left, bottom, right, top] = current.viewbox;
		const e = 1e-6;
		expect(left! <= box[0]! + e && bottom! <= box[1]! + e && right! >= box[2]! - e && top! >= box[3]! - e, `viewbox ${current.viewbox.join(', ')}`).toBe(true);
		expect(Math.min(right! - left!, top! - bottom!)).toBeLessThan(12);
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
		const drawn = [...colours.values()].sort((x, y) => y - x).slice(1).reduce((sum, n) => sum + n, 0);
		expect(colours.size).toBeGreaterThan(4);
		expect(drawn).toBeGreaterThan(0.05 * width * height);
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
});
