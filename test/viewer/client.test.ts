import {copyFile, readdir, readFile, writeFile} from 'node:fs/promises';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {LyipcError} from '../../src/errors.js';
import {ViewerClient} from '../../src/viewer/client.js';
import {currentView, startGuiViewer, useGuiViewer, v2Session, viewerStatus} from '../helpers/gui.js';
import {describeKLayout, fixture} from '../helpers/run.js';
import {waitFor} from '../helpers/poll.js';

/** A port where something listens and never answers. */
async function silentServer(): Promise<{port: number; close(): void}> {
	const sockets: net.Socket[] = [];
	const server = net.createServer(socket => sockets.push(socket));
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	return {
		port: (server.address() as net.AddressInfo).port,
		close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			server.close();
		},
	};
}

describe('ViewerClient without a working viewer: an error, never a hang', () => {
	test('nothing listening: VIEWER_UNREACHABLE at once, with a hint', async () => {
		const silent = await silentServer();
		silent.close(); // the port is free now
		const error = await ViewerClient.connect({host: '127.0.0.1', port: silent.port}).catch((error_: unknown) => error_);
		expect(error).toBeInstanceOf(LyipcError);
		expect(error).toMatchObject({code: 'VIEWER_UNREACHABLE', message: expect.stringContaining(`127.0.0.1:${silent.port}`)});
		expect((error as LyipcError).hint).toMatch(/npx lyipc viewer/);
	});

	test('a server that accepts and never answers: VIEWER_TIMEOUT', async () => {
		const silent = await silentServer();
		const started = Date.now();
		const error = await ViewerClient.connect({host: '127.0.0.1', port: silent.port}, {connectTimeout: 200}).catch((error_: unknown) => error_);
		silent.close();
		expect(error).toMatchObject({code: 'VIEWER_TIMEOUT'});
		expect(Date.now() - started).toBeLessThan(10_000);
	});
});

/**
 * A stand-in for a v2 server at the far end of an SSH tunnel: reached on loopback, naming
 * another machine in hello. It records the methods it gets and swallows uploaded bytes.
 */
async function farServer(): Promise<{port: number; methods: string[]; close(): void}> {
	const methods: string[] = [];
	const server = net.createServer(socket => {
		let buffer = Buffer.alloc(0);
		let skip = 0;
		socket.on('data', (chunk: Buffer) => {
			buffer = Buffer.concat([buffer, chunk]);
			for (;;) {
				if (skip > 0) {
					const taken = Math.min(skip, buffer.length);
					buffer = buffer.subarray(taken);
					skip -= taken;
					if (skip > 0) {
						return;
					}

					socket.write(JSON.stringify({id: methods.length, ok: true, result: {path: '/far/cache/x.gds', view: 0}}) + '\n');
				}

				const newline = buffer.indexOf(10);
				if (newline < 0) {
					return;
				}

				const request = JSON.parse(buffer.subarray(0, newline).toString()) as {id: number; method: string; params: {size?: number}};
				buffer = buffer.subarray(newline + 1);
				methods.push(request.method);
				if (request.method === 'upload') {
					skip = request.params.size!;
					continue;
				}

				const result = request.method === 'hello' ? {protocol: 2, klayout: '0.28.5', machine: 'far-away-host'} : {view: 0};
				socket.write(JSON.stringify({id: request.id, ok: true, result}) + '\n');
			}
		});
	});
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	return {
		port: (server.address() as net.AddressInfo).port,
		methods,
		close() {
			server.close();
		},
	};
}

test('a loopback port that leads to another machine (an SSH tunnel): files are uploaded, never opened by a path that means another file there', async () => {
	const far = await farServer();
	const client = await ViewerClient.connect({host: '127.0.0.1', port: far.port});
	try {
		expect(client.sameMachine).toBe(false);
		expect(await client.show(fixture('base.gds'), {mode: 'new'})).toEqual({uploaded: true});
		expect(await client.reload(fixture('base.gds'))).toEqual({uploaded: true});
		expect(await client.place(fixture('base.gds'))).toBe('/far/cache/x.gds');
		expect(far.methods).toEqual(['hello', 'upload', 'upload', 'upload']);
	} finally {
		client.close();
		far.close();
	}
});

describeKLayout('ViewerClient against a real KLayout GUI', () => {
	const gui = useGuiViewer();

	test('hello, requests in flight together, a viewer-side error', async () => {
		const client = await ViewerClient.connect({host: '127.0.0.1', port: gui.viewer.port});
		expect(client.protocol).toBe(2);
		expect(client.klayoutVersion).toMatch(/^0\.\d+/);
		expect(client.sameMachine).toBe(true);
		const [load, status] = await Promise.all([
			client.request<{view: number}>('load', {path: fixture('base.gds'), mode: 'new'}),
			client.request<{views: Array<{cellviews: Array<{file: string}>}>}>('status'),
		]);
		expect(load.view).toBe(0);
		expect(status.views[0]!.cellviews[0]!.file).toBe(fixture('base.gds'));
		await expect(client.request('load', {path: '/nonexistent/chip.gds'})).rejects.toMatchObject({
			code: 'VIEWER_ERROR',
			message: expect.stringMatching(/load failed \(FILE_NOT_FOUND\): \/nonexistent\/chip\.gds/),
		});
		client.close();
		await expect(client.request('ping')).rejects.toMatchObject({code: 'VIEWER_CLOSED'});
	});

	test('upload: the bytes go over the socket, land under a unique name and are loaded; the connection goes on', async () => {
		const client = await ViewerClient.connect({host: '127.0.0.1', port: gui.viewer.port});
		const first = await client.upload<{path: string; view: number}>(fixture('via_changed.gds'), {mode: 'new'});
		const second = await client.upload<{path: string}>(fixture('via_changed.gds'), {mode: 'add'});
		const status = await client.request<{views: Array<{current: boolean; cellviews: Array<{file: string}>}>}>('status');
		client.close();
		expect(first.path).not.toBe(second.path); // same name twice: nothing overwritten
		expect(path.basename(first.path)).toMatch(/^[\da-f]{12}-via_changed\.gds$/);
		expect(await readFile(first.path)).toEqual(await readFile(fixture('via_changed.gds')));
		expect(status.views.find(view => view.current)!.cellviews.map(cv => cv.file)).toEqual([first.path, second.path]);
	});

	test('show() loads a file the viewer can read by its path', async () => {
		const client = await ViewerClient.connect({host: '127.0.0.1', port: gui.viewer.port});
		expect(await client.show(fixture('one_shape.gds'), {mode: 'new'})).toEqual({uploaded: false});
		client.close();
	});

	test('reload(file) of a file no view shows opens it in a new view; of a shown one, reloads it in place', async () => {
		const file = path.join(gui.temp, 'reload-me.gds');
		await copyFile(fixture('base.gds'), file);
		const client = await ViewerClient.connect({host: '127.0.0.1', port: gui.viewer.port});
		try {
			const before = (await viewerStatus(gui.viewer.port)).views.length;
			expect(await client.reload(file)).toEqual({uploaded: false});
			const opened = await viewerStatus(gui.viewer.port);
			expect(opened.views).toHaveLength(before + 1);
			expect(currentView(opened).cellviews.map(cv => cv.file)).toEqual([file]);
			await writeFile(file, await readFile(fixture('extra_layer.gds')));
			expect(await client.reload(file)).toEqual({uploaded: false});
			const reloaded = await viewerStatus(gui.viewer.port);
			expect(reloaded.views).toHaveLength(before + 1);
			expect(currentView(reloaded).layers).toBe(currentView(opened).layers + 1);
		} finally {
			client.close();
		}
	});

	test('a client gone in the middle of an upload leaves no partial file', async () => {
		// The cache folders of this KLayout (lyipc-uploads-<pid>-<random>) and what they hold.
		const cached = async () => {
			const folders = (await readdir(tmpdir())).filter(name => name.startsWith(`lyipc-uploads-${gui.viewer.klayout.pid!}-`));
			return (await Promise.all(folders.map(async folder => readdir(path.join(tmpdir(), folder))))).flat();
		};

		const socket = net.connect(gui.viewer.port, '127.0.0.1');
		await new Promise(resolve => socket.once('connect', resolve));
		socket.write(JSON.stringify({id: 1, method: 'upload', params: {name: 'half.gds', size: 1_000_000}}) + '\n');
		socket.write(Buffer.alloc(1000));
		await waitFor('the partial upload to be on disk', async () => (await cached()).some(name => name.endsWith('half.gds.part')));
		socket.destroy();
		const [pong] = await v2Session(gui.viewer.port, [{id: 2, method: 'ping'}]);
		expect(pong).toMatchObject({ok: true});
		expect((await cached()).filter(name => name.includes('half.gds'))).toEqual([]);
	});

	test('KLayout killed in the middle of a request: VIEWER_CLOSED, not a hang', async () => {
		const doomed = await startGuiViewer({via: 'boot'}); // klayout -rm klayout/lyipc_boot.py
		try {
			const client = await ViewerClient.connect({host: '127.0.0.1', port: doomed.port});
			const pid = doomed.klayout.pid!;
			process.kill(pid, 'SIGSTOP'); // the request is sure to be in flight when KLayout dies
			const pending = client.request('status', {}, {timeout: 60_000});
			await new Promise(resolve => {
				setTimeout(resolve, 200);
			});
			const started = Date.now();
			process.kill(pid, 'SIGKILL');
			await expect(pending).rejects.toMatchObject({code: 'VIEWER_CLOSED'});
			expect(Date.now() - started).toBeLessThan(5000);
		} finally {
			await doomed.stop();
		}
	}, 90_000);
});
