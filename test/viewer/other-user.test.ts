import {chmod, copyFile, mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {execa} from 'execa';
import {afterAll, beforeAll, expect, test} from 'vitest';
import {useGuiViewer, v1Exchange, viewerStatus} from '../helpers/gui.js';
import {describeKLayout, fixture, LYIPC_CLI, ROOT, runCli} from '../helpers/run.js';

const RAW_CLIENT = path.join(ROOT, 'test', 'helpers', 'raw_client.py');
const KLIVE_CLIENT = path.join(ROOT, 'test', 'peers', 'kfactory_show.py');
// The system's Python: a per-user one (pyenv under /root) is out of another user's reach.
const PYTHON = '/usr/bin/python3';
const AS_NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'];
const TOKEN = 'other-user-test-token-0123456789';

type User = 'nobody' | 'owner';

/** Client scripts and request bytes, in a folder both users can read. */
let scratch: string;
beforeAll(async () => {
	scratch = await mkdtemp(path.join(tmpdir(), 'lyipc-other-user-'));
	await chmod(scratch, 0o755);
	for (const script of [RAW_CLIENT, KLIVE_CLIENT]) {
		await copyFile(script, path.join(scratch, path.basename(script)));
		await chmod(path.join(scratch, path.basename(script)), 0o644);
	}
});
afterAll(async () => {
	await rm(scratch, {recursive: true, force: true});
});

async function run(user: User, args: string[]): Promise<string> {
	const command = user === 'nobody' ? [...AS_NOBODY, PYTHON, ...args] : [PYTHON, ...args];
	const result = await execa(command[0]!, command.slice(1), {reject: false, timeout: 30_000});
	if (result.exitCode !== 0) {
		throw new Error(`${command.join(' ')}: exit ${result.exitCode}: ${result.stderr}`);
	}

	return result.stdout;
}

/** Bytes sent by `user` over one connection; what came back (until close, or `lines` lines). */
async function send(user: User, port: number, bytes: Buffer | string, lines = 0): Promise<string> {
	const file = path.join(scratch, `request-${Math.random().toString(36).slice(2)}`);
	await writeFile(file, bytes, {mode: 0o644});
	try {
		return await run(user, [path.join(scratch, 'raw_client.py'), String(port), file, String(lines)]);
	} finally {
		await rm(file, {force: true});
	}
}

const lines = (...requests: object[]) => requests.map(request => JSON.stringify(request) + '\n').join('');
const replies = (text: string) =>
	text
		.trim()
		.split('\n')
		.filter(Boolean)
		.map(line => JSON.parse(line) as {id: unknown; ok: boolean; result?: unknown; error?: {code: string; message: string}});

const REFUSED = /this viewer serves only the user it runs as \(uid \d+\); this connection is from uid 65534/;

/**
 * A second real user of the machine (nobody, via setpriv) against a viewer run by this user,
 * on loopback: it must not make the viewer read, write or show anything (issue 28).
 */
describeKLayout('another user of this machine cannot drive the viewer (nobody via setpriv)', () => {
	const gui = useGuiViewer({klive: true, env: {LYIPC_TOKEN: TOKEN}});
	// This user's private folder: a layout and a file nobody else may read or change.
	let secret: string;
	let victim: string;
	beforeAll(async () => {
		const folder = path.join(gui.temp, 'rootonly');
		await execa('mkdir', ['-m', '700', folder]);
		secret = path.join(folder, 'secret_chip.gds');
		victim = path.join(folder, 'victim.txt');
		await copyFile(fixture('base.gds'), secret);
		await writeFile(victim, 'private notes\n', {mode: 0o600});
		await chmod(secret, 0o600);
	});

	const shown = async () => (await viewerStatus(gui.viewer.port)).views.flatMap(view => view.cellviews.map(cv => cv.file));

	test('v1: load of a private layout is refused with ERR saying why; the owner loads it', async () => {
		const refused = await send('nobody', gui.viewer.port, `load ${secret} 1\r\n`);
		expect(refused).toMatch(/^ERR 'lyipc: /);
		expect(refused).toMatch(REFUSED);
		expect(refused).toMatch(/the old lyipc \(v1\) protocol cannot carry a token'$/);
		expect(await shown()).not.toContain(secret);

		expect(await send('owner', gui.viewer.port, `load ${secret} 1\r\n`)).toBe('ACK None');
		expect(await shown()).toContain(secret);
		await v1Exchange(gui.viewer.port, 'ping\r\n');
	});

	test('v2: status, load + screenshot over a private file, upload: UNAUTHORIZED, one answer, nothing read or written', async () => {
		const before = await readFile(victim);
		const views = (await viewerStatus(gui.viewer.port)).views.length;

		const status = replies(await send('nobody', gui.viewer.port, lines({id: 1, method: 'status'}, {id: 2, method: 'ping'})));
		expect(status).toEqual([{id: 1, ok: false, error: {code: 'UNAUTHORIZED', message: expect.stringMatching(REFUSED)}}]);
		expect(status[0]!.error!.message).toMatch(/other users need hello with its token$/);

		const shot = replies(await send('nobody', gui.viewer.port, lines({id: 1, method: 'load', params: {path: secret, mode: 'new'}}, {id: 2, method: 'screenshot', params: {path: victim}})));
		expect(shot.map(reply => [reply.id, reply.error?.code])).toEqual([[1, 'UNAUTHORIZED']]);
		const overwrite = replies(await send('nobody', gui.viewer.port, lines({id: 3, method: 'screenshot', params: {path: victim}})));
		expect(overwrite.map(reply => [reply.id, reply.error?.code])).toEqual([[3, 'UNAUTHORIZED']]);

		const bytes = await readFile(fixture('base.gds'));
		const upload = replies(await send('nobody', gui.viewer.port, Buffer.concat([Buffer.from(lines({id: 4, method: 'upload', params: {name: 'x.gds', size: bytes.length, store: true}})), bytes])));
		expect(upload.map(reply => [reply.id, reply.error?.code])).toEqual([[4, 'UNAUTHORIZED']]);

		expect(await readFile(victim)).toEqual(before);
		expect((await stat(victim)).mode & 0o777).toBe(0o600);
		expect((await viewerStatus(gui.viewer.port)).views).toHaveLength(views);
		// No upload was kept: the cache folders of this KLayout hold no file.
		const caches = (await readdir(tmpdir())).filter(name => name.startsWith(`lyipc-uploads-${gui.viewer.klayout.pid}`));
		for (const cache of caches) {
			expect(await readdir(path.join(tmpdir(), cache))).toEqual([]);
		}
	});

	test('v2: hello with the token lets another user in; the owner needs none', async () => {
		const wrong = replies(await send('nobody', gui.viewer.port, lines({id: 1, method: 'hello', params: {token: 'x'.repeat(32)}}, {id: 2, method: 'status'})));
		expect(wrong.map(reply => [reply.id, reply.error?.code])).toEqual([[1, 'UNAUTHORIZED']]);
		const right = replies(await send('nobody', gui.viewer.port, lines({id: 1, method: 'hello', params: {token: TOKEN}}, {id: 2, method: 'status'}), 2));
		expect(right.map(reply => [reply.id, reply.ok])).toEqual([
			[1, true],
			[2, true],
		]);
		const owner = replies(await send('owner', gui.viewer.port, lines({id: 1, method: 'status'}), 1));
		expect(owner[0]).toMatchObject({id: 1, ok: true});
	});

	test("another user's silent connections never take the owner's places", async () => {
		// 64 connections that say nothing, held for 4 s: as many as the server holds in all.
		const hold = [
			'import socket, sys, time',
			`held = [socket.create_connection(("127.0.0.1", ${gui.viewer.port})) for _ in range(64)]`,
			'time.sleep(4)',
			'still_open = 0',
			'for c in held:',
			'    c.setblocking(False)',
			'    try:',
			'        still_open += c.recv(1) != b""  # b"": closed by the server',
			'    except BlockingIOError:',
			'        still_open += 1  # open, nothing to read',
			'    except OSError:',
			'        pass  # reset by the server',
			'print(still_open)',
		].join('\n');
		const holder = execa(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), PYTHON, '-c', hold], {reject: false, timeout: 30_000});
		await new Promise(resolve => {
			setTimeout(resolve, 1500);
		});
		const owner = replies(await send('owner', gui.viewer.port, lines({id: 1, method: 'status'}), 1));
		expect(owner[0]).toMatchObject({id: 1, ok: true});
		const held = await holder;
		expect(held.exitCode, held.stderr).toBe(0);
		expect(Number(held.stdout)).toBeLessThanOrEqual(8); // the rest were closed on arrival
	});

	test("klive: another user's show() of a private layout is refused; the owner's opens it", async () => {
		const klivePort = String(gui.viewer.klivePort);
		const views = (await viewerStatus(gui.viewer.port)).views.length;
		const refused = JSON.parse(await run('nobody', [path.join(scratch, 'kfactory_show.py'), klivePort, JSON.stringify({gds: secret})])) as {type: string; error: string};
		expect(refused.type).toBe('error');
		expect(refused.error).toMatch(REFUSED);
		expect(refused.error).toMatch(/the klive protocol cannot carry a token$/);
		expect((await viewerStatus(gui.viewer.port)).views).toHaveLength(views);

		const opened = JSON.parse(await run('owner', [path.join(scratch, 'kfactory_show.py'), klivePort, JSON.stringify({gds: fixture('one_shape.gds')})])) as {type: string};
		expect(opened.type).toBe('open');
	});
});

// Kernel socket lists that exist but show no socket (as in some sandboxes).
const EMPTY_PROC_NET = path.join(tmpdir(), `lyipc-empty-proc-net-${process.pid}`);
beforeAll(async () => {
	await execa('mkdir', ['-p', EMPTY_PROC_NET]);
	await writeFile(path.join(EMPTY_PROC_NET, 'tcp'), '');
	await writeFile(path.join(EMPTY_PROC_NET, 'tcp6'), '');
});
afterAll(async () => {
	await rm(EMPTY_PROC_NET, {recursive: true, force: true});
});

/**
 * Where the viewer cannot look up who connects (LYIPC_PROC_NET names a folder without the
 * kernel's socket lists, or with lists that show nothing, and sock_diag is not used): it writes
 * a session token that only its user can read, v2 clients must present it (lyipc's read it),
 * v1 stays open.
 */
describeKLayout.each([
	['no socket lists at all', '/nonexistent-lyipc-proc-net'],
	['socket lists that show nothing (the start-up self-check finds its own connection missing)', EMPTY_PROC_NET],
])('a viewer that cannot tell who connects, %s: v2 needs its session token, read from KLAYOUT_HOME', (_name, procNet) => {
	const gui = useGuiViewer({via: 'boot', env: {LYIPC_PROC_NET: procNet}});

	test('the token file: this user only; without it UNAUTHORIZED; lyipc status reads it; v1 still answers', async () => {
		const file = path.join(gui.viewer.home, `lyipc-token-${gui.viewer.port}`);
		expect((await stat(file)).mode & 0o777).toBe(0o600);
		expect((await readFile(file, 'utf8')).trim()).toMatch(/^[\w-]{32}$/);

		const refused = replies(await send('owner', gui.viewer.port, lines({id: 1, method: 'status'})));
		expect(refused).toEqual([{id: 1, ok: false, error: {code: 'UNAUTHORIZED', message: expect.stringContaining(`lyipc-token-${gui.viewer.port} in its KLAYOUT_HOME`)}}]);

		const status = await runCli(['status', '--json', '--target', `127.0.0.1:${gui.viewer.port}`], {env: {KLAYOUT_HOME: gui.viewer.home}}, LYIPC_CLI);
		expect(status.exitCode, status.stderr).toBe(0);
		expect(JSON.parse(status.stdout)).toMatchObject({views: []});
		const elsewhere = await runCli(['status', '--target', `127.0.0.1:${gui.viewer.port}`], {env: {KLAYOUT_HOME: path.join(gui.temp, 'other-home')}}, LYIPC_CLI);
		expect(elsewhere.exitCode).toBe(2);
		expect(elsewhere.stderr).toMatch(/refused the connection: it needs a token/);

		expect(await send('owner', gui.viewer.port, 'ping\r\n')).toBe('ACK None');
	});
});
