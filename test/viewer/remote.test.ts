import {copyFile, readFile, writeFile} from 'node:fs/promises';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {execa} from 'execa';
import {beforeAll, expect, test} from 'vitest';
import {ViewerClient} from '../../src/viewer/client.js';
import {currentView, externalAddress, freePort, kill, redShare, startGuiViewer, startXvfb, useGuiViewer, v1Exchange, v2Session, viewerStatus} from '../helpers/gui.js';
import {CLI, describeKLayout, fixture, LYIPC_CLI, runCli} from '../helpers/run.js';

/** Lines sent at once on one connection, and everything the server sends until it closes it. */
async function untilClosed(host: string, port: number, lines: string[]): Promise<string> {
	return (await v1Exchange(port, lines.map(line => line + '\n').join(''), 10_000, host)).toString('utf8');
}

const UPLOADS = path.join(tmpdir(), 'lyipc-uploads-');

/**
 * A viewer on "another machine": the server listens on every address, and the tests reach it
 * through this machine's non-loopback address, which the server sees as a remote peer.
 */
describeKLayout('a viewer listening beyond loopback: token, v1 refused, files uploaded', () => {
	const gui = useGuiViewer({installArgs: ['--host', '0.0.0.0']});
	let token: string;
	let host: string;
	beforeAll(async () => {
		token = (JSON.parse(await readFile(path.join(gui.viewer.home, 'lyipc.json'), 'utf8')) as {token: string}).token;
		host = externalAddress();
	});

	test('no token or a wrong one: UNAUTHORIZED, one answer, the connection closed; the token opens every method', async () => {
		for (const hello of [{}, {token: 'x'.repeat(32)}, {token: token.slice(1)}]) {
			const text = await untilClosed(host, gui.viewer.port, [JSON.stringify({id: 1, method: 'hello', params: hello}), JSON.stringify({id: 2, method: 'status'})]);
			const replies = text
				.trim()
				.split('\n')
				.map(line => JSON.parse(line) as {id: unknown; ok: boolean; error?: {code: string}});
			expect(replies).toEqual([expect.objectContaining({id: 1, ok: false, error: expect.objectContaining({code: 'UNAUTHORIZED'})})]);
		}

		const withoutHello = await untilClosed(host, gui.viewer.port, [JSON.stringify({id: 7, method: 'load', params: {path: '/etc/passwd'}})]);
		expect(JSON.parse(withoutHello)).toMatchObject({id: 7, ok: false, error: {code: 'UNAUTHORIZED'}});
		const [hello, status] = await v2Session(
			gui.viewer.port,
			[
				{id: 1, method: 'hello', params: {token}},
				{id: 2, method: 'status'},
			],
			10_000,
			host,
		);
		expect(hello).toMatchObject({ok: true, result: {protocol: 2, capabilities: {token: true}}});
		expect(status).toMatchObject({ok: true, result: {views: expect.any(Array)}});
		// this machine needs no token
		expect((await viewerStatus(gui.viewer.port)).modal).toBeNull();
	});

	test('ViewerClient: VIEWER_UNAUTHORIZED says whether the token is missing or wrong, and where it is', async () => {
		const target = {host, port: gui.viewer.port};
		await expect(ViewerClient.connect(target, {token: ''})).rejects.toMatchObject({
			code: 'VIEWER_UNAUTHORIZED',
			message: `viewer at ${host}:${gui.viewer.port} refused the connection: it needs a token`,
			hint: expect.stringContaining('LYIPC_TOKEN'),
		});
		await expect(ViewerClient.connect(target, {token: 'y'.repeat(32)})).rejects.toMatchObject({code: 'VIEWER_UNAUTHORIZED', message: expect.stringMatching(/wrong token$/)});
		const client = await ViewerClient.connect(target, {token});
		expect(client.protocol).toBe(2);
		client.close();
	});

	test('v1 is refused from another machine and still served on loopback', async () => {
		const remote = (await v1Exchange(gui.viewer.port, 'ping\r\n', 10_000, host)).toString('utf8');
		expect(remote).toMatch(/^ERR 'lyipc: the v1 protocol is accepted from this machine only; .*allowRemoteV1.*'$/);
		const load = (await v1Exchange(gui.viewer.port, `load ${fixture('base.gds')} 1\r\n`, 10_000, host)).toString('utf8');
		expect(load).toMatch(/^ERR /);
		expect((await viewerStatus(gui.viewer.port)).views.flatMap(view => view.cellviews.map(cv => cv.file))).not.toContain(fixture('base.gds'));
		expect((await v1Exchange(gui.viewer.port, 'ping\r\n')).toString('utf8')).toBe('ACK None');
	});

	test('show() from another machine uploads the file; reload() sends the new bytes, reloaded in place', async () => {
		const file = path.join(gui.temp, 'remote.gds');
		await copyFile(fixture('base.gds'), file);
		const client = await ViewerClient.connect({host, port: gui.viewer.port}, {token});
		try {
			expect(await client.show(file, {mode: 'new'})).toEqual({uploaded: true});
			const shown = currentView(await viewerStatus(gui.viewer.port));
			const [copy] = shown.cellviews.map(cv => cv.file);
			expect(copy!.startsWith(UPLOADS)).toBe(true);
			expect(await readFile(copy!)).toEqual(await readFile(file));
			await client.request('zoom', {box: [5, 5, 25, 20]});
			const zoomed = currentView(await viewerStatus(gui.viewer.port));

			await writeFile(file, await readFile(fixture('extra_layer.gds')));
			expect(await client.reload(file)).toEqual({uploaded: true});
			const after = await viewerStatus(gui.viewer.port);
			const view = currentView(after);
			expect(view.index).toBe(shown.index);
			expect(after.views).toHaveLength(shown.index + 1);
			expect(view.cellviews.map(cv => cv.file)).toEqual([copy]); // the same cache file, new bytes
			expect(await readFile(copy!)).toEqual(await readFile(fixture('extra_layer.gds')));
			expect(view.layers).toBe(shown.layers + 1);
			view.viewbox.forEach((value, i) => {
				expect(value).toBeCloseTo(zoomed.viewbox[i]!, 6);
			});

			// place(): stored in the cache for a later request, nothing loaded
			const views = after.views.length;
			const stored = await client.place(fixture('one_shape.gds'));
			expect(stored.startsWith(UPLOADS)).toBe(true);
			expect(await readFile(stored)).toEqual(await readFile(fixture('one_shape.gds')));
			expect((await viewerStatus(gui.viewer.port)).views).toHaveLength(views);
		} finally {
			client.close();
		}
	});

	test('lyipc load / reload with LYIPC_TOKEN and --target; without the token, exit 2 and how to get one', async () => {
		const file = path.join(gui.temp, 'cli-remote.gds');
		await copyFile(fixture('base.gds'), file);
		const target = ['--target', `${host}:${gui.viewer.port}`];
		const denied = await runCli(['load', file, ...target], {env: {LYIPC_TOKEN: ''}}, LYIPC_CLI);
		expect(denied.exitCode).toBe(2);
		expect(denied.stderr).toMatch(/^lyipc: viewer at .* refused the connection: it needs a token\nSet LYIPC_TOKEN/);

		const env = {LYIPC_TOKEN: token};
		const load = await runCli(['load', file, '--new', ...target], {env}, LYIPC_CLI);
		expect(load.exitCode, load.stderr).toBe(0);
		const before = currentView(await viewerStatus(gui.viewer.port));
		expect(before.cellviews[0]!.file.startsWith(UPLOADS)).toBe(true);
		await writeFile(file, await readFile(fixture('extra_layer.gds')));
		const reload = await runCli(['reload', file, ...target], {env}, LYIPC_CLI);
		expect(reload.exitCode, reload.stderr).toBe(0);
		const after = currentView(await viewerStatus(gui.viewer.port));
		expect(after.index).toBe(before.index);
		expect(after.cellviews).toEqual(before.cellviews);
		expect(after.layers).toBe(before.layers + 1);
	});

	test('lyipc-diff --view --target: A, B, the XOR and the markers uploaded and shown, XOR in red', async () => {
		const out = path.join(gui.temp, 'diff-out');
		const run = await runCli(
			[fixture('base.gds'), fixture('one_shape.gds'), '--view', '--target', `${host}:${gui.viewer.port}`, '--out-dir', out, '--json'],
			{env: {LYIPC_TOKEN: token, CI: 'false'}},
			CLI,
		);
		expect(run.exitCode, run.stderr).toBe(1);
		const status = await viewerStatus(gui.viewer.port);
		const view = currentView(status);
		const files = view.cellviews.map(cv => cv.file);
		expect(files).toHaveLength(3);
		expect(files.every(file => file.startsWith(UPLOADS))).toBe(true);
		expect(await readFile(files[0]!)).toEqual(await readFile(fixture('base.gds')));
		expect(await readFile(files[1]!)).toEqual(await readFile(fixture('one_shape.gds')));
		const result = JSON.parse(run.stdout) as {artifacts: {xor: string}};
		expect(await readFile(files[2]!)).toEqual(await readFile(result.artifacts.xor));
		expect(view.markerDatabases).toHaveLength(1);
		const shot = path.join(gui.temp, 'remote-diff.png');
		expect((await runCli(['screenshot', shot, '--width', '400', '--height', '300', '--target', `127.0.0.1:${gui.viewer.port}`], {}, LYIPC_CLI)).exitCode).toBe(0);
		expect(await redShare(shot)).toBeGreaterThan(0.05);
	});
});

describeKLayout('allowRemoteV1: the old protocol from other machines, when asked for', () => {
	const gui = useGuiViewer({installArgs: ['--host', '0.0.0.0', '--allow-remote-v1']});

	test('v1 ping and load from another machine are answered', async () => {
		const host = externalAddress();
		expect((await v1Exchange(gui.viewer.port, 'ping\r\n', 10_000, host)).toString('utf8')).toBe('ACK None');
		expect((await v1Exchange(gui.viewer.port, `load ${fixture('base.gds')} 1\r\n`, 10_000, host)).toString('utf8')).toBe('ACK None');
		expect(currentView(await viewerStatus(gui.viewer.port)).cellviews.map(cv => cv.file)).toEqual([fixture('base.gds')]);
		// v2 from there still needs the token
		const [refused] = await untilClosed(host, gui.viewer.port, [JSON.stringify({id: 1, method: 'status'})]).then(text => text.trim().split('\n'));
		expect(JSON.parse(refused!)).toMatchObject({ok: false, error: {code: 'UNAUTHORIZED'}});
	});
});

describeKLayout('a server told to listen beyond loopback without a token', () => {
	test('does not listen, and says why on stderr; KLayout keeps running', async () => {
		const viewer = await startGuiViewer({via: 'boot', env: {LYIPC_HOST: '0.0.0.0'}, ready: false});
		try {
			let stderr = '';
			(viewer.klayout as unknown as {stderr: NodeJS.ReadableStream}).stderr.on('data', (chunk: Buffer) => {
				stderr += chunk.toString();
			});
			const deadline = Date.now() + 60_000;
			while (!stderr.includes('lyipc server not started') && Date.now() < deadline) {
				await new Promise(resolve => {
					setTimeout(resolve, 200);
				});
			}

			expect(stderr).toMatch(/lyipc server not started: listening on 0\.0\.0\.0 \(not loopback\) needs a token/);
			await expect(v2Session(viewer.port, [{id: 1, method: 'ping'}], 2000)).rejects.toThrow(/ECONNREFUSED/);
			expect(viewer.klayout.exitCode ?? null).toBeNull();
		} finally {
			await viewer.stop();
		}
	}, 90_000);
});

describeKLayout('lyipc viewer --host / --port', () => {
	/** `lyipc viewer --host HOST` on a free port: `check` gets the port and the token it printed; the viewer is killed after. */
	async function withViewerOn(host: string, shown: string, check: (port: number, token: string) => Promise<void>): Promise<void> {
		const xvfb = await startXvfb();
		const home = path.join(tmpdir(), `lyipc-viewer-host-${process.pid}`);
		const port = await freePort();
		let pid: number | undefined;
		try {
			const run = await runCli(['viewer', '--host', host, '--port', String(port)], {env: {DISPLAY: xvfb.display, KLAYOUT_HOME: home, LYIPC_TOKEN: ''}}, LYIPC_CLI);
			expect(run.exitCode, run.stderr).toBe(0);
			const match = new RegExp(`^KLayout viewer on ${shown}:${port} \\(pid (\\d+)\\)\\nclients on other machines need LYIPC_TOKEN=([\\w-]{32})$`).exec(run.stdout);
			expect(match, run.stdout).not.toBeNull();
			pid = Number(match![1]);
			await check(port, match![2]!);
		} finally {
			if (pid) {
				process.kill(-pid, 'SIGKILL');
			}

			kill(xvfb.process);
			await execa('rm', ['-rf', home]);
		}
	}

	test('--host 0.0.0.0 prints a token that lets another machine in', async () => {
		await withViewerOn('0.0.0.0', '0\\.0\\.0\\.0', async (port, token) => {
			const [hello] = await v2Session(port, [{id: 1, method: 'hello', params: {token}}], 10_000, externalAddress());
			expect(hello).toMatchObject({ok: true});
		});
	}, 90_000);

	test('--host :: listens on every address, IPv6 and IPv4: loopback of both for this user, the token from elsewhere', async () => {
		await withViewerOn('::', '\\[::\\]', async (port, token) => {
			for (const host of ['127.0.0.1', '::1']) {
				expect((await v2Session(port, [{id: 1, method: 'status'}], 10_000, host))[0], host).toMatchObject({ok: true});
			}

			const [refused] = await untilClosed(externalAddress(), port, [JSON.stringify({id: 1, method: 'status'})]).then(text => text.trim().split('\n'));
			expect(JSON.parse(refused!)).toMatchObject({ok: false, error: {code: 'UNAUTHORIZED'}});
			const [hello] = await v2Session(port, [{id: 1, method: 'hello', params: {token}}], 10_000, externalAddress());
			expect(hello).toMatchObject({ok: true});
		});
	}, 90_000);

	test("a port another program holds: exit 2 with KLayout's reason, soon", async () => {
		const xvfb = await startXvfb();
		const squatter = net.createServer(socket => socket.destroy());
		await new Promise<void>(resolve => squatter.listen(0, '127.0.0.1', resolve));
		const {port} = squatter.address() as net.AddressInfo;
		try {
			const started = Date.now();
			const run = await runCli(['viewer', '--port', String(port)], {env: {DISPLAY: xvfb.display, KLAYOUT_HOME: path.join(tmpdir(), 'lyipc-no-home')}}, LYIPC_CLI);
			expect(run.exitCode).toBe(2);
			expect(run.stderr).toMatch(new RegExp(`did not start the lyipc server on 127\\.0\\.0\\.1:${port}: .*(address is already in use|in use)`, 'i'));
			expect(Date.now() - started).toBeLessThan(45_000);
		} finally {
			squatter.close();
			kill(xvfb.process);
		}
	}, 90_000);
});
