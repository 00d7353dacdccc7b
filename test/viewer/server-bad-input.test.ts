import {writeFile} from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import {gzipSync} from 'node:zlib';
import {expect, test} from 'vitest';
import {useGuiViewer, v1Exchange, v2Session, viewerStatus} from '../helpers/gui.js';
import {describeKLayout, fixture} from '../helpers/run.js';

/** Every v2 method with the parameters it takes; `base` are valid values of the required ones. */
const METHODS: Array<{method: string; base: Record<string, unknown>; params: string[]}> = [
	{method: 'hello', base: {}, params: ['token']},
	{method: 'ping', base: {}, params: []},
	{method: 'load', base: {path: fixture('one_shape.gds'), mode: 'add'}, params: ['path', 'mode', 'keepView', 'cell', 'lyp', 'rdb']},
	{method: 'upload', base: {}, params: ['size', 'name', 'source', 'store', 'reload', 'mode', 'cell', 'lyp', 'rdb']},
	{method: 'reload', base: {}, params: ['path', 'view']},
	{method: 'status', base: {}, params: []},
	{method: 'screenshot', base: {}, params: ['width', 'height', 'view', 'path']},
	{method: 'markers', base: {path: fixture('not_layout.gds')}, params: ['path', 'view', 'cellview']},
	{method: 'zoom', base: {}, params: ['box', 'view']},
	{method: 'close', base: {view: 999}, params: ['view']},
	{method: 'show_diff', base: {a: fixture('base.gds'), b: fixture('one_shape.gds'), xor: fixture('not_layout.gds')}, params: ['a', 'b', 'xor', 'rdb', 'box', 'title', 'key', 'names']},
];

/** Values of the wrong type for some parameter or other (null means "default" and is left out). */
const WRONG: unknown[] = [5, -1, 1.5, true, '', 'x', [1, 2], [1, 2, 3, 'x'], {}, {path: 'x'}];

describeKLayout("the viewer server answers a caller's mistakes with BAD_REQUEST or LOAD_FAILED, never INTERNAL", () => {
	const gui = useGuiViewer();

	test('every method, every parameter, values of the wrong type (table-driven)', async () => {
		const requests: Array<Record<string, unknown>> = [];
		for (const {method, base, params} of METHODS) {
			requests.push({id: `${method} params=[1]`, method, params: [1]});
			for (const parameter of params) {
				for (const value of WRONG) {
					if (method === 'upload' && parameter === 'size' && Number.isInteger(value) && (value as number) > 0) {
						continue; // a valid size: raw bytes would have to follow
					}

					requests.push({id: `${method} ${parameter}=${JSON.stringify(value)}`, method, params: {...base, [parameter]: value}});
				}
			}
		}

		const replies = await v2Session(gui.viewer.port, requests, 120_000);
		const internal = replies.filter(reply => !reply.ok && reply.error!.code === 'INTERNAL').map(reply => `${String(reply.id)}: ${reply.error!.message}`);
		expect(internal).toEqual([]);
		// The issue's own examples, each with a caller's error code.
		const byId = new Map(replies.map(reply => [reply.id, reply]));
		expect(byId.get('load params=[1]')!.error!.message).toBe('load: params must be a JSON object');
		for (const id of ['zoom box=5', 'load path=[1,2]', 'markers path=5', 'close view="x"']) {
			expect(byId.get(id)?.error?.code, id).toBe('BAD_REQUEST');
		}

		// null means "the default": close the current view, or NO_VIEW when none is open.
		const [closed] = await v2Session(gui.viewer.port, [{id: 'c', method: 'close', params: {view: null}}]);
		expect(closed!.ok || closed!.error?.code === 'NO_VIEW', JSON.stringify(closed)).toBe(true);
		expect(byId.get('zoom box=5')!.error!.message).toMatch(/'box' must be \[left, bottom, right, top\]/);
		expect((await viewerStatus(gui.viewer.port)).modal).toBeNull();
	}, 180_000);

	test('markers and lyp on files that are not a marker database or layer file: LOAD_FAILED naming the file', async () => {
		const text = path.join(gui.temp, 'notes.lyrdb');
		await writeFile(text, 'just some words\n');
		const replies = await v2Session(gui.viewer.port, [
			{id: 1, method: 'load', params: {path: fixture('base.gds'), mode: 'new'}},
			{id: 2, method: 'markers', params: {path: fixture('base.gds')}},
			{id: 3, method: 'markers', params: {path: text}},
			{id: 4, method: 'load', params: {path: fixture('base.gds'), lyp: fixture('base.gds')}},
		]);
		expect(replies[0]!.ok).toBe(true);
		for (const reply of replies.slice(1)) {
			expect(reply.ok, JSON.stringify(reply)).toBe(false);
			expect(reply.error!.code, JSON.stringify(reply)).toBe('LOAD_FAILED');
		}

		expect(replies[1]!.error!.message).toContain('base.gds');
		expect(replies[2]!.error!.message).toContain('notes.lyrdb');
	});

	test('a gzip bomb as markers: LOAD_FAILED at once, the window keeps answering', async () => {
		// 2 GiB of zeros would inflate to a file KLayout reads for many seconds on the GUI thread.
		const zeros = path.join(gui.temp, 'zeros.lyrdb.gz');
		const chunk = gzipSync(Buffer.alloc(64 * 1024 * 1024), {level: 9});
		await writeFile(zeros, Buffer.concat(Array.from({length: 32}, () => chunk)));
		// Whitespace passes the "text" check: the cap on the inflated size stops it.
		const spaces = path.join(gui.temp, 'spaces.lyrdb.gz');
		await writeFile(spaces, gzipSync(Buffer.concat([Buffer.from('<?xml version="1.0"?>\n'), Buffer.alloc(300 * 1024 * 1024, ' ')]), {level: 9}));
		const started = Date.now();
		const pinged = new Promise<number>((resolve, reject) => {
			setTimeout(() => {
				const sent = Date.now();
				v2Session(gui.viewer.port, [{id: 'p', method: 'ping'}]).then(() => {
					resolve(Date.now() - sent);
				}, reject);
			}, 50);
		});
		const replies = await v2Session(gui.viewer.port, [
			{id: 1, method: 'load', params: {path: fixture('base.gds'), mode: 'new'}},
			{id: 2, method: 'markers', params: {path: zeros}},
			{id: 3, method: 'markers', params: {path: spaces}},
		]);
		expect(replies[1]!.error).toMatchObject({code: 'LOAD_FAILED', message: expect.stringContaining('zeros.lyrdb.gz')});
		expect(replies[2]!.error).toMatchObject({code: 'LOAD_FAILED', message: expect.stringMatching(/spaces\.lyrdb\.gz: inflates to more than 256 MB/)});
		// Generous bounds (a loaded CI machine), far below the 10-21 s such a file used to hold the window.
		expect(Date.now() - started).toBeLessThan(5000);
		expect(await pinged).toBeLessThan(5000);
		expect((await viewerStatus(gui.viewer.port)).modal).toBeNull();
	}, 60_000);

	test('an oversize first line that starts with "{" is answered as v2: a JSON error object', async () => {
		const reply = await v1Exchange(gui.viewer.port, Buffer.concat([Buffer.from('{"id": 1, "method": "load", "params": {"path": "'), Buffer.alloc(1.5 * 1024 * 1024, 'x')]));
		const line = reply.toString('utf8').trim();
		expect(JSON.parse(line)).toMatchObject({id: null, ok: false, error: {code: 'BAD_REQUEST', message: expect.stringMatching(/longer than/)}});
	});

	test('clients that trickle bytes are closed when no complete line came within 10 s (v1 and v2)', async () => {
		const trickle = async (text: string) =>
			new Promise<{closedAfterMs: number; sent: number}>(resolve => {
				const socket = net.connect(gui.viewer.port, '127.0.0.1');
				const started = Date.now();
				let sent = 0;
				const timer = setInterval(() => {
					socket.write(text[sent % text.length]!);
					sent++;
				}, 500);
				socket.on('error', () => undefined);
				socket.on('close', () => {
					clearInterval(timer);
					resolve({closedAfterMs: Date.now() - started, sent});
				});
			});
		const [v1, v2] = await Promise.all([trickle('load a_file_name_that_never_ends'), trickle('{"id": 1, "method": "ping", "params": {"x": "never ends')]);
		for (const run of [v1, v2]) {
			expect(run.closedAfterMs).toBeGreaterThanOrEqual(9000);
			expect(run.closedAfterMs).toBeLessThan(20_000);
			expect(run.sent).toBeGreaterThan(15); // bytes kept coming, the deadline held anyway
		}

		expect((await v2Session(gui.viewer.port, [{id: 1, method: 'ping'}]))[0]).toMatchObject({ok: true});
	}, 40_000);
});
