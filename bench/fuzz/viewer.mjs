#!/usr/bin/env node
// Hostile requests against a real viewer (a KLayout GUI under Xvfb with the lyipc server), a
// fixed set per seed: malformed and deeply nested JSON, parameters of every wrong kind, boxes
// out of range, FIFOs and devices as paths, compressed bombs, oversized and dense side files,
// huge pictures, other users (when run as root), floods of connections; v2, v1 and klive. Each case
// runs while a second connection pings the viewer, so the longest time its window could not
// answer is measured too.
//
// A case is clean when the viewer answered with a coded error or a correct result; internal
// when it answered INTERNAL (v1: a Python error that is not lyipc's own; klive: an error named
// after a Python exception), gave no answer, or died.
//
// Called by bench/fuzz.mjs as run({seed, deadlineMs, log}); alone:
//   node bench/fuzz/viewer.mjs --seed 1 [--deadline-ms 300000]
import {execFileSync} from 'node:child_process';
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {fifo, gzippedZeros, LAYERS_HEAD, LAYERS_TAIL, layerProperties, MARKERS_HEAD, MARKERS_TAIL, markerDatabase, overlappingBoxes, repeated} from '../../test/helpers/hostile-files.mjs';
import {whilePinging} from '../../test/helpers/ping-loop.mjs';
import {random, startGuiViewer} from '../helpers.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = path.join(ROOT, 'fixtures', 'base.gds');
const CASE_TIMEOUT_MS = 30_000;

const ITEM = '<item><category>c</category><cell>TOP</cell></item>';
/** Side files dense in every way KLayout reads them (issue 28 review), then the densest within the limits: [name, pieces]. */
const DENSE = [
	['empty-items.lyrdb', [MARKERS_HEAD, ['<item/>', 4_000_000], MARKERS_TAIL]],
	['spaced-items.lyrdb', [MARKERS_HEAD, ['<item ><category>c</category><cell>TOP</cell></item >', 500_000], MARKERS_TAIL]],
	['nested.lyrdb', [MARKERS_HEAD, ['<item >', 50_000], MARKERS_TAIL]],
	['entities.lyrdb', ['<?xml version="1.0"?>\n', `<!DOCTYPE report-database [<!ENTITY e "${ITEM.repeat(50)}">]>`, MARKERS_HEAD.replace(/^.*\n/, ''), ['&e;', 40_000], MARKERS_TAIL]],
	['calibre.db', ['TOP 1000\nc\n500000 500000 1\nc\n', ['p 1 1\n0 0\n', 500_000]]],
	['open-tags.lyp', [LAYERS_HEAD, ['<properties ><source>1/0@1</source></properties >\n', 150_000], LAYERS_TAIL]],
	[
		'densest.lyrdb',
		[
			MARKERS_HEAD.replace('<cells>', `<cells>${'<cell/>'.repeat(9990)}`),
			['<item><cell>TOP</cell></item>', 49_990],
			['<x/>', 189_000],
			'<item><category>c</category><cell>TOP</cell><values><value>polygon: (0,0',
			[';1,1', 1_500_000],
			')</value></values></item>',
			MARKERS_TAIL,
		],
	],
	['densest.lyp', [LAYERS_HEAD, ['<properties><source>1/0@1</source></properties>\n', 999], ['<x/>', 280_000], LAYERS_TAIL]],
];

/** Bytes out on one connection; everything back until the server closes, `lines` lines came, or `timeout`. */
async function exchange(port, bytes, {lines = 0, timeout = CASE_TIMEOUT_MS} = {}) {
	return new Promise((resolve, reject) => {
		const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
		const chunks = [];
		let settled = false;
		const finish = error => {
			if (!settled) {
				settled = true;
				socket.destroy();
				if (error) {
					reject(error);
				} else {
					resolve(Buffer.concat(chunks).toString('utf8'));
				}
			}
		};

		const timer = setTimeout(() => finish(new Error(`no answer within ${timeout} ms`)), timeout);
		socket.on('data', chunk => {
			chunks.push(chunk);
			if (lines && Buffer.concat(chunks).toString('utf8').split('\n').length > lines) {
				clearTimeout(timer);
				finish();
			}
		});
		socket.on('error', () => undefined); // a reset after a refusal: what came before counts
		socket.on('close', () => {
			clearTimeout(timer);
			finish();
		});
	});
}

/** Whether a v1 ERR carries a Python error that is not lyipc's own (the traceback's last line names it). */
function v1Internal(reply) {
	if (!reply.startsWith('ERR ') || !reply.includes('Traceback')) {
		return false;
	}

	const last = reply.slice(5, -1).split('\\n').filter(Boolean).at(-1) ?? '';
	return !/(JobError|ViewerError|NeedsLayout|TooLarge)$/.test(last.split(': ')[0]);
}

/** Classifies one answer: clean, or internal with why. */
function judge(protocol, text) {
	if (protocol === 'v2') {
		const replies = text
			.split('\n')
			.filter(Boolean)
			.map(line => {
				try {
					return JSON.parse(line);
				} catch {
					return {unparsable: line};
				}
			});
		if (replies.length === 0) {
			return 'no answer';
		}

		const bad = replies.find(reply => reply.unparsable !== undefined || (!reply.ok && (!reply.error?.code || reply.error.code === 'INTERNAL')));
		return bad ? `answered ${JSON.stringify(bad).slice(0, 300)}` : undefined;
	}

	if (protocol === 'v1') {
		if (!/^(ACK |ERR )/.test(text)) {
			return `not a v1 answer: ${JSON.stringify(text.slice(0, 200))}`;
		}

		return v1Internal(text) ? `a Python error: ${text.slice(-300)}` : undefined;
	}

	let reply;
	try {
		reply = JSON.parse(text);
	} catch {
		return `not a klive answer: ${JSON.stringify(text.slice(0, 200))}`;
	}

	return reply.type === 'error' && /^[A-Z]\w*(Error|Exception): /.test(reply.error ?? '') ? `a Python error: ${reply.error}` : undefined;
}

/** Values of every wrong kind for a parameter. */
function hostileValue(rnd, files) {
	const deep = depth => (depth === 0 ? 1 : [deep(depth - 1)]);
	return rnd.pick([
		-1,
		0,
		1.5,
		2 ** 63,
		1e308,
		-1e308,
		true,
		null,
		'',
		'x',
		'x'.repeat(10_000),
		'\u0000',
		'../../../../etc/passwd',
		'/etc/shadow',
		'/dev/zero',
		'/dev/null',
		'/proc/self/mem',
		'/',
		tmpdir(),
		files.fifo,
		files.zeros,
		files.boxes,
		files.rdb,
		files.lyp,
		FIXTURE,
		[],
		[1, 2, 3, 4],
		[4, 3, 2, 1],
		[1e308, 1e308, -1e308, -1e308],
		[0, 0, 1e12, 1e12],
		['a', 'b', 'c', 'd'],
		{},
		{path: FIXTURE},
		deep(50),
	]);
}

const V2_PARAMS = {
	hello: ['token'],
	ping: [],
	load: ['path', 'mode', 'keepView', 'cell', 'lyp', 'rdb'],
	reload: ['path', 'view'],
	status: [],
	screenshot: ['width', 'height', 'view', 'path'],
	markers: ['path', 'view', 'cellview'],
	zoom: ['box', 'view'],
	close: ['view'],
	show_diff: ['a', 'b', 'xor', 'rdb', 'box', 'title', 'key', 'names'],
};

/** The cases for one seed: [name, protocol, port key, bytes, lines expected (0: until close), ms to keep pinging after the answer]. */
function* cases(rnd, files) {
	// Raw lines: not JSON, nested beyond any parser's recursion, odd ids, odd numbers, bytes.
	const raw = [
		'['.repeat(100_000),
		'{"a":'.repeat(5000) + '1' + '}'.repeat(5000),
		`{"id": ${'['.repeat(3000)}1${']'.repeat(3000)}, "method": "ping"}`,
		`{"id": ${'['.repeat(900)}1${']'.repeat(900)}, "method": "ping"}`,
		`{"id": {"a": 1}, "method": "ping"}`,
		'{"id": 1, "method": "zoom", "params": {"box": [NaN, 0, 1, 1]}}',
		'{"id": 1, "method": "zoom", "params": {"box": [Infinity, 0, 1, 1]}}',
		'{"id": 1, "method": "zoom", "params": {"box": [1e999, 0, 1, 1]}}',
		'{"id": 1, "method": "screenshot", "params": {"width": 1e999}}',
		`{"id": 1, "method": "load", "params": {"path": "${'\\ud800'}"}}`,
		'{"id": 1, "method": "load", "params": {"path": "a\\u0000b"}}',
		'{"id": 1, "method": "load", "params": {"path": 5}}',
		'{"id": 1, "method": ["ping"]}',
		'"just a string"',
		'null',
		'{}',
	];
	for (const line of raw) {
		// The first line decides the protocol: anything but a JSON object is a v1 command.
		const v2 = line.startsWith('{');
		yield [`${v2 ? 'v2' : 'v1'} raw ${line.slice(0, 40)}`, v2 ? 'v2' : 'v1', 'port', `${line}\n`, v2 ? 1 : 0];
	}

	yield ['v2 invalid UTF-8', 'v2', 'port', Buffer.concat([Buffer.from('{"id": 1, "method": "load", "params": {"path": "'), Buffer.from([0xff, 0xfe, 0xc0]), Buffer.from('"}}\n')]), 1];
	// Each method with parameters of every wrong kind.
	for (let i = 0; i < 400; i++) {
		const method = rnd.pick(Object.keys(V2_PARAMS));
		const params = {};
		for (const name of V2_PARAMS[method]) {
			if (rnd.next() < 0.5) {
				params[name] = hostileValue(rnd, files);
			}
		}

		if (method === 'screenshot' && params.path === undefined) {
			params.path = path.join(files.folder, `shot-${i}.png`); // no PNG over the terminal
		}

		const request = {id: i, method, params};
		yield [`v2 ${method} ${JSON.stringify(params).slice(0, 80)}`, 'v2', 'port', `${JSON.stringify(request)}\n`, 1];
	}

	// The files that once held the window, each the way it hurt.
	const heavy = [
		{method: 'load', params: {path: FIXTURE, mode: 'new'}}, // a view for the markers and the screenshot
		{method: 'load', params: {path: files.zeros, mode: 'new'}},
		{method: 'load', params: {path: files.fifo}},
		{method: 'markers', params: {path: files.rdb}},
		{method: 'load', params: {path: FIXTURE, mode: 'new', lyp: files.lyp}},
		{method: 'screenshot', params: {path: files.fifo}},
		{method: 'load', params: {path: files.boxes, mode: 'new'}},
		{method: 'screenshot', params: {width: 800, height: 600}},
		{method: 'screenshot', params: {width: 10_000, height: 10_000}},
		{method: 'close'},
		// Side files dense in the ways KLayout reads them, and the densest within the limits (a
		// view first: markers go into one).
		{method: 'load', params: {path: FIXTURE, mode: 'new'}},
		...files.dense.map(path => (path.endsWith('.lyp') ? {method: 'load', params: {path: FIXTURE, mode: 'new', lyp: path}} : {method: 'markers', params: {path}})),
		{method: 'close'},
	];
	for (const [i, request] of heavy.entries()) {
		// Pinged 2 s past the answer: KLayout draws a loaded view on screen after it.
		yield [`v2 heavy ${request.method} ${JSON.stringify(request.params ?? {}).slice(0, 80)}`, 'v2', 'port', `${JSON.stringify({id: `heavy${i}`, ...request})}\n`, 1, 2000];
	}

	// Uploads: sizes of every kind, bytes short of what they announce.
	for (const size of [-1, 0, 1.5, 2 ** 53, 10 ** 15, '12']) {
		yield [`v2 upload size ${size}`, 'v2', 'port', `${JSON.stringify({id: 'u', method: 'upload', params: {size, store: true}})}\nshort`, 1];
	}

	// v1 lines.
	const v1 = [
		'load',
		'load ',
		'load ""',
		`load ${files.fifo}`,
		`load ${files.zeros} 1`,
		`load ${FIXTURE} 7`,
		`load ${FIXTURE} -1`,
		`load "${FIXTURE}`,
		'reload',
		'reload view',
		'cellview',
		'cellview \u0000',
		'ping x',
		'kill',
		'\u0000\u0001\u0002',
		'x'.repeat(5000),
	];
	for (const line of v1) {
		yield [`v1 ${line.slice(0, 40)}`, 'v1', 'port', `${line}\r\n`, 0];
	}

	yield ['v1 invalid UTF-8', 'v1', 'port', Buffer.from([0x6c, 0x6f, 0x61, 0x64, 0x20, 0xff, 0xfe, 0x0d, 0x0a]), 0];
	// klive messages.
	const klive = [
		'not json',
		'['.repeat(100_000),
		JSON.stringify({gds: 5}),
		JSON.stringify({gds: files.fifo}),
		JSON.stringify({gds: files.zeros}),
		JSON.stringify({gds: FIXTURE, technology: 5}),
		JSON.stringify({gds: FIXTURE, lyrdb: files.rdb}),
		JSON.stringify({gds: FIXTURE, l2n: files.fifo}),
		JSON.stringify({gds: FIXTURE, libraries: 'x'}),
		JSON.stringify({gds: FIXTURE, libraries: [{name: 5, file: FIXTURE}]}),
		JSON.stringify({gds: FIXTURE, libraries: [{name: 'L', file: files.zeros}]}),
		JSON.stringify({gds: FIXTURE, markers: 5}),
		JSON.stringify({gds: FIXTURE, markers: [['DBox', 'garbage', {color: 'red'}]]}),
		JSON.stringify({gds: FIXTURE, markers: [['DBox', '(0,0;1,1)', {line_width: 1e300}]]}),
		JSON.stringify({gds: FIXTURE, markers: Array.from({length: 20_000}, () => ['DBox', '(0,0;1,1)'])}),
		JSON.stringify({gds: FIXTURE, keep_position: 'yes'}),
	];
	for (const line of klive) {
		yield [`klive ${line.slice(0, 40)}`, 'klive', 'klivePort', `${line}\n`, 0];
	}
}

/** A second user of the machine (root only: nobody via setpriv) trying each protocol. */
function otherUserCases(files) {
	if (process.getuid?.() !== 0) {
		return [];
	}

	const client = path.join(files.folder, 'client.py');
	writeFileSync(
		client,
		'import socket, sys\nc = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)\nc.sendall(sys.argv[2].encode())\nout = b""\ntry:\n    while True:\n        d = c.recv(65536)\n        if not d: break\n        out += d\nexcept OSError: pass\nsys.stdout.write(out.decode("utf-8", "replace"))\n',
	);
	chmodSync(client, 0o644);
	return [
		['other user v1 load', 'v1', 'port', `load ${FIXTURE} 1\r\n`],
		['other user v2 status', 'v2', 'port', '{"id":1,"method":"status"}\n'],
		['other user v2 screenshot', 'v2', 'port', `{"id":1,"method":"screenshot","params":{"path":"${path.join(files.folder, 'victim.png')}"}}\n`],
		['other user klive', 'klive', 'klivePort', `${JSON.stringify({gds: FIXTURE})}\n`],
	].map(([name, protocol, portKey, text]) => ({name, protocol, portKey, text, client}));
}

export async function run({seed = 1, deadlineMs = 10 * 60_000, log = () => undefined} = {}) {
	const started = Date.now();
	const rnd = random(seed);
	const folder = mkdtempSync(path.join(tmpdir(), 'lyipc-fuzz-viewer-'));
	chmodSync(folder, 0o755);
	const files = {
		folder,
		fifo: fifo(path.join(folder, 'pipe')),
		zeros: path.join(folder, 'zeros.gds.gz'),
		boxes: path.join(folder, 'boxes.gds.gz'),
		rdb: path.join(folder, 'markers.lyrdb.gz'),
		lyp: path.join(folder, 'layers.lyp'),
	};
	files.dense = DENSE.map(([name]) => path.join(folder, name));
	await Promise.all([
		gzippedZeros(files.zeros, 256 * 1024 ** 2),
		overlappingBoxes(files.boxes, 500_000),
		markerDatabase(files.rdb, 1_000_000, true),
		layerProperties(files.lyp, 50_000),
		...DENSE.map(([name, pieces]) => repeated(path.join(folder, name), pieces)),
	]);
	const settings = {screenshotTimeout: 5, uploadQuota: 50 * 1024 ** 2};
	const notes = [];
	const tally = {set: 'viewer', cases: 0, clean: 0, internal: 0, longestBlockMs: 0, notes};
	let viewer = await startGuiViewer({settings, klive: true});
	const record = (name, problem, blockMs) => {
		tally.cases++;
		tally.longestBlockMs = Math.max(tally.longestBlockMs, blockMs);
		if (problem) {
			tally.internal++;
			notes.push(`${name}: ${problem}`);
			log(`internal: ${name}: ${problem}`);
		} else {
			tally.clean++;
		}

		if (blockMs >= 1000) {
			notes.push(`${name}: the window did not answer for ${blockMs} ms`);
		}
	};

	const restartIfDead = async name => {
		if (!viewer.alive()) {
			notes.push(`${name}: KLayout died; restarted`);
			viewer.stop();
			viewer = await startGuiViewer({settings, klive: true});
			return true;
		}

		return false;
	};

	try {
		for (const [name, protocol, portKey, bytes, lines, tailMs = 0] of cases(rnd, files)) {
			if (Date.now() - started > deadlineMs) {
				notes.push(`deadline: stopped after ${tally.cases} cases`);
				break;
			}

			let problem;
			let blockMs = 0;
			try {
				// A case never runs past the deadline by more than a second.
				const timeout = Math.max(1000, Math.min(CASE_TIMEOUT_MS, deadlineMs - (Date.now() - started)));
				const {result, longestMs} = await whilePinging(viewer.port, async () => {
					const answer = await exchange(viewer[portKey], bytes, {lines, timeout});
					await new Promise(resolve => setTimeout(resolve, tailMs));
					return answer;
				});
				blockMs = longestMs;
				problem = judge(protocol, result);
			} catch (error) {
				if (Date.now() - started >= deadlineMs) {
					notes.push(`deadline: stopped after ${tally.cases} cases, in ${name}`);
					break; // cut by the deadline, not the viewer's fault
				}

				problem = error.message;
			}

			if (await restartIfDead(name)) {
				problem ??= 'KLayout died';
			}

			record(name, problem, blockMs);
		}

		for (const {name, protocol, portKey, text, client} of otherUserCases(files)) {
			if (Date.now() - started > deadlineMs) {
				break;
			}

			const {result, longestMs} = await whilePinging(viewer.port, async () =>
				execFileSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '/usr/bin/python3', client, String(viewer[portKey]), text], {encoding: 'utf8', timeout: CASE_TIMEOUT_MS}),
			);
			const refused = /UNAUTHORIZED|serves only the user it runs as/.test(result);
			record(name, refused ? judge(protocol, result) : `not refused: ${result.slice(0, 200)}`, longestMs);
		}

		// A flood: more connections than the server holds, each sending garbage, then a ping.
		if (Date.now() - started <= deadlineMs) {
			const {result, longestMs} = await whilePinging(viewer.port, async () => {
				const sockets = await Promise.all(
					Array.from(
						{length: 300},
						async (_, i) =>
							new Promise(resolve => {
								const socket = net.connect(viewer.port, '127.0.0.1', () => {
									socket.write(Buffer.from(Array.from({length: 256}, (_, j) => (i * 31 + j * 17) % 256)));
									resolve(socket);
								});
								socket.on('error', () => resolve(socket));
							}),
					),
				);
				for (const socket of sockets) {
					socket.destroy();
				}

				return exchange(viewer.port, '{"id":"after","method":"ping"}\n', {lines: 1});
			});
			record('flood of 300 connections', result.includes('pong') ? undefined : `no pong after the flood: ${result.slice(0, 200)}`, longestMs);
		}
	} finally {
		viewer.stop();
		rmSync(folder, {recursive: true, force: true});
	}

	return tally;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
	const {values} = parseArgs({options: {seed: {type: 'string', default: '1'}, 'deadline-ms': {type: 'string', default: String(10 * 60_000)}}});
	const result = await run({seed: Number(values.seed), deadlineMs: Number(values['deadline-ms']), log: line => console.error(line)});
	console.log(`viewer fuzz, seed ${values.seed}: ${result.cases} cases, ${result.clean} clean, ${result.internal} internal, longest block ${result.longestBlockMs} ms`);
	for (const note of result.notes) {
		console.log(`  ${note}`);
	}

	process.exitCode = result.internal > 0 ? 1 : 0;
}
