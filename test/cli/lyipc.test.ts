import {mkdtemp, readdir, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {freePort, pngColours, startGuiViewer, type GuiViewer} from '../helpers/gui.js';
import {describeKLayout, fixture, LYIPC_CLI, runCli} from '../helpers/run.js';

const lyipc = async (args: string[], env: Record<string, string> = {}) => runCli(args, {env, extendEnv: true}, LYIPC_CLI);

describe('lyipc without a viewer: usage errors and no viewer, exit 2', () => {
	test('usage errors are found before connecting', async () => {
		for (const args of [['load'], ['frobnicate'], ['load', fixture('base.gds'), '--new', '--add'], ['screenshot'], ['status', '--bogus']]) {
			const run = await lyipc(args, {LYIPC_PORT: '1'});
			expect(run.exitCode, args.join(' ')).toBe(2);
			expect(run.stderr, args.join(' ')).toMatch(/^lyipc: .+\nRun 'lyipc --help'/);
		}

		const missing = await lyipc(['load', 'no/such/chip.gds'], {LYIPC_PORT: '1'});
		expect(missing.exitCode).toBe(2);
		expect(missing.stderr).toBe('lyipc: no/such/chip.gds: no such file');
		const help = await lyipc(['--help']);
		expect(help.exitCode).toBe(0);
		expect(help.stdout).toMatch(/^Usage: lyipc <command>/);
	});

	test('no viewer running: says where it looked and how to start one', async () => {
		const port = await freePort();
		const run = await lyipc(['ping', '--target', `127.0.0.1:${port}`]);
		expect(run.exitCode).toBe(2);
		expect(run.stderr).toMatch(new RegExp(`^lyipc: no viewer answers at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)\\nStart KLayout with the lyipc server`));
	});
});

describeKLayout('lyipc against a real KLayout GUI', () => {
	let viewer: GuiViewer;
	let temp: string;
	beforeAll(async () => {
		viewer = await startGuiViewer();
		temp = await mkdtemp(path.join(tmpdir(), 'lyipc-cli-'));
	}, 90_000);
	afterAll(async () => {
		await viewer?.stop();
		await rm(temp, {recursive: true, force: true});
	});

	test('ping, load, load --add, reload, status, screenshot', async () => {
		const env = {LYIPC_PORT: String(viewer.port)};
		const ping = await lyipc(['ping'], env);
		expect(ping.exitCode).toBe(0);
		expect(ping.stdout).toMatch(new RegExp(`^viewer 127\\.0\\.0\\.1:${viewer.port}: KLayout 0\\.\\d+\\.\\d+, protocol 2$`));

		// A relative path: the viewer gets the absolute one.
		expect((await lyipc(['load', path.relative(process.cwd(), fixture('base.gds'))], env)).exitCode).toBe(0);
		expect((await lyipc(['load', fixture('one_shape.gds'), '--add', '--target', `127.0.0.1:${viewer.port}`])).exitCode).toBe(0);
		expect((await lyipc(['reload'], env)).exitCode).toBe(0);
		const status = await lyipc(['status', '--json'], env);
		expect(status.exitCode).toBe(0);
		const {views} = JSON.parse(status.stdout) as {views: Array<{current: boolean; cellviews: Array<{file: string}>}>};
		expect(views.find(view => view.current)!.cellviews.map(cv => cv.file)).toEqual([fixture('base.gds'), fixture('one_shape.gds')]);
		const text = await lyipc(['status'], env);
		expect(text.stdout).toContain(`    ${fixture('one_shape.gds')} (cell CHIP)`);

		const shot = path.join(temp, 'view.png');
		const screenshot = await lyipc(['screenshot', shot, '--width', '320', '--height', '240'], env);
		expect(screenshot.exitCode).toBe(0);
		const {width, height, colours} = await pngColours(shot);
		expect([width, height]).toEqual([320, 240]);
		expect(colours.size).toBeGreaterThan(4);
		expect(await readdir(temp)).toEqual(['view.png']); // no temporary file left
	});

	test('a viewer-side error: exit 2 with the viewer\'s reason', async () => {
		const run = await lyipc(['reload', fixture('base.gds'), '--timeout', '5'], {LYIPC_PORT: String(viewer.port)});
		expect(run.stderr).toBe('');
		expect(run.exitCode).toBe(0);
		const bad = await lyipc(['screenshot', path.join(temp, 'no-such-dir', 'x.png')], {LYIPC_PORT: String(viewer.port)});
		expect(bad.exitCode).toBe(2);
		expect(bad.stderr).toMatch(/^lyipc: .*no-such-dir\/x\.png: cannot write the screenshot/);
	});
});
