import {copyFile, mkdir, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {expect, test} from 'vitest';
import {currentView, useGuiViewer, v2Session, viewerStatus} from '../helpers/gui.js';
import {describeKLayout, fixture, ROOT} from '../helpers/run.js';

const OLD_CLIENT = path.join(ROOT, 'test', 'peers', 'old_lyipc_client.py');

/**
 * The old Python lyipc client's exact behaviour (test/peers/old_lyipc_client.py, written from
 * atait/klayout-ipc at 9e52ed6: one command per connection, recv(1024) with a 3 s timeout, the
 * reload fallback on "needs a layout") against the server in a real KLayout GUI: what
 * `lyipc_reload`, kqp() and lytest did must keep working.
 */
describeKLayout('old lyipc clients against the server in a real KLayout GUI', () => {
	const gui = useGuiViewer();
	const oldClient = async (...args: string[]) => execa('python3', [OLD_CLIENT, String(gui.viewer.port), ...args], {reject: false, timeout: 20_000});

	test('lyipc_reload FILE with no view open falls back to load (lyipc/client/general.py line 15); without FILE it does nothing', async () => {
		expect((await viewerStatus(gui.viewer.port)).views).toEqual([]);
		const quiet = await oldClient('lyipc_reload');
		expect(quiet.exitCode, quiet.stderr).toBe(0);
		expect((await viewerStatus(gui.viewer.port)).views).toEqual([]);

		const file = path.join(gui.temp, 'reloaded.gds');
		await copyFile(fixture('base.gds'), file);
		const reload = await oldClient('lyipc_reload', file);
		expect(reload.exitCode, reload.stderr).toBe(0);
		const shown = await viewerStatus(gui.viewer.port);
		expect(shown.views).toHaveLength(1);
		expect(currentView(shown).cellviews.map(cv => cv.file)).toEqual([file]);
		await v2Session(gui.viewer.port, [{id: 1, method: 'close'}]);
		expect((await viewerStatus(gui.viewer.port)).views).toEqual([]);
	});

	test('kqp(): reload view with no view open says "needs a layout", then load; kqp again reloads in place', async () => {
		const file = path.join(gui.temp, 'debugging.gds');
		await copyFile(fixture('base.gds'), file);
		expect((await viewerStatus(gui.viewer.port)).views).toEqual([]);
		const first = await oldClient('kqp', file);
		expect(first.exitCode, first.stderr).toBe(0);
		expect(first.stdout).toBe('None');
		const shown = await viewerStatus(gui.viewer.port);
		expect(shown.views).toHaveLength(1);
		expect(currentView(shown).cellviews.map(cv => cv.file)).toEqual([file]);

		// kqp writes a temp name and renames it over the old file
		await writeFile(`${file}.tmp`, await readFile(fixture('extra_layer.gds')));
		await execa('mv', [`${file}.tmp`, file]);
		const second = await oldClient('kqp', file);
		expect(second.exitCode, second.stderr).toBe(0);
		const reloaded = await viewerStatus(gui.viewer.port);
		expect(reloaded.views).toHaveLength(1);
		expect(currentView(reloaded).layers).toBe(currentView(shown).layers + 1);
		expect(currentView(reloaded).viewbox).toEqual(currentView(shown).viewbox);
	});

	test('lytest: load REF 1, load RUN 2 (a folder with a space) is one new tab with both; reload view of it answers in time', async () => {
		const reference = path.join(gui.temp, 'ref.gds');
		const folder = path.join(gui.temp, 'run outputs');
		await mkdir(folder);
		const run = path.join(folder, 'ring.gds');
		await copyFile(fixture('base.gds'), reference);
		await copyFile(fixture('one_shape.gds'), run);
		const before = (await viewerStatus(gui.viewer.port)).views.length;
		const lytest = await oldClient('lytest', reference, run);
		expect(lytest.exitCode, lytest.stderr).toBe(0);
		expect(lytest.stdout).toBe('None\nNone');
		const status = await viewerStatus(gui.viewer.port);
		expect(status.views).toHaveLength(before + 1);
		expect(currentView(status).cellviews.map(cv => cv.file)).toEqual([reference, run]);
		// The old server opened a modal "Select Layouts To Reload" here and never answered.
		const reload = await oldClient('reload');
		expect(reload.exitCode, reload.stderr).toBe(0);
		expect((await viewerStatus(gui.viewer.port)).modal).toBeNull();
	});

	test('ping answers at once; a missing file is an ERR the old client raises on', async () => {
		const ping = await oldClient('ping');
		expect(ping.exitCode, ping.stderr).toBe(0);
		expect(ping.stdout).toBe('None');
		const missing = await oldClient('load', path.join(gui.temp, 'absent.gds'));
		expect(missing.exitCode).not.toBe(0);
		expect(missing.stderr).toMatch(/ServerSideError: Traceback.*absent\.gds.*\^ Server-side error \^/s);
	});
});
