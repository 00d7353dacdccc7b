import {readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {PNG} from 'pngjs';
import {afterAll, expect, test} from 'vitest';
import {WorkerPool, type WorkerRuns} from '../../src/engine/pool.js';
import {type KLayoutWorker, WorkerLostBeforeStart} from '../../src/engine/worker.js';
import {compareWithPictures} from '../../src/xor/compare-with-pictures.js';
import {describeKLayout, useTempDirs} from '../helpers/run.js';

const tempDir = useTempDirs('lyipc-pictures-');

/**
 * A 100 µm chip of 0.5 µm wires on a 2 µm pitch, and the same chip with one 0.1 µm square
 * added at (73.3, 41.7) µm: at whole-chip scale the change is under a pixel.
 */
const MAKE_CHIP = `
import pya
for name, changed in (("a.gds", False), ("b.gds", True)):
    layout = pya.Layout()
    layout.dbu = 0.001
    top = layout.create_cell("CHIP")
    metal = layout.layer(1, 0)
    via = layout.layer(2, 0)
    for i in range(50):
        top.shapes(metal).insert(pya.DBox(0, i * 2.0, 100, i * 2.0 + 0.5))
        top.shapes(via).insert(pya.DBox(i * 2.0 + 0.7, 10, i * 2.0 + 1.2, 90))
    if changed:
        top.shapes(metal).insert(pya.DBox(73.3, 41.7, 73.4, 41.8))
    layout.write(dir + "/" + name)  # dir: set by klayout -rd
`;

/** Pixels of one colour within `radius` of (x, y). */
function near(png: PNG, colour: [number, number, number], x: number, y: number, radius: number): number {
	let count = 0;
	for (let row = Math.max(0, y - radius); row < Math.min(png.height, y + radius); row++) {
		for (let column = Math.max(0, x - radius); column < Math.min(png.width, x + radius); column++) {
			const i = (row * png.width + column) * 4;
			count += png.data[i] === colour[0] && png.data[i + 1] === colour[1] && png.data[i + 2] === colour[2] ? 1 : 0;
		}
	}

	return count;
}

function all(png: PNG, colour: [number, number, number]): number {
	return near(png, colour, png.width / 2, png.height / 2, Math.max(png.width, png.height));
}

const RED: [number, number, number] = [0xff, 0x20, 0x20];
const FRAME_BLUE: [number, number, number] = [0x1f, 0x4f, 0xe0];

describeKLayout('pictures of a small change in a large layout', () => {
	const pool = new WorkerPool({size: 1});
	afterAll(async () => pool.close());

	test('a 0.1 µm change in a 100 µm layout: red pixels at the change in its close-up, a frame around it in the overview', async () => {
		const dir = await tempDir();
		const script = path.join(dir, 'make_chip.py');
		await writeFile(script, MAKE_CHIP);
		await execa(process.env.KLAYOUT ?? 'klayout', ['-b', '-rd', `dir=${dir}`, '-r', script]);
		const {result, pictures} = await compareWithPictures(pool, {
			a: path.join(dir, 'a.gds'),
			b: path.join(dir, 'b.gds'),
			options: {outDir: path.join(dir, 'out')},
			pictures: {dir: path.join(dir, 'out'), stem: 'chip', titles: {pair: 'chip.gds'}},
		});
		expect(result.differentLayers).toBe(1);
		expect(pictures).toMatchObject({groups: 1, closeups: [], scale: 2, error: null});
		expect(pictures!.boxes[0]![0]).toBeCloseTo(73.3, 6);

		// The close-up is centred on the change: the middle of the drawing area (960 x 720 pixels,
		// less the legend on the right and the bands above and below) is red.
		const closeup = PNG.sync.read(await readFile(pictures!.xor!));
		expect([closeup.width, closeup.height]).toEqual([960, 720]);
		const middle = {x: Math.round((960 - 236) / 2), y: Math.round(44 + (720 - 44 - 48) / 2)};
		expect(near(closeup, RED, middle.x, middle.y, 30)).toBeGreaterThan(400);
		// and only there (the legend's red swatch aside).
		expect(near(closeup, RED, middle.x, middle.y, 30) / (all(closeup, RED) - near(closeup, RED, 752, 72, 14))).toBeGreaterThan(0.99);

		// The overview: the whole chip, where the change is far below one pixel, yet framed in blue.
		const overview = PNG.sync.read(await readFile(pictures!.overview!));
		const perPixel = Math.max(100 / (960 - 236), 100 / (720 - 44 - 48)) * 1.04; // zoom-to-fit leaves a small margin
		const at = {x: Math.round((960 - 236) / 2 + (73.35 - 50) / perPixel), y: Math.round(44 + (720 - 44 - 48) / 2 - (41.75 - 50) / perPixel)};
		expect(near(overview, FRAME_BLUE, at.x, at.y, 45)).toBeGreaterThan(60);
		expect(near(overview, FRAME_BLUE, (960 - 236) / 2, 358, 200) - near(overview, FRAME_BLUE, at.x, at.y, 45)).toBeLessThan(10); // one frame, there
	}, 60_000);

	test('pictures queued behind a job that ended their worker are drawn on a new one, not lost', async () => {
		const dir = await tempDir();
		const script = path.join(dir, 'make_chip.py');
		await writeFile(script, MAKE_CHIP);
		await execa(process.env.KLAYOUT ?? 'klayout', ['-b', '-rd', `dir=${dir}`, '-r', script]);
		// The first render_diff meets what a worker stopped by another pair's timeout answers.
		let lost = 0;
		const losing: WorkerRuns = {
			run: async (job, signal) =>
				pool.run(
					async worker =>
						job(
							new Proxy(worker, {
								get(target, key) {
									if (key === 'request') {
										return async (op: string, ...rest: unknown[]) => {
											if (op === 'render_diff' && lost++ === 0) {
												throw new WorkerLostBeforeStart(op, undefined);
											}

											return (target.request as (...args: unknown[]) => Promise<unknown>)(op, ...rest);
										};
									}

									const value = Reflect.get(target, key, target) as unknown;
									return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
								},
							}) as KLayoutWorker,
						),
					signal,
				),
		};
		const {result, pictures} = await compareWithPictures(losing, {
			a: path.join(dir, 'a.gds'),
			b: path.join(dir, 'b.gds'),
			options: {outDir: path.join(dir, 'out')},
			pictures: {dir: path.join(dir, 'out'), stem: 'chip'},
		});
		expect(lost).toBe(2);
		expect(result.differentLayers).toBe(1);
		expect(pictures).toMatchObject({groups: 1, error: null});
		expect((await readFile(pictures!.overview!)).subarray(1, 4).toString()).toBe('PNG');
	}, 60_000);
});
