import {writeFile} from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import {gzipSync} from 'node:zlib';
import {expect, test} from 'vitest';
import {useGuiViewer, v1Exchange, v2Session, viewerStatus, type V2Reply} from '../helpers/gui.js';
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

/** Raw v2 lines on one connection (not built with JSON.stringify: NaN, Infinity, nesting beyond it), one reply each. */
async function v2Raw(port: number, lines: string[]): Promise<V2Reply[]> {
	return new Promise((resolve, reject) => {
		const socket = net.connect(port, '127.0.0.1', () => socket.write(lines.map(line => line + '\n').join('')));
		let text = '';
		socket.setTimeout(30_000, () => {
			socket.destroy(new Error(`${text.split('\n').length - 1} of ${lines.length} replies within 30 s`));
		});
		socket.on('data', (chunk: Buffer) => {
			text += chunk.toString('utf8');
			const replies = text.split('\n').filter(Boolean);
			if (replies.length === lines.length && text.endsWith('\n')) {
				socket.destroy();
				resolve(replies.map(reply => JSON.parse(reply) as V2Reply));
			}
		});
		socket.on('error', reject);
	});
}

/** Values of the wrong type for some parameter or other (null means "default" and is left out). */
const WRONG: unknown[] = [5, -1, 1.5, true, '', 'x', [1, 2], [1, 2, 3, 'x'], {}, {path: 'x'}];

describeKLayout("the viewer server answers a caller's mistakes with BAD_REQUEST or LOAD_FAILED, never INTERNAL", () => {
	const gui = useGuiViewer({klive: true});

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

	test('a request that fails changes nothing: load with an unreadable rdb, markers for a cellview the view lacks; show_diff skips the markers', async () => {
		const text = path.join(gui.temp, 'words.lyrdb');
		await writeFile(text, 'just some words\n');
		const rdb = path.join(gui.temp, 'one.lyrdb');
		await writeFile(
			rdb,
			'<?xml version="1.0" encoding="utf-8"?>\n<report-database>\n <categories><category><name>xor</name></category></categories>\n <cells><cell><name>TOP</name></cell></cells>\n <items/>\n</report-database>\n',
		);
		await v2Session(gui.viewer.port, [{id: 1, method: 'load', params: {path: fixture('base.gds'), mode: 'new'}}]);
		const before = await viewerStatus(gui.viewer.port);
		const [load, markers] = await v2Session(gui.viewer.port, [
			{id: 1, method: 'load', params: {path: fixture('one_shape.gds'), mode: 'new', rdb: text}},
			{id: 2, method: 'markers', params: {path: rdb, cellview: 3}},
		]);
		expect(load!.error).toMatchObject({code: 'LOAD_FAILED', message: expect.stringContaining(`${text}: not a marker database`)});
		expect(markers!.error).toMatchObject({code: 'BAD_REQUEST', message: expect.stringContaining('no cellview 3')});
		expect(await viewerStatus(gui.viewer.port)).toEqual(before);

		const [diff] = await v2Session(gui.viewer.port, [{id: 1, method: 'show_diff', params: {a: fixture('base.gds'), b: fixture('one_shape.gds'), xor: fixture('extra_layer.gds'), rdb: text}}]);
		expect(diff!.result).toMatchObject({cellviews: [0, 1, 2], markersSkipped: expect.stringContaining(`${text}: not a marker database`)});
	});

	test('JSON nested 1000+ levels (request, id, params): BAD_REQUEST, never a RecursionError', async () => {
		const deep = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
		const lines = [
			`{"id": 1, "method": "zoom", "params": {"box": ${deep(5000)}}}`,
			`{"id": ${deep(3000)}, "method": "ping"}`,
			`{"id": ${deep(500)}, "method": "ping"}`,
			`${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`,
			'{"id": {"x": 1}, "method": "ping"}',
			'{"id": 2, "method": "ping"}',
		];
		const replies = await v2Raw(gui.viewer.port, lines);
		expect(replies.map(reply => [reply.id, reply.error?.code ?? reply.result])).toEqual([
			[null, 'BAD_REQUEST'],
			[null, 'BAD_REQUEST'],
			[null, 'BAD_REQUEST'],
			[null, 'BAD_REQUEST'],
			[null, 'BAD_REQUEST'],
			[2, 'pong'],
		]);
		expect(replies[0]!.error!.message).toBe('JSON nested too deeply');
		expect(replies[2]!.error!.message).toBe("a request's id must be a string, a number or null");
	});

	test('boxes out of range, not finite or upside down: BAD_REQUEST naming the box; a point is fine', async () => {
		const replies = await v2Raw(gui.viewer.port, [
			'{"id": 0, "method": "load", "params": {"path": "' + fixture('base.gds') + '", "mode": "new"}}',
			'{"id": 1, "method": "zoom", "params": {"box": [1e308, 1e308, -1e308, -1e308]}}',
			'{"id": 2, "method": "zoom", "params": {"box": [NaN, 0, 1, 1]}}',
			'{"id": 3, "method": "zoom", "params": {"box": [-Infinity, 0, 1, 1]}}',
			'{"id": 4, "method": "zoom", "params": {"box": [0, 0, 1e300, 1e300]}}',
			'{"id": 5, "method": "zoom", "params": {"box": [10, 0, 0, 10]}}',
			'{"id": 6, "method": "show_diff", "params": {"a": "' +
				fixture('base.gds') +
				'", "b": "' +
				fixture('base.gds') +
				'", "xor": "' +
				fixture('base.gds') +
				'", "box": [1e308, 1e308, -1e308, -1e308]}}',
			'{"id": 7, "method": "zoom", "params": {"box": [5, 5, 5, 5]}}',
		]);
		expect(replies.map(reply => reply.ok)).toEqual([true, false, false, false, false, false, false, true]);
		for (const reply of replies.slice(1, -1)) {
			expect(reply.error, JSON.stringify(reply)).toMatchObject({
				code: 'BAD_REQUEST',
				message: expect.stringMatching(/'box' must be \[left, bottom, right, top\] in µm: finite, left <= right, bottom <= top/),
			});
		}
	});

	test("v1 lines a caller got wrong: ERR with lyipc's own error, not a Python one", async () => {
		for (const [line, message] of [
			[`load ${fixture('base.gds')} 7\r\n`, /JobError: load mode must be 0 \(replace\), 1 \(new view\) or 2 \(add\), got 7/],
			[`load ${fixture('base.gds')} -1\r\n`, /JobError: load mode must be 0 .*got -1/],
			[Buffer.from([0x6c, 0x6f, 0x61, 0x64, 0x20, 0xff, 0xfe, 0x0d, 0x0a]), /JobError: the line is not UTF-8 text/],
			['load \r\n', /JobError: layout: expected a path, got \\'\\'/],
		] as const) {
			const reply = (await v1Exchange(gui.viewer.port, line)).toString('utf8');
			expect(reply).toMatch(/^ERR '/);
			expect(reply).toMatch(message);
		}
	});

	test('klive messages of the wrong shape: a klive error saying what is wrong, not a Python exception', async () => {
		const klive = async (line: string) => JSON.parse((await v1Exchange(gui.viewer.klivePort!, line + '\n')).toString('utf8')) as {type: string; error?: string};
		for (const [line, message] of [
			['['.repeat(100_000), /^JSON nested too deeply$/],
			[JSON.stringify({gds: fixture('base.gds'), technology: 5}), /^technology: expected str, got int$/],
			[JSON.stringify({gds: fixture('base.gds'), libraries: 'x'}), /^libraries: expected list, got str$/],
			[JSON.stringify({gds: fixture('base.gds'), libraries: [{name: 5, file: fixture('base.gds')}]}), /^libraries: "name" and "file" must be strings$/],
			[JSON.stringify({gds: fixture('base.gds'), markers: 5}), /^markers: expected list, got int$/],
			[JSON.stringify({gds: fixture('base.gds'), markers: [['DBox', '(0,0;1,1)', {color: 'red'}]]}), /^markers: DBox \(0,0;1,1\): /],
			[JSON.stringify({gds: fixture('base.gds'), markers: Array.from({length: 20_000}, () => ['DBox', '(0,0;1,1)'])}), /^markers: 20000 shapes, at most 10000/],
		] as const) {
			const reply = await klive(line);
			expect(reply.type, line.slice(0, 80)).toBe('error');
			expect(reply.error).toMatch(message);
			expect(reply.error).not.toMatch(/^[A-Z]\w*(Error|Exception): /);
		}
	});

	test('a gzip bomb as markers: LOAD_FAILED or TOO_LARGE at once, the window keeps answering', async () => {
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
		// Whitespace is text: the cap on the inflated size refuses it (a marker database of 8 MB loads in well under a second).
		expect(replies[2]!.error).toMatchObject({code: 'TOO_LARGE', message: expect.stringMatching(/spaces\.lyrdb\.gz: inflates to more than 8 MB; refused as a marker database$/)});
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
