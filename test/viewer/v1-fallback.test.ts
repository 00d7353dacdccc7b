import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, test} from 'vitest';
import {ViewerClient} from '../../src/viewer/client.js';
import {showDiffInViewer} from '../../src/viewer/show-diff.js';
import type {CompareResult} from '../../src/xor/result.js';
import {startOldLyipcServer, type OldLyipcServer} from '../helpers/old-lyipc-server.js';
import {LYIPC_CLI, runCli} from '../helpers/run.js';

/** The client against a stand-in of the old Python lyipc server: it must fall back to v1 and send its exact bytes. */
describe('ViewerClient against an old lyipc server (v1 only)', () => {
	let old: OldLyipcServer;
	let temp: string;
	let spaced: string;
	beforeAll(async () => {
		temp = await mkdtemp(path.join(tmpdir(), 'lyipc-v1-'));
		await mkdir(path.join(temp, 'my chips'));
		spaced = path.join(temp, 'my chips', 'ring.gds');
		await writeFile(spaced, 'not read by the stand-in');
	});
	afterAll(async () => {
		await rm(temp, {recursive: true, force: true});
	});
	beforeEach(async () => {
		old = await startOldLyipcServer();
	});
	afterEach(async () => {
		await old.close();
	});

	test('hello gets the v1 answer: the client speaks v1, line by line, byte for byte', async () => {
		const client = await ViewerClient.connect({host: '127.0.0.1', port: old.port});
		expect(client.protocol).toBe(1);
		expect(client.klayoutVersion).toBe('');
		expect(old.received).toHaveLength(1);
		expect(JSON.parse(old.received[0]!)).toMatchObject({method: 'hello'});

		await expect(client.request('ping')).resolves.toBe('pong');
		await expect(client.show(spaced, {mode: 'new'})).resolves.toEqual({uploaded: false});
		await expect(client.show(spaced, {mode: 'add'})).resolves.toEqual({uploaded: false});
		await expect(client.show(spaced)).resolves.toEqual({uploaded: false});
		await expect(client.reload(spaced)).resolves.toEqual({uploaded: false});
		await expect(client.reload()).resolves.toEqual({uploaded: false});
		expect(old.received.slice(1)).toEqual(['ping\r\n', `load "${spaced}" 1\r\n`, `load "${spaced}" 2\r\n`, `load "${spaced}" 0\r\n`, 'reload view\r\n', 'reload view\r\n']);
		client.close();
	});

	test('what v1 cannot do fails with UNSUPPORTED and sends nothing; an ERR reply is an error with its text', async () => {
		const client = await ViewerClient.connect({host: '127.0.0.1', port: old.port});
		await expect(client.request('status')).rejects.toMatchObject({code: 'VIEWER_ERROR', viewerCode: 'UNSUPPORTED', message: expect.stringContaining('old lyipc server')});
		await expect(client.upload(spaced)).rejects.toMatchObject({code: 'VIEWER_ERROR', viewerCode: 'UNSUPPORTED', hint: expect.stringContaining('npx lyipc server install')});
		expect(old.received).toHaveLength(1);
		// Nothing loaded yet: the old server's "needs a layout", as lytest's kqp() relied on.
		await expect(client.reload()).rejects.toMatchObject({code: 'VIEWER_ERROR', viewerCode: 'V1_ERROR', message: expect.stringContaining('needs a layout')});
		client.close();
	});

	test('showDiffInViewer: A, B and the XOR as three cellviews of one new view, as lytest did plus the XOR', async () => {
		const result = {
			a: {path: spaced},
			b: {path: '/runs/b.gds'},
			artifacts: {xor: '/runs/b.xor.gds', rdb: '/runs/b.lyrdb'},
			layers: [],
			differentLayers: 1,
		} as unknown as CompareResult;
		await expect(showDiffInViewer(result, {target: {host: '127.0.0.1', port: old.port}})).resolves.toEqual({
			view: null,
			uploaded: false,
			markersSkipped: null,
			viewer: `127.0.0.1:${old.port}`,
			name: `${path.basename(spaced)} vs b.gds`,
		});
		expect(old.received.slice(1)).toEqual([`load "${spaced}" 1\r\n`, 'load /runs/b.gds 2\r\n', 'load /runs/b.xor.gds 2\r\n']);
	});

	test('lyipc load --new and lyipc reload with the old LYIPCTARGET=user@host', async () => {
		const env = {LYIPCTARGET: 'someone@127.0.0.1', LYIPC_PORT: String(old.port)};
		const load = await runCli(['load', spaced, '--new'], {env}, LYIPC_CLI);
		expect(load.exitCode, String(load.stderr)).toBe(0);
		const reload = await runCli(['reload'], {env}, LYIPC_CLI);
		expect(reload.exitCode, String(reload.stderr)).toBe(0);
		const status = await runCli(['status'], {env}, LYIPC_CLI);
		expect(status.exitCode).toBe(2);
		expect(String(status.stderr)).toMatch(/old lyipc server \(protocol v1\), which cannot do status/);
		expect(old.received.filter(line => !line.startsWith('{'))).toEqual([`load "${spaced}" 1\r\n`, 'reload view\r\n']);
	});
});
