import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {PNG} from 'pngjs';
import {afterAll, expect, test} from 'vitest';
import {WorkerPool} from '../../src/engine/pool.js';
import {compareWithPictures} from '../../src/xor/compare-with-pictures.js';
import {BEND_PY, runKLayoutScript} from '../helpers/klayout-script.js';
import {describeKLayout, useTempDirs} from '../helpers/run.js';

const tempDir = useTempDirs('lyipc-pictures-real-');

/**
 * Bends as generated photonics layouts have them: `count` cells of three quarter-circle
 * waveguides of 360 vertices each over a 10 x 6 mm area, and in B every radius 4 nm larger, so
 * the XOR is thousands of thin many-vertex crescents spread over the whole layout.
 */
const MAKE_BENDS = `
${BEND_PY}
for name, grow in (("a.gds", 0.0), ("b.gds", 0.004)):
    layout = pya.Layout()
    layout.dbu = 0.001
    top = layout.create_cell("BENDS")
    core = layout.layer(1, 0)
    for i in range(int(count)):
        for k in range(3):
            top.shapes(core).insert(bend((i % 40) * 250.0, (i // 40) * 250.0, 20.0 + 15 * k + grow, 0.5, (i % 4) * math.pi / 2, 180))
    layout.write(dir + "/" + name)
`;

/**
 * Two layers numbered alike (1/0 and 1/10), a large group of changes at the left and a small
 * one far to the right; a row of slivers 1 nm wide and 1 µm tall along 50 µm on top of a
 * 98 x 85 µm block (as a grating's teeth moved by 1 nm); a wire made wider along its whole length.
 */
const MAKE_SHAPES = `
import pya
for name, changed in (("a.gds", False), ("b.gds", True)):
    layout = pya.Layout()
    layout.dbu = 0.001
    top = layout.create_cell("TOP")
    core, clad = layout.layer(1, 0), layout.layer(1, 10)
    for i in range(20):
        top.shapes(core).insert(pya.DBox(i * 50.0, 0, i * 50.0 + 20, 400))
        top.shapes(clad).insert(pya.DBox(i * 50.0 - 5, -5, i * 50.0 + 25, 405))
    if changed:
        for i in range(4):
            top.shapes(core).insert(pya.DBox(i * 50.0 + 20, 100, i * 50.0 + 30, 300))
        top.shapes(core).insert(pya.DBox(970, 195, 975, 200))
    layout.write(dir + "/" + name)
for name, changed in (("sa.gds", False), ("sb.gds", True)):
    layout = pya.Layout()
    layout.dbu = 0.001
    top = layout.create_cell("TOP")
    core = layout.layer(1, 0)
    top.shapes(core).insert(pya.DBox(0, 0, 98, 85))
    top.shapes(core).insert(pya.DBox(-20, -20, -10, -10))
    if changed:
        for i in range(100):
            top.shapes(core).insert(pya.DBox(24 + i * 0.5, 85, 24.001 + i * 0.5, 86))
    layout.write(dir + "/" + name)
for name, width in (("wa.gds", 2.0), ("wb.gds", 2.5)):
    layout = pya.Layout()
    layout.dbu = 0.001
    top = layout.create_cell("TOP")
    points = [pya.DPoint(x, y) for x, y in ((0, 0), (1000, 0), (1000, 600), (0, 600))]
    top.shapes(layout.layer(1, 0)).insert(pya.DPath(points, width))
    layout.write(dir + "/" + name)
`;

const RED: [number, number, number] = [0xff, 0x20, 0x20];

async function png(file: string | null): Promise<PNG> {
	expect(file).toBeTruthy();
	return PNG.sync.read(await readFile(file!));
}

/** The box [left, top, right, bottom] of the pixels of `colour` in the drawing area (the legend on the right and the bands left out). */
function extent(image: PNG, colour: [number, number, number]): number[] {
	const [left, top, right, bottom] = [0, 44, image.width - 236, image.height - 48];
	const found = [Infinity, Infinity, -Infinity, -Infinity];
	for (let y = top; y < bottom; y++) {
		for (let x = left; x < right; x++) {
			const i = (y * image.width + x) * 4;
			if (image.data[i] === colour[0] && image.data[i + 1] === colour[1] && image.data[i + 2] === colour[2]) {
				found[0] = Math.min(found[0]!, x);
				found[1] = Math.min(found[1]!, y);
				found[2] = Math.max(found[2]!, x);
				found[3] = Math.max(found[3]!, y);
			}
		}
	}

	return found;
}

/** The colour of most pixels in a box that are neither white nor the ink of text. */
function swatch(image: PNG, x: number, y: number, size: number): [number, number, number] {
	const counts = new Map<number, number>();
	for (let row = y; row < y + size; row++) {
		for (let column = x; column < x + size; column++) {
			const i = (row * image.width + column) * 4;
			const rgb = (image.data[i]! << 16) | (image.data[i + 1]! << 8) | image.data[i + 2]!;
			if (rgb !== 0xffffff && rgb !== 0x1d2330) {
				counts.set(rgb, (counts.get(rgb) ?? 0) + 1);
			}
		}
	}

	const top = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0xffffff;
	return [top >> 16, (top >> 8) & 0xff, top & 0xff];
}

describeKLayout('pictures of real-looking layouts', () => {
	const pool = new WorkerPool({size: 1});
	afterAll(async () => pool.close());

	/** The pictures of one pair of MAKE_SHAPES' layouts (`a`.gds against `b`.gds), named after `stem`. */
	async function drawShapes(a: string, b: string, stem: string) {
		const dir = await tempDir();
		await runKLayoutScript(dir, MAKE_SHAPES, []);
		const {pictures} = await compareWithPictures(pool, {
			a: path.join(dir, `${a}.gds`),
			b: path.join(dir, `${b}.gds`),
			options: {outDir: path.join(dir, 'out')},
			pictures: {dir: path.join(dir, 'out'), stem},
		});
		return pictures;
	}

	test('thousands of curved many-vertex differences over a large layout are drawn within the budget', async () => {
		const dir = await tempDir();
		await runKLayoutScript(dir, MAKE_BENDS, ['count=1000']);
		const started = performance.now();
		const {result, pictures} = await compareWithPictures(pool, {
			a: path.join(dir, 'a.gds'),
			b: path.join(dir, 'b.gds'),
			options: {outDir: path.join(dir, 'out')},
			pictures: {dir: path.join(dir, 'out'), stem: 'bends', budget: 20},
		});
		const seconds = (performance.now() - started) / 1000;
		expect(result.layers[0]!.xorCount).toBeGreaterThan(5000);
		expect(pictures!.error).toBeNull();
		expect(pictures!.overview).toBeTruthy();
		expect(pictures!.xor).toBeTruthy();
		expect(seconds).toBeLessThan(20);
		// Drawn, not only written: the crescents are red in the overview.
		const overview = await png(pictures!.overview);
		expect(extent(overview, RED)[2]! - extent(overview, RED)[0]!).toBeGreaterThan(300);
	}, 120_000);

	test('over the budget the pictures are skipped with the reason, and the worker draws the next pair', async () => {
		const dir = await tempDir();
		await runKLayoutScript(dir, MAKE_SHAPES, []);
		const job = (budget: number) => ({
			a: path.join(dir, 'a.gds'),
			b: path.join(dir, 'b.gds'),
			options: {outDir: path.join(dir, `out-${budget}`)},
			pictures: {dir: path.join(dir, `out-${budget}`), stem: 'shapes', budget},
		});
		const skipped = await compareWithPictures(pool, job(0.000_001));
		expect(skipped.result.status).toBe('different');
		expect(skipped.pictures).toMatchObject({error: 'pictures skipped: too many differences to draw in 0 s', overview: null, xor: null});
		const drawn = await compareWithPictures(pool, job(30));
		expect(drawn.pictures).toMatchObject({error: null});
		expect(drawn.pictures!.overview).toBeTruthy();
	}, 60_000);

	test('drawing that needs more memory than allowed is skipped with the reason, and the worker draws on', async () => {
		const dir = await tempDir();
		await runKLayoutScript(dir, MAKE_SHAPES, []);
		const {result} = await compareWithPictures(pool, {a: path.join(dir, 'a.gds'), b: path.join(dir, 'b.gds'), options: {outDir: path.join(dir, 'out')}, pictures: null});
		const out = (name: string) => ({
			overview: path.join(dir, `${name}.o.png`),
			a: path.join(dir, `${name}.a.png`),
			b: path.join(dir, `${name}.b.png`),
			xor: path.join(dir, `${name}.x.png`),
			closeups: [],
		});
		// 4000 x 4000 pixels: a 64 MB image, more than glibc ever takes from memory it already
		// holds (its mmap threshold is 32 MB at most), so the cap is met whatever ran before.
		const request = async (name: string, memory?: number) =>
			pool.run(async worker =>
				worker.request<{skipped?: string; written?: {overview: string}}>('render_diff', {
					a: result.a.path,
					b: result.b.path,
					xor: result.artifacts.xor,
					out: out(name),
					width: 2000,
					height: 2000,
					scale: 2,
					memory,
				}),
			);
		// 1 MB more than the worker holds: the picture alone needs more.
		expect(await request('capped', 1 << 20)).toEqual({skipped: 'pictures skipped: drawing them needs more than 1 MB'});
		expect((await request('free')).written?.overview).toBe(out('free').overview);
	}, 60_000);

	test('a close-up shows no more than the overview and zooms in on its group; the close-up count is the one drawn', async () => {
		const pictures = await drawShapes('a', 'b', 'shapes');
		expect(pictures).toMatchObject({error: null, groups: 2});
		expect(pictures!.boxes).toHaveLength(2);
		expect(pictures!.closeups).toHaveLength(1);
		const overview = extent(await png(pictures!.overview), RED);
		const first = extent(await png(pictures!.xor), RED);
		const second = extent(await png(pictures!.closeups[0]!), RED);
		// The overview shows 1 mm on 724 pixels: the large group (160 µm) about 115 pixels wide,
		// the small one (5 µm) 4. Each close-up zooms in on its own.
		expect(overview[2]! - overview[0]!).toBeGreaterThan(500);
		expect(first[2]! - first[0]!).toBeGreaterThan(250);
		// The small group (5 µm) fills much of its close-up, a few pixels in the overview.
		expect(second[2]! - second[0]!).toBeGreaterThan(100);
	}, 60_000);

	test('a close-up of a group as wide as the layout shows what the overview shows, not more', async () => {
		const pictures = await drawShapes('wa', 'wb', 'wire');
		expect(pictures).toMatchObject({error: null, groups: 1});
		const overview = extent(await png(pictures!.overview), RED);
		const closeup = extent(await png(pictures!.xor), RED);
		// Padded around its group, the close-up would show the differences at two thirds of the overview's size.
		expect(closeup[2]! - closeup[0]!).toBeGreaterThanOrEqual(0.95 * (overview[2]! - overview[0]!));
		expect(closeup[3]! - closeup[1]!).toBeGreaterThanOrEqual(0.95 * (overview[3]! - overview[1]!));
	}, 60_000);

	test('1 nm slivers are drawn in solid XOR red, at least two pixels wide, in their close-up', async () => {
		const pictures = await drawShapes('sa', 'sb', 'sliver');
		expect(pictures).toMatchObject({error: null, groups: 1});
		const closeup = await png(pictures!.xor);
		const [left, , right] = extent(closeup, RED);
		expect(right! - left!).toBeGreaterThan(200); // 50 µm long
		// Every sliver (1 µm: about 14 pixels tall here) is solid red, 2 pixels wide or more;
		// antialiased, they were faint pink.
		let red = 0;
		for (let y = 44; y < closeup.height - 48; y++) {
			for (let x = 0; x < closeup.width - 236; x++) {
				const i = (y * closeup.width + x) * 4;
				red += closeup.data[i] === RED[0] && closeup.data[i + 1] === RED[1] && closeup.data[i + 2] === RED[2] ? 1 : 0;
			}
		}

		expect(red).toBeGreaterThan(100 * 10 * 2);
	}, 60_000);

	test('layers 1/0 and 1/10 get colours told apart, the same in every picture', async () => {
		const pictures = await drawShapes('a', 'b', 'shapes');
		// The legend of A's picture: 1/0 then 1/10, 12-pixel swatches 16 pixels apart (x2 in the PNG).
		const a = await png(pictures!.a);
		const b = await png(pictures!.b);
		const left = (480 - 118 + 8) * 2;
		const first = swatch(a, left, (22 + 8) * 2, 24);
		const second = swatch(a, left, (22 + 8 + 16) * 2, 24);
		const distance = Math.hypot(first[0] - second[0], first[1] - second[1], first[2] - second[2]);
		expect(distance).toBeGreaterThan(120);
		expect(swatch(b, left, (22 + 8) * 2, 24)).toEqual(first);
		expect(swatch(b, left, (22 + 8 + 16) * 2, 24)).toEqual(second);
	}, 60_000);
});
