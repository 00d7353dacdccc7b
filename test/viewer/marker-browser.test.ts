import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {PNG} from 'pngjs';
import {expect, test} from 'vitest';
import {pairWithDifferences} from '../helpers/diff-pairs.js';
import {currentView, useGuiViewer, v2Session, viewerStatus, type ViewerStatus} from '../helpers/gui.js';
import {describeKLayout, LYIPC_CLI, runCli} from '../helpers/run.js';

interface BrowserList {
	name: string;
	box: [number, number, number, number];
	rows: number;
}

type Status = ViewerStatus & {
	markerBrowser: string | null;
	markerBrowserDock: {docks: number; visible: boolean; database: string | null; lists: BrowserList[]} | null;
};

/** Horizontal bands of a PNG region holding ink (text: dark or blue on the list's white): one per row of text. */
function textBands(png: PNG, [x, y, width, height]: readonly number[]): number {
	let bands = 0;
	let inBand = false;
	for (let row = y!; row < y! + height!; row++) {
		let ink = false;
		for (let column = x!; column < x! + width! && !ink; column++) {
			const i = (row * png.width + column) * 4;
			const [r, g, b] = [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
			ink = r + g < 200 && r + g + b < 450; // black or blue text, not the white, grey or light selection
		}

		if (ink && !inBand) {
			bands++;
		}

		inBand = ink;
	}

	return bands;
}

describeKLayout('the Marker Browser of lyipc-diff in a real KLayout GUI (Xvfb)', () => {
	const gui = useGuiViewer();
	const env = () => ({LYIPC_PORT: String(gui.viewer.port), CI: 'false'});

	/** One Marker Browser, showing the current view's markers, its category list tall enough for rows: in the status and in a picture of the whole window. */
	async function expectOneBrowserShowing(database: string, shot: string): Promise<void> {
		const status = (await viewerStatus(gui.viewer.port)) as Status;
		expect(currentView(status).markerDatabases).toEqual([database]);
		const dock = status.markerBrowserDock;
		expect(dock).toMatchObject({docks: 1, visible: true});
		// KLayout 0.28 names the database; 0.30 adds its description and path.
		expect(dock!.database).toMatch(new RegExp(`^${database.replaceAll('.', '\\.')}\\b`));
		const list = dock!.lists.find(entry => entry.name === 'directory_tree');
		expect(list, JSON.stringify(dock)).toBeDefined();
		expect(list!.rows).toBeGreaterThanOrEqual(3); // "By Cell", "By Category", "All"

		const [reply] = await v2Session(gui.viewer.port, [{id: 1, method: 'screenshot', params: {window: true, path: shot}}]);
		expect(reply, JSON.stringify(reply)).toMatchObject({ok: true});
		const png = PNG.sync.read(await readFile(shot));
		expect([png.width, png.height]).toEqual([reply!.result.width, reply!.result.height]);
		const [x, y, width, height] = list!.box;
		expect(x + width <= png.width && y + height <= png.height).toBe(true);
		expect(textBands(png, list!.box)).toBeGreaterThanOrEqual(3);
	}

	test("two pairs and the first again: one Marker Browser, always the current view's, its list showing rows", async () => {
		const first = await pairWithDifferences(gui.temp, 'first', 500);
		const second = await pairWithDifferences(gui.temp, 'second', 700);
		const runs: Array<[readonly [string, string], string]> = [
			[first, 'first_a_vs_first_b.xor.lyrdb'],
			[second, 'second_a_vs_second_b.xor.lyrdb'],
			[first, 'first_a_vs_first_b.xor.lyrdb'],
		];
		for (const [index, [[a, b], database]] of runs.entries()) {
			const run = await runCli([a, b, '-q', '--out-dir', path.join(gui.temp, `out-${index}`)], {env: env(), extendEnv: true});
			expect(run.exitCode, run.stderr).toBe(1);
			await expectOneBrowserShowing(database, path.join(gui.temp, `window-${index}.png`));
		}

		expect(((await viewerStatus(gui.viewer.port)) as Status).views).toHaveLength(2); // the first pair's view was reused
	});

	test('a view without markers hides the Marker Browser; back on a diff it shows again', async () => {
		const before = (await viewerStatus(gui.viewer.port)) as Status;
		expect(before.markerBrowserDock?.visible).toBe(true);
		const [load] = await v2Session(gui.viewer.port, [{id: 1, method: 'load', params: {path: (await pairWithDifferences(gui.temp, 'plain', 100))[0], mode: 'new'}}]);
		expect(load).toMatchObject({ok: true});
		await expect.poll(async () => ((await viewerStatus(gui.viewer.port)) as Status).markerBrowserDock).toMatchObject({docks: 1, visible: false, database: null});
		const [a, b] = await pairWithDifferences(gui.temp, 'second', 700);
		const run = await runCli([a, b, '-q', '--out-dir', path.join(gui.temp, 'out-again')], {env: env(), extendEnv: true});
		expect(run.exitCode, run.stderr).toBe(1);
		await expectOneBrowserShowing('second_a_vs_second_b.xor.lyrdb', path.join(gui.temp, 'window-again.png'));
	});

	test('lyipc screenshot --window: the whole window as the server draws it; with --width: a usage error', async () => {
		const shot = path.join(gui.temp, 'cli-window.png');
		const run = await runCli(['screenshot', shot, '--window'], {env: env(), extendEnv: true}, LYIPC_CLI);
		expect(run.exitCode, run.stderr).toBe(0);
		const direct = path.join(gui.temp, 'direct-window.png');
		const [reply] = await v2Session(gui.viewer.port, [{id: 1, method: 'screenshot', params: {window: true, path: direct}}]);
		expect(reply, JSON.stringify(reply)).toMatchObject({ok: true});
		const [fromCli, fromServer] = [PNG.sync.read(await readFile(shot)), PNG.sync.read(await readFile(direct))];
		expect([fromCli.width, fromCli.height]).toEqual([fromServer.width, fromServer.height]);
		expect(fromCli.data.equals(fromServer.data)).toBe(true); // the same window, menus and docks, pixel for pixel
		const both = await runCli(['screenshot', shot, '--window', '--width', '10'], {env: {LYIPC_PORT: '1'}, extendEnv: true}, LYIPC_CLI);
		expect(both.exitCode).toBe(2);
		expect(both.stderr).toMatch(/^lyipc: screenshot: --window is the window at its own size; --width and --height are for the view\n/);
	});

	test('screenshot window: must be true or false', async () => {
		const [reply] = await v2Session(gui.viewer.port, [{id: 1, method: 'screenshot', params: {window: 'yes'}}]);
		expect(reply!.error).toMatchObject({code: 'BAD_REQUEST', message: "screenshot: parameter 'window' must be true or false, got 'yes'"});
	});
});
