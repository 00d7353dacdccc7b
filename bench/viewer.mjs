#!/usr/bin/env node
// The viewer server's v2 protocol against the original lyipc protocol (v1), on one KLayout GUI.
// Usage: npm run build && npm run bench:viewer [-- --runs N]   (bench/README.md)
import {execFileSync} from 'node:child_process';
import {copyFileSync, existsSync, mkdtempSync, rmSync, statSync} from 'node:fs';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {startGuiViewer} from './helpers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = path.join(ROOT, 'dist', 'src', 'index.js');
const SMALL = path.join(ROOT, 'fixtures', 'base.gds');
const LARGE = path.join(ROOT, 'bench', '.data', 'flat_a.gds');

const {values} = parseArgs({options: {runs: {type: 'string', default: '20'}}});
const runs = Number(values.runs);
const largeRuns = Math.max(3, Math.ceil(runs / 4)); // a 29 MB layout: fewer runs

function fail(message) {
	console.error(`bench:viewer: ${message}`);
	process.exit(2);
}

if (!existsSync(DIST)) {
	fail('dist/ is missing: run npm run build first');
}

const {ViewerClient} = await import(DIST);
const klayout = process.env.KLAYOUT ?? 'klayout';
execFileSync(klayout, ['-b', '-r', path.join(ROOT, 'bench', 'generate.py'), '-rd', 'only=flat_a.gds'], {stdio: ['ignore', 'ignore', 'inherit']});

/** One v1 exchange as the old Python client made it: connect, one line, read until the server closes. */
async function v1(port, line) {
	return new Promise((resolve, reject) => {
		const socket = net.connect(port, '127.0.0.1');
		let reply = '';
		socket.on('connect', () => socket.write(`${line}\r\n`));
		socket.on('data', chunk => {
			reply += chunk;
		});
		socket.on('error', reject);
		socket.on('close', () => (reply.startsWith('ACK') ? resolve(reply) : reject(new Error(`${line}: ${reply}`))));
	});
}

/** Median milliseconds of `count` runs of `job`, after one untimed run. */
async function measure(count, job) {
	await job();
	const times = [];
	for (let i = 0; i < count; i++) {
		const started = performance.now();
		await job();
		times.push(performance.now() - started);
	}

	times.sort((x, y) => x - y);
	return times[Math.floor(times.length / 2)];
}

const viewer = await startGuiViewer({klayout}).catch(error => fail(error.message));
const target = {host: '127.0.0.1', port: viewer.port};
const rows = [];
const row = (operation, lyipc, original, v2Ms, v1Ms) => rows.push({operation, lyipc, original, v2Ms, v1Ms});
const scratch = mkdtempSync(path.join(tmpdir(), 'lyipc-bench-viewer-'));
try {
	// A view to replace into, so that views do not pile up.
	const setup = await ViewerClient.connect(target);
	await setup.request('load', {path: SMALL, mode: 'new'});

	// 1. load + status of a small file
	const persistent = await measure(runs, async () => {
		await setup.request('load', {path: SMALL});
		await setup.request('status');
	});
	const fresh = await measure(runs, async () => {
		const client = await ViewerClient.connect(target);
		await client.request('load', {path: SMALL});
		await client.request('status');
		client.close();
	});
	const v1Load = await measure(runs, async () => {
		await v1(viewer.port, `load ${SMALL} 0`);
	});
	row(`load + status, ${statSync(SMALL).size} B layout`, 'v2, open connection', 'v1 load (v1 has no status)', persistent, v1Load);
	row(`load + status, ${statSync(SMALL).size} B layout`, 'v2, new connection + hello', 'v1 load (v1 has no status)', fresh, v1Load);

	// 2. reload of a 29 MB layout, in place
	const mb = (statSync(LARGE).size / 1e6).toFixed(1);
	await setup.request('load', {path: LARGE});
	const v2Reload = await measure(largeRuns, async () => {
		await setup.request('reload', {path: LARGE});
		await setup.request('status'); // answered only once the GUI is free again
	});
	const v1Reload = await measure(largeRuns, async () => {
		await v1(viewer.port, 'reload view');
		await v1(viewer.port, 'ping');
	});
	row(`reload, ${mb} MB layout`, 'v2 reload {path} + status', 'v1 reload view + ping', v2Reload, v1Reload);

	// 3. a 29 MB file the viewer cannot read: v2 sends the bytes over the socket; the original
	// path copied the file to the viewer's machine (rsync over ssh) and sent v1 load. Here the
	// copy is a local one, so the v1 figure is a lower bound: no ssh, no network.
	const v2Upload = await measure(largeRuns, async () => {
		await setup.upload(LARGE, {mode: 'replace'});
	});
	const copy = path.join(scratch, 'tmp_lypic', path.basename(LARGE));
	execFileSync('mkdir', ['-p', path.dirname(copy)]);
	const v1Upload = await measure(largeRuns, async () => {
		copyFileSync(LARGE, copy);
		await v1(viewer.port, `load ${copy} 0`);
	});
	row(`upload + load, ${mb} MB layout`, 'v2 upload (bytes on the socket)', 'file copy + v1 load', v2Upload, v1Upload);
	const v2Store = await measure(largeRuns, async () => {
		await setup.upload(LARGE, {store: true});
	});
	const v1Copy = await measure(largeRuns, async () => {
		copyFileSync(LARGE, copy);
	});
	row(`the transfer alone, ${mb} MB`, 'v2 upload {store}', 'file copy', v2Store, v1Copy);
	setup.close();
} finally {
	viewer.stop();
	rmSync(scratch, {recursive: true, force: true});
}

console.log(`| operation | lyipc (v2) | original path (v1) | v2 ms | v1 ms | v2 / v1 |`);
console.log('|---|---|---|---|---|---|');
for (const {operation, lyipc, original, v2Ms, v1Ms} of rows) {
	console.log(`| ${operation} | ${lyipc} | ${original} | ${v2Ms.toFixed(1)} | ${v1Ms.toFixed(1)} | ${(v2Ms / v1Ms).toFixed(2)}x |`);
}

console.log(`\nmedian of ${runs} runs (small file) and ${largeRuns} runs (large file), after one untimed run each`);
