import {spawnSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {copyFile, readdir, readFile, writeFile} from 'node:fs/promises';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {gzipSync} from 'node:zlib';
import {execa} from 'execa';
import {afterAll, expect, test} from 'vitest';
import {currentView, pngColours, redShare, useGuiViewer, v1Exchange, v2Session, viewerStatus, type ViewerStatus} from '../helpers/gui.js';
import {whilePinging} from '../helpers/ping-loop.mjs';
import {listening, waitFor} from '../helpers/poll.js';
import {describeKLayout, fixture, LYIPC_CLI, ROOT, runCli} from '../helpers/run.js';

const SKIPPED = 'context meta data skipped: written by a newer KLayout';

type Cellview = ViewerStatus['views'][number]['cellviews'][number] & {name: string; topCells: string[]; readNote: string | null};

/** KLayout before 0.29 cannot read the meta data 0.29 and later write into a GDS file's context cell. */
function older(status: ViewerStatus): boolean {
	const [major, minor] = status.klayout.split('.').map(Number);
	return major === 0 && minor! < 29;
}

/** newer_klayout_b.gds up to the end of its context cell (its first structure), then `bytes` of noise. */
function contextThenNoise(bytes: number): Buffer {
	const file = readFileSync(fixture('newer_klayout_b.gds'));
	let at = 0;
	let structures = 0;
	for (;;) {
		const length = file.readUInt16BE(at);
		const type = file.readUInt8(at + 2);
		at += length;
		structures += type === 0x05 ? 1 : 0;
		if (type === 0x07 && structures === 1) {
			break;
		}
	}

	const noise = Buffer.alloc(bytes);
	for (let i = 0; i < bytes; i += 4) {
		noise.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, i);
	}

	return Buffer.concat([file.subarray(0, at), noise]);
}

/** Share of a PNG's pixels in other colours than its most common one (the background). */
async function drawnShare(file: string): Promise<number> {
	const {width, height, colours} = await pngColours(file);
	const counts = [...colours.values()].sort((x, y) => y - x);
	return (width * height - counts[0]!) / (width * height);
}

/**
 * GDS files written by KLayout 0.29 and later with meta data in their context cell, opened by
 * the viewer: a KLayout before 0.29 shows a copy without that cell, made in its own temp folder
 * (TMPDIR here), and names the user's file everywhere.
 */
describeKLayout('the viewer shows files written by a newer KLayout', () => {
	const scratch = mkdtempSync(path.join(tmpdir(), 'lyipc-viewer-tmp-'));
	// Copies a killed KLayout left (its process is gone), and those of one still running.
	const gone = spawnSync('true').pid;
	mkdirSync(path.join(scratch, `lyipc-shown-${gone}-left`, 'lyipc-context-x'), {recursive: true});
	writeFileSync(path.join(scratch, `lyipc-shown-${gone}-left`, 'lyipc-context-x', 'layout.gds'), 'copy');
	mkdirSync(path.join(scratch, `lyipc-shown-${process.pid}-alive`));
	const gui = useGuiViewer({env: {TMPDIR: scratch}, klive: true});
	afterAll(() => {
		rmSync(scratch, {recursive: true, force: true});
	});
	const env = () => ({LYIPC_PORT: String(gui.viewer.port), CI: 'false'});
	const lyipc = async (...args: string[]) => runCli(args, {env: env(), extendEnv: true}, LYIPC_CLI);
	const status = async () => viewerStatus(gui.viewer.port);
	/** The copies the viewer keeps now: one folder each in its private folder in its temp folder. */
	const copies = async () => {
		const folders = (await readdir(scratch)).filter(name => name.startsWith('lyipc-shown-') && !name.endsWith('-alive'));
		const inside = await Promise.all(folders.map(async folder => readdir(path.join(scratch, folder))));
		return inside.flat();
	};
	const closeAll = async () => {
		for (let left = (await status()).views.length; left > 0; left--) {
			await v2Session(gui.viewer.port, [{id: 'c', method: 'close', params: {view: 0}}]);
		}
	};

	test('lyipc load: shown, status names the file and says the meta data was skipped, the picture is not blank; close removes the copy', async () => {
		await copyFile(fixture('newer_klayout_b.gds'), path.join(gui.temp, 'b.gds'));
		const file = path.join(gui.temp, 'b.gds');
		const run = await lyipc('load', file);
		expect(run.exitCode, run.stderr).toBe(0);
		const shown = await status();
		const view = currentView(shown);
		const cellview = view.cellviews[0] as Cellview;
		expect(cellview).toMatchObject({file, name: 'b.gds', topCells: ['TOP'], readNote: older(shown) ? SKIPPED : null});
		expect(view.title).toContain('b.gds');
		expect(view.layers).toBe(3);
		const text = await lyipc('status');
		expect(text.stdout).toContain(older(shown) ? `    ${file} (cell TOP; ${SKIPPED})` : `    ${file} (cell TOP)`);
		const png = path.join(gui.temp, 'load.png');
		const shot = await lyipc('screenshot', png, '--width', '400', '--height', '300');
		expect(shot.exitCode, shot.stderr).toBe(0);
		expect(await drawnShare(png)).toBeGreaterThan(0.01);
		// The copy is in the viewer's temp folder, never beside the user's file.
		expect((await readdir(gui.temp)).sort()).toEqual(['b.gds', 'load.png']);
		expect(await copies()).toHaveLength(older(shown) ? 1 : 0);
		await closeAll();
		expect(await copies()).toEqual([]);
	});

	test('reload reads the file on disk again: a newer file, then one this KLayout reads whole', async () => {
		const file = path.join(gui.temp, 'chip.gds');
		await copyFile(fixture('newer_klayout.gds'), file); // one layer, 1/0
		expect((await lyipc('load', file, '--new')).exitCode).toBe(0);
		const first = await status();
		expect(currentView(first).layers).toBe(1);
		await copyFile(fixture('newer_klayout_b.gds'), file); // 1/0, 2/0 and 3/0
		const again = await lyipc('reload', file);
		expect(again.exitCode, again.stderr).toBe(0);
		const second = await status();
		expect(currentView(second).layers).toBe(3);
		expect(currentView(second).cellviews[0]).toMatchObject({file, name: 'chip.gds', readNote: older(second) ? SKIPPED : null});
		expect(await copies()).toHaveLength(older(second) ? 1 : 0);
		await copyFile(fixture('base.gds'), file); // written by this project's generator: no meta data
		expect((await lyipc('reload', file)).exitCode).toBe(0);
		const third = await status();
		expect(currentView(third).cellviews[0]).toMatchObject({file, topCells: ['CHIP'], readNote: null});
		// The user's file is untouched by all this (the viewer read through a link to it).
		expect(await readFile(file)).toEqual(await readFile(fixture('base.gds')));
		await closeAll();
		expect(await copies()).toEqual([]);
	});

	test('a file shown as it is, then rewritten by a newer KLayout: reload reads it without its context cell, and keeps naming it', async () => {
		const file = path.join(gui.temp, 'grows.gds');
		await copyFile(fixture('base.gds'), file);
		expect((await lyipc('load', file, '--new')).exitCode).toBe(0);
		expect(currentView(await status()).cellviews[0]).toMatchObject({file, topCells: ['CHIP'], readNote: null});
		await copyFile(fixture('newer_klayout_b.gds'), file);
		const run = await lyipc('reload', file);
		expect(run.exitCode, run.stderr).toBe(0);
		const newer = await status();
		expect(currentView(newer).cellviews[0]).toMatchObject({file, name: 'grows.gds', topCells: ['TOP'], cell: 'TOP', readNote: older(newer) ? SKIPPED : null});
		expect(await copies()).toEqual([]); // read into the layout: the copy went at once
		const png = path.join(gui.temp, 'grows.png');
		expect((await lyipc('screenshot', png, '--width', '400', '--height', '300')).exitCode).toBe(0);
		expect(await drawnShare(png)).toBeGreaterThan(0.01);
		await copyFile(fixture('base.gds'), file);
		expect((await lyipc('reload', file)).exitCode).toBe(0);
		expect(currentView(await status()).cellviews[0]).toMatchObject({file, topCells: ['CHIP'], readNote: null});
		// A file that KLayout cannot read any more is the file's fault, not the viewer's.
		await copyFile(fixture('truncated.gds'), file);
		const broken = await lyipc('reload', file);
		expect(broken.exitCode).not.toBe(0);
		expect(broken.stderr).toContain(`(LOAD_FAILED): ${file}: `);
		await closeAll();
	});

	test("a layout loaded in place of one shown from a copy removes the copy; the old protocol's load opens the file the same way", async () => {
		const file = path.join(gui.temp, 'replaced.gds');
		await copyFile(fixture('newer_klayout_a.gds'), file);
		const reply = await v1Exchange(gui.viewer.port, `load ${file} 1\n`);
		expect(reply.toString()).toBe('ACK None');
		const shown = await status();
		expect(currentView(shown).cellviews[0]).toMatchObject({file, readNote: older(shown) ? SKIPPED : null});
		expect(await copies()).toHaveLength(older(shown) ? 1 : 0);
		expect((await lyipc('load', fixture('base.gds'))).exitCode).toBe(0); // replaces the current view's layout
		expect(currentView(await status()).cellviews.map(entry => entry.file)).toEqual([fixture('base.gds')]);
		expect(await copies()).toEqual([]);
		await closeAll();
	});

	test('lyipc-diff --view: the pair is shown with its differences in red and markers; status names both files', async () => {
		const [a, b] = [fixture('newer_klayout_a.gds'), fixture('newer_klayout_b.gds')];
		const run = await runCli([a, b, '--view', '--target', `127.0.0.1:${gui.viewer.port}`, '--out-dir', path.join(gui.temp, 'diff')], {env: {CI: 'false'}, extendEnv: true});
		expect(run.exitCode, run.stderr).toBe(1);
		expect(run.stderr).toMatch(/shown in the KLayout viewer/);
		const shown = await status();
		const view = currentView(shown);
		const cellviews = view.cellviews as Cellview[];
		expect(cellviews.map(entry => entry.file).slice(0, 2)).toEqual([a, b]);
		expect(cellviews.map(entry => entry.readNote)).toEqual(older(shown) ? [SKIPPED, SKIPPED, null] : [null, null, null]);
		expect(view.markerDatabases).toHaveLength(1);
		expect(await copies()).toHaveLength(older(shown) ? 2 : 0);
		const png = path.join(gui.temp, 'diff.png');
		expect((await lyipc('screenshot', png, '--width', '400', '--height', '300')).exitCode).toBe(0);
		expect(await redShare(png)).toBeGreaterThan(0.001);
		// The same pair again reuses its view: the copies it showed give way to the new ones.
		const again = await runCli([a, b, '--view', '--target', `127.0.0.1:${gui.viewer.port}`, '--out-dir', path.join(gui.temp, 'diff-again')], {env: {CI: 'false'}, extendEnv: true});
		expect(again.exitCode, again.stderr).toBe(1);
		expect((await status()).views).toHaveLength(shown.views.length);
		expect(await copies()).toHaveLength(older(shown) ? 2 : 0);
		await closeAll();
		expect(await copies()).toEqual([]);
	});

	test("a killed KLayout's copies are removed when the next server starts; a running one's stay", async () => {
		const left = (await readdir(scratch)).filter(name => name.startsWith('lyipc-shown-'));
		expect(left).not.toContain(`lyipc-shown-${gone}-left`);
		expect(left).toContain(`lyipc-shown-${process.pid}-alive`);
	});

	test('an upload (a client on another machine): shown from a copy, named by its place in the cache; new bytes for it reload in place', async () => {
		const upload = async (bytes: Buffer, params: Record<string, unknown>) =>
			new Promise<{ok: boolean; result?: {path: string; reloaded?: number}; error?: unknown}>((resolve, reject) => {
				const line = JSON.stringify({id: 'u', method: 'upload', params: {name: 'remote.gds', size: bytes.length, source: 'build-3:/out/remote.gds', ...params}}) + '\n';
				const socket = net.connect(gui.viewer.port, '127.0.0.1', () => socket.write(Buffer.concat([Buffer.from(line), bytes])));
				let text = '';
				socket.on('data', (chunk: Buffer) => {
					text += chunk.toString('utf8');
					if (text.includes('\n')) {
						socket.destroy();
						resolve(JSON.parse(text.slice(0, text.indexOf('\n'))) as {ok: boolean; result?: {path: string}});
					}
				});
				socket.on('error', reject);
			});
		const first = await upload(await readFile(fixture('newer_klayout.gds')), {mode: 'new'});
		expect(first.ok, JSON.stringify(first)).toBe(true);
		const placed = first.result!.path;
		const shown = await status();
		expect(currentView(shown).cellviews[0]).toMatchObject({file: placed, readNote: older(shown) ? SKIPPED : null});
		expect(currentView(shown).layers).toBe(1);
		const again = await upload(await readFile(fixture('newer_klayout_b.gds')), {reload: true});
		expect(again).toMatchObject({ok: true, result: {path: placed, reloaded: 1}});
		const reloaded = await status();
		expect(currentView(reloaded).layers).toBe(3);
		expect(currentView(reloaded).cellviews[0]).toMatchObject({file: placed, readNote: older(reloaded) ? SKIPPED : null});
		expect(await copies()).toHaveLength(older(reloaded) ? 1 : 0);
		await closeAll();
		expect(await copies()).toEqual([]);
	});

	test('klive show: a newer file opens, reloads in place, and a library from a newer KLayout is read', async () => {
		const file = path.join(gui.temp, 'component.gds');
		await copyFile(fixture('newer_klayout.gds'), file);
		const show = async (request: Record<string, unknown>) => {
			const run = await execa('python3', [path.join(ROOT, 'test', 'peers', 'kfactory_show.py'), String(gui.viewer.klivePort), JSON.stringify(request)], {reject: false});
			expect(run.exitCode, run.stderr).toBe(0);
			return JSON.parse(run.stdout) as {type: string; error?: string};
		};
		const library = path.join(gui.temp, 'library.gds');
		await copyFile(fixture('newer_klayout_a.gds'), library);
		expect(await show({gds: file, keep_position: true, libraries: [{name: 'NEWER_LIB', file: library}]})).toMatchObject({type: 'open'});
		const opened = await status();
		expect(currentView(opened).cellviews[0]).toMatchObject({file, readNote: older(opened) ? SKIPPED : null});
		expect(currentView(opened).layers).toBe(1);
		await copyFile(fixture('newer_klayout_b.gds'), file);
		expect(await show({gds: file, keep_position: true})).toMatchObject({type: 'reload'});
		const reloaded = await status();
		expect(reloaded.views).toHaveLength(opened.views.length);
		expect(currentView(reloaded).layers).toBe(3);
		// The library's copy went once read; the view's stays while it is shown.
		expect(await copies()).toHaveLength(older(reloaded) ? 1 : 0);
		await closeAll();
		expect(await copies()).toEqual([]);
	});

	test('a large gzipped newer file: the window keeps answering while the copy is made; a copy KLayout cannot read either is LOAD_FAILED naming the file', async () => {
		const file = path.join(gui.temp, 'large.gds.gz');
		await writeFile(file, gzipSync(contextThenNoise(96 * 1024 ** 2), {level: 1}));
		const {result, longestMs} = await whilePinging(gui.viewer.port, async () => v2Session(gui.viewer.port, [{id: 1, method: 'load', params: {path: file, mode: 'new'}}], 120_000));
		const [reply] = result;
		expect(reply!.ok).toBe(false);
		expect(reply!.error!.code).toBe('LOAD_FAILED');
		const shown = await status();
		if (older(shown)) {
			expect(reply!.error!.message).toMatch(new RegExp(`^${file.replaceAll('.', '\\.')}: written by a newer KLayout, and not readable without its context cell either: `));
		}

		expect(longestMs).toBeLessThan(1000);
		expect(shown.views).toHaveLength(0);
		expect(await copies()).toEqual([]);
	}, 180_000);

	test('a view closed in the window itself: its copy goes within seconds; the server stopped from the menu removes the rest', async () => {
		const xdotool = async (...args: string[]) => execa('xdotool', args, {env: {DISPLAY: gui.viewer.display}, timeout: 30_000});
		const main = (await xdotool('search', '--sync', '--onlyvisible', '--name', '^KLayout')).stdout.split('\n')[0]!;
		const [first, second] = [path.join(gui.temp, 'first.gds'), path.join(gui.temp, 'second.gds')];
		await copyFile(fixture('newer_klayout_a.gds'), first);
		await copyFile(fixture('newer_klayout_b.gds'), second);
		expect((await lyipc('load', first, '--new')).exitCode).toBe(0);
		expect((await lyipc('load', second, '--new')).exitCode).toBe(0);
		const both = await status();
		if (!older(both)) {
			await closeAll();
			return; // nothing is copied
		}

		expect(await copies()).toHaveLength(2);
		await xdotool('windowfocus', '--sync', main, 'key', 'ctrl+w'); // File > Close: the current view
		await waitFor('the view to close', async () => (await status()).views.length === both.views.length - 1);
		await waitFor("the closed view's copy to go", async () => (await copies()).length === 1);
		expect(currentView(await status()).cellviews[0]!.file).toBe(first);
		await xdotool('windowfocus', '--sync', main, 'key', 'ctrl+i'); // Tools > Inter-process communication server
		await waitFor('the server to stop', async () => (await copies()).length === 0 && !(await listening(gui.viewer.port)));
		await xdotool('windowfocus', '--sync', main, 'key', 'ctrl+i');
		await waitFor('the server to listen again', async () => listening(gui.viewer.port));
		await closeAll();
	});

	test('KLayout ends: no copy is left', async () => {
		const file = path.join(gui.temp, 'last.gds');
		await copyFile(fixture('newer_klayout_b.gds'), file);
		expect((await lyipc('load', file, '--new')).exitCode).toBe(0);
		expect(await copies()).toHaveLength(older(await status()) ? 1 : 0);
		expect((await lyipc('quit')).exitCode).toBe(0);
		await gui.viewer.klayout;
		expect((await readdir(scratch)).filter(name => name.startsWith('lyipc-shown-'))).toEqual([`lyipc-shown-${process.pid}-alive`]);
	});
});
