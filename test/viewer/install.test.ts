import {mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {homedir, tmpdir} from 'node:os';
import path from 'node:path';
import {afterEach, beforeEach, describe, expect, test} from 'vitest';
import {klayoutHome} from '../../src/viewer/install.js';
import {LYIPC_CLI, runCli} from '../helpers/run.js';

describe('lyipc server install: a salt package in KLAYOUT_HOME', () => {
	let home: string;
	beforeEach(async () => {
		home = await mkdtemp(path.join(tmpdir(), 'lyipc-home-'));
	});
	afterEach(async () => {
		await rm(home, {recursive: true, force: true});
	});
	const lyipc = async (...args: string[]) => runCli(args, {env: {KLAYOUT_HOME: home}, extendEnv: true}, LYIPC_CLI);

	test('install, upgrade, --no-autostart, --uninstall', async () => {
		const install = await lyipc('server', 'install');
		expect(install.exitCode).toBe(0);
		const folder = path.join(home, 'salt', 'lyipc');
		expect(install.stdout).toBe(`lyipc server installed in ${folder}; it starts with KLayout`);
		expect((await readdir(folder)).sort()).toEqual(['grain.xml', 'pymacros', 'python']);
		expect((await readdir(path.join(folder, 'python'))).sort()).toEqual([
			'lyipc_access.py',
			'lyipc_context.py',
			'lyipc_errors.py',
			'lyipc_files.py',
			'lyipc_klive.py',
			'lyipc_marker_dock.py',
			'lyipc_menu.py',
			'lyipc_params.py',
			'lyipc_pictures.py',
			'lyipc_process.py',
			'lyipc_render.py',
			'lyipc_render_job.py',
			'lyipc_scratch.py',
			'lyipc_server.py',
			'lyipc_settings.py',
			'lyipc_shared.json',
			'lyipc_shared.py',
			'lyipc_shown_copies.py',
			'lyipc_side_files.py',
			'lyipc_uploads.py',
			'lyipc_v1.py',
			'lyipc_version.py',
			'lyipc_viewer.py',
		]);
		const macro = await readFile(path.join(folder, 'pymacros', 'lyipc_server.lym'), 'utf8');
		expect(macro).toContain('<autorun>true</autorun>');
		expect(macro).toContain(JSON.stringify(path.join(folder, 'python')));
		expect(await readFile(path.join(folder, 'grain.xml'), 'utf8')).toMatch(/<name>lyipc<\/name>/);
		expect(JSON.parse(await readFile(path.join(home, 'lyipc.json'), 'utf8'))).toEqual({autostart: true});

		// Again = upgrade: a stale file goes, nothing is left half-done, no staging folder stays.
		await writeFile(path.join(folder, 'python', 'stale.py'), '');
		const again = await lyipc('server', 'install', '--no-autostart', '--port', '12001');
		expect(again.exitCode).toBe(0);
		expect(again.stdout).toMatch(/start it from Tools > Inter-process communication server \(Ctrl\+I\)$/);
		expect(await readdir(path.join(folder, 'python'))).not.toContain('stale.py');
		expect(await readdir(path.join(home, 'salt'))).toEqual(['lyipc']);
		expect(JSON.parse(await readFile(path.join(home, 'lyipc.json'), 'utf8'))).toEqual({autostart: false, port: 12001});

		const uninstall = await lyipc('server', 'install', '--uninstall');
		expect(uninstall.exitCode).toBe(0);
		expect(await readdir(path.join(home, 'salt'))).toEqual([]);
		expect(await readdir(home)).toEqual(['salt']);
	});

	test('listening beyond loopback: a token is made, printed once, kept owner-only; an upgrade keeps settings not given', async () => {
		const settings = path.join(home, 'lyipc.json');
		const install = await lyipc('server', 'install', '--host', '0.0.0.0', '--klive', '--klive-port', '18082');
		expect(install.exitCode).toBe(0);
		const token = /LYIPC_TOKEN=([\w-]{32})$/m.exec(install.stdout)?.[1];
		expect(token, install.stdout).toBeDefined();
		expect(install.stdout).toContain('klive protocol (gdsfactory/kfactory show()) on 127.0.0.1:18082');
		expect(JSON.parse(await readFile(settings, 'utf8'))).toEqual({autostart: true, host: '0.0.0.0', klive: true, klivePort: 18082, token});
		expect((await stat(settings)).mode & 0o777).toBe(0o600);

		// Upgrade: the token and klive stay; the token is not printed again.
		const upgrade = await lyipc('server', 'install', '--port', '12002');
		expect(upgrade.stdout).not.toContain(token);
		expect(upgrade.stdout).toContain(`(the token in ${settings})`);
		expect(JSON.parse(await readFile(settings, 'utf8'))).toEqual({autostart: true, host: '0.0.0.0', klive: true, klivePort: 18082, token, port: 12002});
		await lyipc('server', 'install', '--no-klive', '--host', '127.0.0.1', '--allow-remote-v1');
		expect(JSON.parse(await readFile(settings, 'utf8'))).toMatchObject({klive: false, host: '127.0.0.1', allowRemoteV1: true});
		await lyipc('server', 'install', '--no-allow-remote-v1');
		expect(JSON.parse(await readFile(settings, 'utf8'))).toMatchObject({klive: false, allowRemoteV1: false});
	});

	test('usage errors', async () => {
		expect((await lyipc('server')).exitCode).toBe(2);
		expect((await lyipc('server', 'install', '--port', 'x')).stderr).toMatch(/--port: expected a TCP port from 1 to 65535, got 'x'/);
		expect((await lyipc('server', 'install', '--port', '70000')).exitCode).toBe(2);
		expect((await lyipc('server', 'install', '--klive', '--no-klive')).stderr).toMatch(/--klive and --no-klive exclude each other/);
		expect((await lyipc('server', 'install', '--allow-remote-v1', '--no-allow-remote-v1')).stderr).toMatch(/--allow-remote-v1 and --no-allow-remote-v1 exclude each other/);
		const short = await runCli(['server', 'install', '--host', '0.0.0.0'], {env: {KLAYOUT_HOME: home, LYIPC_TOKEN: 'short'}, extendEnv: true}, LYIPC_CLI);
		expect(short.exitCode).toBe(2);
		expect(short.stderr).toMatch(/^lyipc: LYIPC_TOKEN: a token needs at least 16 characters/);
		expect(await readdir(home)).toEqual([]); // nothing written on a usage error
	});
});

describe('klayoutHome: where KLayout keeps its configuration', () => {
	test('KLAYOUT_HOME, else ~/.klayout, on Windows ~/KLayout (an empty variable counts as unset)', () => {
		expect(klayoutHome({KLAYOUT_HOME: '/opt/kl'}, 'linux')).toBe(path.resolve('/opt/kl'));
		expect(klayoutHome({}, 'linux')).toBe(path.join(homedir(), '.klayout'));
		expect(klayoutHome({}, 'darwin')).toBe(path.join(homedir(), '.klayout'));
		expect(klayoutHome({KLAYOUT_HOME: ''}, 'win32')).toBe(path.join(homedir(), 'KLayout'));
	});
});
