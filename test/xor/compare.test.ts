import {readdir} from 'node:fs/promises';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {KLayoutWorker} from '../../src/engine/worker.js';
import {compareLayouts, type CompareOptions} from '../../src/xor/compare.js';
import type {CompareResult, LayerResult} from '../../src/xor/result.js';
import {describeKLayout, FAKE_KLAYOUT, fixture, inspect, useTempDirs} from '../helpers/run.js';
import {flatXorOfAllTops} from '../helpers/strmxor.mjs';
import {BEND_PY, runKLayoutScript} from '../helpers/klayout-script.js';

const BASE_LAYERS = ['1/0', '2/0', '3/0', '4/0'];

/** Layouts a.gds and b.gds in `dir`: 1,200 bends, in B each 0.3 um further out, and a 3 um wide quarter ring in B only. */
const MAKE_WIDE_AMONG_BENDS = `
${BEND_PY}
for name, grow in (("a.gds", 0.0), ("b.gds", 0.3)):
    layout = pya.Layout()
    layout.dbu = 0.001
    top = layout.create_cell("BENDS")
    core = layout.layer(1, 0)
    for i in range(400):
        for k in range(3):
            top.shapes(core).insert(bend((i % 20) * 250.0, (i // 20) * 250.0, 20.0 + 15 * k + grow, 0.5, (i % 4) * math.pi / 2, 180))
    if grow:
        top.shapes(core).insert(bend(-500.0, 0.0, 60.0, 3.0, 0.0, 180))
    layout.write(dir + "/" + name)
`;

// A cell with one 1 x 1 um box placed `times` times one by one; in B its box is 0.25 um^2 larger.
const MAKE_PLACED_PER_SHAPE = `
for times in (1500, 400):
    for name, height in (("a", 1.0), ("b", 1.25)):
        layout = pya.Layout()
        layout.dbu = 0.001
        top = layout.create_cell("TOP")
        unit = layout.create_cell("UNIT")
        unit.shapes(layout.layer(1, 0)).insert(pya.DBox(0, 0, 1.0, height))
        for i in range(times):
            top.insert(pya.DCellInstArray(unit.cell_index(), pya.DTrans(pya.DVector((i % 50) * 3.0, (i // 50) * 3.0))))
        layout.write("%s/%s%d.gds" % (dir, name, times))
`;

function layer(result: CompareResult, key: string): LayerResult {
	const found = result.layers.find(entry => entry.key === key);
	if (!found) {
		throw new Error(`no layer ${key} in ${result.layers.map(entry => entry.key).join(', ')}`);
	}

	return found;
}

function statuses(result: CompareResult): Record<string, string> {
	return Object.fromEntries(result.layers.map(entry => [entry.key, entry.status]));
}

describeKLayout('compareLayouts (library API, one shared worker)', () => {
	let worker: KLayoutWorker;
	const tempDir = useTempDirs();
	beforeAll(async () => {
		worker = await KLayoutWorker.start();
	});
	afterAll(async () => {
		await worker.close();
	});

	async function compare(a: string, b: string, options: CompareOptions = {}): Promise<CompareResult> {
		return compareLayouts(fixture(a), fixture(b), {worker, outDir: await tempDir(), ...options});
	}

	test('byte-identical files: identical without KLayout', async () => {
		const result = await compareLayouts(fixture('base.gds'), fixture('base.gds'), {klayout: '/nonexistent/klayout'});
		expect(result).toMatchObject({identical: true, status: 'identical', fastPath: 'byte-identical', klayout: null, layers: [], artifacts: {xor: null, rdb: null}});
	});

	test.each([
		['identical_a.gds', 'identical_b.gds', 'same geometry in other bytes'],
		['base.gds', 'dbu_0p5nm.gds', 'same geometry in another dbu'],
		['base.gds', 'renamed_top.gds', 'another top-cell name'],
		['base.gds', 'base_flat.gds', 'an arrayed hierarchy vs its flattened equivalent'],
		['base.gds', 'base.oas', 'GDSII vs OASIS'],
		['base.gds', 'base.gds.gz', 'plain vs gzipped'],
	])('%s vs %s is identical: %s', async (a, b) => {
		const outDir = await tempDir();
		const result = await compareLayouts(fixture(a), fixture(b), {worker, outDir});
		expect(result.identical).toBe(true);
		expect(result.fastPath).toBeNull();
		expect(result.differentLayers).toBe(0);
		expect(statuses(result)).toEqual(Object.fromEntries(BASE_LAYERS.map(key => [key, 'same'])));
		expect(result.layers.map(entry => entry.countA)).toEqual(result.layers.map(entry => entry.countB));
		expect(result.artifacts).toEqual({xor: null, rdb: null});
		expect(await readdir(outDir)).toEqual([]);
		expect(result.klayout).toEqual({path: worker.klayout.path, version: worker.klayoutVersion});
	});

	test('shape counts are flat: a 3x3 array plus one instance of a two-layer via cell', async () => {
		const result = await compare('base.gds', 'base_flat.gds');
		expect(result.layers.map(entry => [entry.key, entry.countA, entry.countB])).toEqual([
			['1/0', 4, 4],
			['2/0', 1, 1],
			['3/0', 11, 11],
			['4/0', 10, 10],
		]);
	});

	test("the files' details: dbu, common grid, formats, top cells", async () => {
		const dbu = await compare('base.gds', 'dbu_0p5nm.gds');
		expect([dbu.a.dbu, dbu.b.dbu, dbu.dbu]).toEqual([0.001, 0.0005, 0.0005]);
		const renamed = await compare('base.gds', 'renamed_top.gds');
		expect(renamed.topCells).toEqual([{a: 'CHIP', b: 'CHIP_RENAMED', status: 'compared'}]);
		const oasis = await compare('base.gds', 'base.oas');
		expect([oasis.b.format, oasis.b.dbu]).toEqual(['oasis', 0.001]);
		const gz = await compare('base.oas', 'base.gds.gz');
		expect([gz.a.format, gz.b.format, gz.b.gzip]).toEqual(['oasis', 'gds', true]);
	});

	test('one extra shape: one layer differs, with the XOR layout and marker database to show it', async () => {
		const result = await compare('base.gds', 'one_shape.gds');
		expect(result).toMatchObject({identical: false, status: 'different', differentLayers: 1});
		expect(layer(result, '1/0')).toMatchObject({status: 'different', countA: 4, countB: 5, xorCount: 1, xorArea: 6, bbox: [20, 20, 22, 23], markers: 1, markersOmitted: 0});
		for (const key of ['2/0', '3/0', '4/0']) {
			expect(layer(result, key)).toMatchObject({status: 'same', xorCount: 0, bbox: null});
		}

		const {layout, rdb} = await inspect({layout: result.artifacts.xor, rdb: result.artifacts.rdb});
		expect(layout).toMatchObject({topCells: ['CHIP'], emptyCells: [], layers: {'1/0': {polygons: 1, area: 6}}});
		expect(Object.keys(layout!.layers)).toEqual(['1/0']);
		expect(rdb).toMatchObject({topCell: 'CHIP', originalFile: result.artifacts.xor, categories: {'1/0': {items: 1}}});
		expect(rdb!.items).toEqual([{cell: 'CHIP', category: '1/0', values: ['polygon: (20,20;20,23;22,23;22,20)']}]);
	});

	test('a layer only in B is a difference: the whole layer', async () => {
		const result = await compare('base.gds', 'extra_layer.gds');
		expect(result.differentLayers).toBe(1);
		expect(layer(result, '5/0')).toMatchObject({status: 'only-in-b', countA: 0, countB: 2, xorCount: 2, xorArea: 22});
		const {layout} = await inspect({layout: result.artifacts.xor});
		expect(layout!.layers).toEqual({'5/0': {polygons: 2, area: 22}});
	});

	test('a layer only in A, seen from the other side', async () => {
		const result = await compare('extra_layer.gds', 'base.gds');
		expect(layer(result, '5/0')).toMatchObject({status: 'only-in-a', countA: 2, countB: 0, xorCount: 2});
	});

	test('a change in a cell placed ten times: ten differences, the hierarchy kept in the XOR layout', async () => {
		const result = await compare('base.gds', 'via_changed.gds', {mode: 'deep'});
		expect(layer(result, '4/0')).toMatchObject({status: 'different', xorCount: 10, xorArea: 2.5, mode: 'deep'});
		const {layout, rdb} = await inspect({layout: result.artifacts.xor, rdb: result.artifacts.rdb});
		expect(layout!.cells).toEqual(['CHIP', 'VIA']);
		expect(layout!.layers['4/0']).toEqual({polygons: 10, area: 2.5});
		expect(rdb!.categories['4/0']!.items).toBe(10);
	});

	test('the marker database is capped per layer and says how many were left out', async () => {
		const result = await compare('base.gds', 'via_changed.gds', {maxMarkers: 3});
		expect(layer(result, '4/0')).toMatchObject({xorCount: 10, markers: 3, markersOmitted: 7});
		const {rdb} = await inspect({rdb: result.artifacts.rdb});
		expect(rdb!.items).toHaveLength(3);
		expect(rdb!.categories['4/0']!.description).toMatch(/7 more not listed/);
	});

	test('a sub-tolerance sliver: a difference without tolerance, a reported sliver with it', async () => {
		const strict = await compare('base.gds', 'sliver.gds');
		expect(layer(strict, '1/0')).toMatchObject({status: 'different', xorCount: 1, xorArea: 0.08, sliverCount: 0});
		const tolerant = await compare('base.gds', 'sliver.gds', {tolerance: 0.01});
		expect(tolerant.identical).toBe(true);
		expect(tolerant.artifacts).toEqual({xor: null, rdb: null});
		expect(layer(tolerant, '1/0')).toMatchObject({status: 'same', xorCount: 0, sliverCount: 1, sliverArea: 0.08});
		const tooSmall = await compare('base.gds', 'sliver.gds', {tolerance: 0.002});
		expect(layer(tooSmall, '1/0')).toMatchObject({xorCount: 1, sliverCount: 0});
	});

	test('slivers next to a real difference are listed apart in the marker database', async () => {
		const result = await compare('sliver.gds', 'one_shape.gds', {tolerance: 0.01});
		expect(layer(result, '1/0')).toMatchObject({xorCount: 1, sliverCount: 1});
		const {rdb} = await inspect({rdb: result.artifacts.rdb});
		expect(Object.keys(rdb!.categories).sort()).toEqual(['1/0', '1/0 below tolerance']);
	});

	test('several top cells pair by name; the unpaired ones of each side are compared with each other', async () => {
		const result = await compare('multi_top_a.gds', 'multi_top_b.gds');
		expect(result.topCells).toEqual([
			{a: 'CHIP', b: 'CHIP', status: 'compared'},
			{a: 'EXTRA_A', b: 'EXTRA_B', status: 'compared', unpaired: {a: ['EXTRA_A'], b: ['EXTRA_B']}},
		]);
		expect(result.differentLayers).toBe(1);
		expect(layer(result, '6/0')).toMatchObject({status: 'different', countA: 1, countB: 1, xorCount: 2, xorArea: 17});
		const {layout} = await inspect({layout: result.artifacts.xor});
		expect(layout!.topCells).toEqual(['EXTRA_A']);
	});

	describe('a renamed design top beside unchanged test-structure tops', () => {
		const tempDirs = useTempDirs('lyipc-one-top-');
		// strmxor needs one top cell: on copies with every top placed in one, it XORs them all flat.
		async function flatXor(a: string, b: string) {
			return flatXorOfAllTops(fixture(a), fixture(b), await tempDirs());
		}

		const differing = (result: CompareResult) => Object.fromEntries(result.layers.filter(entry => entry.status !== 'same').map(entry => [entry.key, entry.xorCount]));
		const modeOptions = [{mode: 'auto'}, {mode: 'auto', structure: 'always'}, {mode: 'flat'}, {mode: 'deep'}, {mode: 'tiled', tileSize: 5}] as const;

		test.each([
			['renamed_design_b.gds', {}],
			['renamed_design_moved.gds', {'2/0': 1}],
			['renamed_design_split.gds', {}],
		] as const)('renamed_design_a.gds vs %s: every mode answers as a flat XOR of all top cells', async (b, expected) => {
			const oracle = await flatXor('renamed_design_a.gds', b);
			expect(oracle.layers).toEqual(expected);
			for (const options of modeOptions) {
				const result = await compare('renamed_design_a.gds', b, options);
				expect(differing(result), `${b} ${JSON.stringify(options)}`).toEqual(expected);
				expect(result.identical).toBe(oracle.identical);
				expect(result.layers).toHaveLength(9);
			}
		});

		test('the unpaired tops are named; the ones that pair by name are compared as before', async () => {
			const renamed = await compare('renamed_design_a.gds', 'renamed_design_moved.gds');
			expect(renamed.topCells).toEqual([
				...[1, 2, 3, 4].map(n => ({a: `TEST_${n}`, b: `TEST_${n}`, status: 'compared'})),
				{a: 'DESIGN_V1', b: 'DESIGN_V2', status: 'compared', unpaired: {a: ['DESIGN_V1'], b: ['DESIGN_V2']}},
			]);
			// The inputs' own top cells, not the cell that holds several of them for the comparison.
			expect(renamed.b.topCells!.sort()).toEqual(['DESIGN_V2', 'TEST_1', 'TEST_2', 'TEST_3', 'TEST_4']);
			expect(layer(renamed, '2/0')).toMatchObject({xorCount: 1, xorArea: 2, bbox: [10, 30, 11, 32]});
			const {layout, rdb} = await inspect({layout: renamed.artifacts.xor, rdb: renamed.artifacts.rdb});
			expect(layout!.topCells).toEqual(['DESIGN_V1']);
			expect(rdb!.items.map(item => item.cell)).toEqual(['DESIGN_V1']);

			const split = await compare('renamed_design_a.gds', 'renamed_design_split.gds');
			expect(split.topCells.at(-1)).toEqual({a: 'DESIGN_V1', b: 'DESIGN_V2+MARKS_V2', status: 'compared', unpaired: {a: ['DESIGN_V1'], b: ['DESIGN_V2', 'MARKS_V2']}});
			expect(split.b.topCells!.sort()).toEqual(['DESIGN_V2', 'MARKS_V2', 'TEST_1', 'TEST_2', 'TEST_3', 'TEST_4']);
			// The other way round: two unpaired tops of A against one of B.
			const back = await compare('renamed_design_split.gds', 'renamed_design_a.gds');
			expect(back).toMatchObject({identical: true, topCells: expect.arrayContaining([expect.objectContaining({a: 'DESIGN_V2+MARKS_V2', b: 'DESIGN_V1'})])});
		});
	});

	test('--top-a / --top-b choose the cells; a named cell of A finds its partner in B by name', async () => {
		const chosen = await compare('multi_top_a.gds', 'multi_top_b.gds', {topA: 'EXTRA_A', topB: 'EXTRA_B'});
		expect(chosen.topCells).toEqual([{a: 'EXTRA_A', b: 'EXTRA_B', status: 'compared'}]);
		expect(chosen.layers.map(entry => entry.key)).toEqual(['6/0']);
		const byName = await compare('multi_top_a.gds', 'multi_top_b.gds', {topA: 'CHIP'});
		expect(byName).toMatchObject({identical: true, topCells: [{a: 'CHIP', b: 'CHIP', status: 'compared'}]});
		const sub = await compare('base.gds', 'via_changed.gds', {topA: 'VIA'});
		expect(statuses(sub)).toEqual({'3/0': 'same', '4/0': 'different'});
	});

	test('a top cell that does not exist, or cannot be paired', async () => {
		await expect(compare('base.gds', 'one_shape.gds', {topB: 'NOPE'})).rejects.toMatchObject({
			code: 'TOP_CELL_NOT_FOUND',
			path: fixture('one_shape.gds'),
			message: expect.stringMatching(/one_shape\.gds: no cell named 'NOPE' in layout B \(--top-b; top cells: CHIP\)/),
		});
		await expect(compare('base.gds', 'multi_top_b.gds', {topA: 'VIA'})).resolves.toMatchObject({topCells: [{a: 'VIA', b: 'VIA'}]});
		await expect(compare('renamed_top.gds', 'multi_top_b.gds', {topA: 'CHIP_RENAMED'})).rejects.toMatchObject({
			code: 'TOP_CELL_AMBIGUOUS',
			message: expect.stringMatching(/multi_top_b\.gds: layout B has no cell 'CHIP_RENAMED' and 2 top cells \(CHIP, EXTRA_B\); name one with --top-b/),
		});
	});

	test('--layers and --ignore-layers', async () => {
		const only = await compare('base.gds', 'extra_layer.gds', {layers: ['1/0,5']});
		expect(only.layers.map(entry => entry.key)).toEqual(['1/0', '5/0']);
		const ignoring = await compare('base.gds', 'extra_layer.gds', {ignoreLayers: ['5/0']});
		expect(ignoring.identical).toBe(true);
		expect(ignoring.layers.map(entry => entry.key)).toEqual(BASE_LAYERS);
	});

	test('a corrupt file is a READ_ERROR naming it; nothing is left behind', async () => {
		const outDir = path.join(await tempDir(), 'out');
		await expect(compareLayouts(fixture('base.gds'), fixture('truncated.gds'), {worker, outDir})).rejects.toMatchObject({
			code: 'READ_ERROR',
			path: fixture('truncated.gds'),
			message: expect.stringMatching(/truncated\.gds: cannot read layout B: Unexpected end-of-file/),
		});
		await expect(readdir(outDir)).rejects.toMatchObject({code: 'ENOENT'});
		expect(worker.alive).toBe(true);
	});

	test('the widest difference per layer, the same in every mode; slivers only, and the tolerance that passes them', async () => {
		const widths = (result: CompareResult) => Object.fromEntries(result.layers.map(entry => [entry.key, [entry.maxWidth, entry.maxWidthExact, entry.sliversOnly]]));
		for (const options of [{mode: 'auto'}, {mode: 'auto', structure: 'always'}, {mode: 'flat'}, {mode: 'deep'}, {mode: 'tiled', tileSize: 3}] as const) {
			const at = JSON.stringify(options);
			// A 2 x 3 um box: its shorter side. A layer without differences is not measured.
			expect(widths(await compare('base.gds', 'one_shape.gds', options)), at).toEqual({
				'1/0': [2, true, false],
				'2/0': [null, null, false],
				'3/0': [null, null, false],
				'4/0': [null, null, false],
			});
			// Everything moved by 1 um: the octagon's crescents (all-angle) 1 um wide, the path's
			// vertical leg against its moved copy one 2 um band; the vias (in a cell) 1 um.
			expect(widths(await compare('base.gds', 'base_shifted.gds', options)), at).toEqual({'1/0': [1, true, false], '2/0': [1, true, false], '3/0': [2, true, false], '4/0': [1, true, false]});
			// A 4 nm sliver: slivers only.
			expect(widths(await compare('base.gds', 'sliver.gds', options))['1/0'], at).toEqual([0.004, true, true]);
		}

		// The tolerance the summary suggests for a 4 nm sliver (0.005 um) passes it.
		const passed = await compare('base.gds', 'sliver.gds', {tolerance: 0.005});
		expect(passed.identical).toBe(true);
		expect(layer(passed, '1/0')).toMatchObject({sliverCount: 1, maxWidth: null, sliversOnly: false});
		// A change in a cell placed 90,000 times, measured on deep mode's hierarchy and flat.
		for (const mode of ['deep', 'flat'] as const) {
			expect(layer(await compare('placed_very_often_a.gds', 'placed_very_often_b.gds', {mode}), '1/0')).toMatchObject({maxWidth: 0.5, maxWidthExact: true});
		}

		// A layer in one file only is no XOR: not measured.
		expect(layer(await compare('base.gds', 'extra_layer.gds'), '5/0')).toMatchObject({status: 'only-in-b', maxWidth: null, maxWidthExact: null, sliversOnly: false});
	});

	test('the widest of thousands of curved many-vertex differences is found, not cut short at a few dbu', async () => {
		// Photonic bends (quarter rings of 0.5 um, 360 vertices), in B every radius 0.3 um larger:
		// thousands of 0.3 um curved strips, among them one quarter ring 3 um wide in B only.
		const dir = await tempDir();
		await runKLayoutScript(dir, MAKE_WIDE_AMONG_BENDS);
		const result = await compareLayouts(path.join(dir, 'a.gds'), path.join(dir, 'b.gds'), {worker, outDir: await tempDir()});
		const core = layer(result, '1/0');
		expect(core.xorCount).toBeGreaterThan(2000);
		// Measured within a sixteenth on all-angle edges, or, where the machine has no time for the
		// first large shrink, the ring's area/perimeter bound (2.907 um) as a lower bound. Before,
		// the search shrank every strip step by step from 5 dbu and ran out of its time at 6 nm.
		expect(core.sliversOnly).toBe(false);
		expect(core.maxWidth).toBeGreaterThan(3 * (15 / 16));
		expect(core.maxWidth).toBeLessThan(core.maxWidthExact ? 3 * (17 / 16) : 3);
	}, 60_000);

	test('every mode gives the same answer as the others, layer by layer', async () => {
		const pairs = [
			['identical_a.gds', 'identical_b.gds'],
			['base.gds', 'one_shape.gds'],
			['base.gds', 'extra_layer.gds'],
			['base.gds', 'base_flat.gds'],
			['base.gds', 'dbu_0p5nm.gds'],
			['base.gds', 'via_changed.gds'],
			['base.gds', 'sliver.gds'],
			['multi_top_a.gds', 'multi_top_b.gds'],
			['base.gds', 'refractured.gds'],
			['base.gds', 'array_exploded.gds'],
			['moved_into_child_a.gds', 'moved_into_child_b.gds'],
			['placed_twice_a.gds', 'placed_twice_b.gds'],
			['base.gds', 'zero_area_layer.gds'],
			['overlapping_placements_a.gds', 'overlapping_placements_b.gds'],
		] as const;
		for (const [a, b] of pairs) {
			const answers = [];
			for (const options of [{mode: 'deep'}, {mode: 'flat'}, {mode: 'tiled', tileSize: 1}, {mode: 'auto', structure: 'always'}] as const) {
				const result = await compare(a, b, options);
				if (options.mode !== 'auto') {
					expect(new Set(result.layers.map(entry => entry.mode))).toEqual(new Set([options.mode]));
				}

				answers.push(result.layers.map(entry => ({key: entry.key, status: entry.status, xorCount: entry.xorCount, xorArea: entry.xorArea, bbox: entry.bbox})));
			}

			expect(answers[1], `${a} vs ${b}: flat vs deep`).toEqual(answers[0]);
			expect(answers[2], `${a} vs ${b}: tiled vs deep`).toEqual(answers[0]);
			expect(answers[3], `${a} vs ${b}: auto vs deep`).toEqual(answers[0]);
		}
	});

	const modes = (result: CompareResult) => Object.fromEntries(result.layers.map(entry => [entry.key, entry.mode]));

	test('auto: unchanged layers cost only the structural diff, changed ones an XOR in windows around the changes', async () => {
		// These layouts are small: by default auto XORs them in full; `always` runs the structural diff.
		const compare = async (a: string, b: string, options: CompareOptions = {}) => compareLayouts(fixture(a), fixture(b), {worker, outDir: await tempDir(), structure: 'always', ...options});
		expect((await compareLayouts(fixture('base.gds'), fixture('one_shape.gds'), {worker, outDir: await tempDir()})).modesUsed).toEqual(['flat']);
		for (const [a, b, options] of [
			['identical_a.gds', 'identical_b.gds', {}],
			['base.gds', 'base.oas', {}],
			['base.gds', 'renamed_top.gds', {}],
			['base.gds', 'identical_b.gds', {topA: 'CHIP'}],
			// An array against its members placed one by one, in a renamed cell: the same structure.
			['base.gds', 'array_exploded.gds', {}],
		] as const) {
			const result = await compare(a, b, options);
			expect(result.identical, `${a} vs ${b}`).toBe(true);
			expect(result.modesUsed, `${a} vs ${b}`).toEqual(['structural']);
		}

		const one = await compare('base.gds', 'one_shape.gds');
		expect(modes(one)).toEqual({'1/0': 'windowed', '2/0': 'structural', '3/0': 'structural', '4/0': 'structural'});
		expect(layer(one, '1/0')).toMatchObject({status: 'different', xorCount: 1, xorArea: 6, bbox: [20, 20, 22, 23], windows: 1, fallback: null});
		expect(one.artifacts.xor).not.toBeNull();

		// A change inside a cell is mapped through each of its ten placements.
		const via = await compare('base.gds', 'via_changed.gds');
		expect(modes(via)).toEqual({'1/0': 'structural', '2/0': 'structural', '3/0': 'structural', '4/0': 'windowed'});
		expect(layer(via, '4/0')).toMatchObject({xorCount: 10, xorArea: 2.5, windows: 10});

		// Boxes split in two, a polygon as trapezoids, a path as a polygon: changes to the
		// structural diff, none to the XOR in their windows.
		const refractured = await compare('base.gds', 'refractured.gds');
		expect(refractured.identical).toBe(true);
		expect(layer(refractured, '1/0')).toMatchObject({mode: 'windowed', status: 'same', xorCount: 0});
		expect(layer(refractured, '3/0')).toMatchObject({status: 'same', xorCount: 0});
	});

	test('auto: a layer holding the same polygons once flattened needs no boolean; any other drawing of it gets one', async () => {
		const reasons = (result: CompareResult) => Object.fromEntries(result.layers.map(entry => [entry.key, [entry.mode, entry.status, entry.modeReason]]));
		const same = 'flattened, A and B hold the same polygons: no boolean needed';
		// The 3x3 array against its flattened copy: every layer the same polygons, in other cells.
		expect(reasons(await compare('base.gds', 'base_flat.gds'))).toEqual(Object.fromEntries(BASE_LAYERS.map(key => [key, ['flat', 'same', same]])));
		// Boxes split in two (1/0) and a polygon cut into trapezoids (2/0) need the boolean; boxes
		// redrawn as polygons (3/0) are the same polygons to KLayout.
		const refractured = reasons(await compare('base.gds', 'refractured.gds'));
		expect(refractured['1/0']).toEqual(['flat', 'same', '9 shapes: one flat boolean']);
		expect(refractured['2/0']?.[2]).toMatch(/^\d+ shapes: one flat boolean$/);
		expect(refractured['3/0']).toEqual(['flat', 'same', same]);
		// Same counts and extent, other polygons: the boolean decides (one box 1 um wider).
		expect(reasons(await compare('base.gds', 'widened.gds'))['1/0']).toEqual(['flat', 'different', '8 shapes: one flat boolean']);
		// Forced modes always run their engine.
		expect(reasons(await compare('base.gds', 'base_flat.gds', {mode: 'flat'}))['1/0']).toEqual(['flat', 'same', 'requested']);
	});

	test('auto falls back to a full XOR, and says why, where windows would not pay or cannot be drawn', async () => {
		const compare = async (a: string, b: string, options: CompareOptions = {}) => compareLayouts(fixture(a), fixture(b), {worker, outDir: await tempDir(), structure: 'always', ...options});
		// A change in a cell placed 22,500 times: a flat XOR of 45,000 boxes beats deep mode's set-up.
		const often = await compare('placed_often_a.gds', 'placed_often_b.gds');
		expect(layer(often, '1/0')).toMatchObject({mode: 'flat', xorCount: 22_500, xorArea: 11_250, windows: null});
		expect(layer(often, '1/0').fallback).toBe('a change in cell UNIT, which is placed 22,500 times');
		expect(layer(often, '2/0')).toMatchObject({mode: 'structural', fallback: null});
		// Placed 90,000 times: deep mode handles the cell once; counts are merged polygons as in flat mode.
		const veryOften = await compare('placed_very_often_a.gds', 'placed_very_often_b.gds');
		expect(layer(veryOften, '1/0')).toMatchObject({mode: 'deep', xorCount: 90_000, xorArea: 45_000, fallback: 'a change in cell UNIT, which is placed 90,000 times'});
		const veryOftenFlat = await compare('placed_very_often_a.gds', 'placed_very_often_b.gds', {mode: 'flat'});
		expect(layer(veryOftenFlat, '1/0')).toMatchObject({xorCount: 90_000, xorArea: 45_000, bbox: layer(veryOften, '1/0').bbox});

		// A changed cell placed (one by one) about as often as the layer has shapes: mapping its box
		// through every placement costs more than a full XOR; a few hundred placements still pay.
		const dir = await tempDir();
		await runKLayoutScript(dir, MAKE_PLACED_PER_SHAPE);
		for (const [times, mode, fallback] of [
			[1500, 'flat', '3,000 changed boxes placed in the top for 3,000 flat shapes: a full XOR costs less'],
			[400, 'windowed', null],
		] as const) {
			const result = await compareLayouts(path.join(dir, `a${times}.gds`), path.join(dir, `b${times}.gds`), {worker, outDir: await tempDir(), structure: 'always'});
			expect(layer(result, '1/0')).toMatchObject({mode, fallback, xorCount: times, xorArea: times * 0.25});
		}

		// Everything moved by 1 nm: no windows, but the array's layer is so repetitive that deep
		// mode handles its one stored box; its counts are merged polygons as if flat.
		const moved = await compare('array_shifted_a.gds', 'array_shifted_b.gds');
		expect(layer(moved, '1/0')).toMatchObject({mode: 'deep', modeReason: 'hierarchical: 2 stored shapes stand for 1125000', fallback: "changes spread over 100% of the layer's extent"});
		expect(layer(moved, '2/0')).toMatchObject({mode: 'flat', xorCount: 4});
		const movedFlat = await compare('array_shifted_a.gds', 'array_shifted_b.gds', {mode: 'flat'});
		expect(layer(moved, '1/0')).toMatchObject({xorCount: 1_125_000, xorArea: 1125, bbox: layer(movedFlat, '1/0').bbox});
		expect(moved.layers.map(entry => [entry.key, entry.xorCount, entry.xorArea, entry.bbox])).toEqual(movedFlat.layers.map(entry => [entry.key, entry.xorCount, entry.xorArea, entry.bbox]));

		const shifted = await compare('base.gds', 'base_shifted.gds');
		expect(shifted.layers.some(entry => /^changes spread over \d+% of the layer's extent$/.test(entry.fallback ?? ''))).toBe(true);
		const flat = await compare('base.gds', 'base_shifted.gds', {mode: 'flat'});
		expect(shifted.layers.map(entry => [entry.key, entry.xorArea])).toEqual(flat.layers.map(entry => [entry.key, entry.xorArea]));

		for (const [a, b, key, why] of [
			['base.gds', 'dbu_0p5nm.gds', '1/0', 'the database units differ (0.001 and 0.0005 um)'],
			['multi_top_a.gds', 'base.gds', '1/0', 'top cell EXTRA_A has no partner'],
		] as const) {
			expect(layer(await compare(a, b), key).fallback, `${a} vs ${b}`).toBe(why);
		}

		// A layer in one file only needs no XOR: every shape of it is a difference.
		expect(layer(await compare('base.gds', 'extra_layer.gds'), '5/0')).toMatchObject({
			status: 'only-in-b',
			mode: 'flat',
			modeReason: 'in layout B only: each of its shapes is a difference',
			fallback: null,
			xorCount: 2,
		});

		// Forced modes never look at the structure.
		const forced = await compare('placed_often_a.gds', 'placed_often_b.gds', {mode: 'flat'});
		expect(forced.layers.map(entry => [entry.mode, entry.fallback])).toEqual([
			['flat', null],
			['flat', null],
		]);
	});

	test('a restructured cell tree is never taken for the same: tops paired with each other, every cell accounted for', async () => {
		const compare = async (a: string, b: string, options: CompareOptions = {}) => compareLayouts(fixture(a), fixture(b), {worker, outDir: await tempDir(), ...options});
		// A's top holds S; B places S three times from a child cell (mirrored, rotated), without the top's copy.
		const moved = await compare('moved_into_child_a.gds', 'moved_into_child_b.gds', {structure: 'always'});
		expect(moved.identical).toBe(false);
		expect(moved.layers.map(entry => [entry.key, entry.status, entry.mode, entry.countA, entry.countB])).toEqual([
			['1/0', 'different', 'windowed', 2, 6],
			['2/0', 'different', 'windowed', 2, 6],
			['3/0', 'different', 'windowed', 2, 6],
		]);
		const movedFlat = await compare('moved_into_child_a.gds', 'moved_into_child_b.gds', {mode: 'flat'});
		expect(moved.layers.map(entry => [entry.xorCount, entry.xorArea, entry.bbox])).toEqual(movedFlat.layers.map(entry => [entry.xorCount, entry.xorArea, entry.bbox]));
		// A places C twice; B's top is flat and holds C's shapes once: one copy is missing.
		const twice = await compare('placed_twice_a.gds', 'placed_twice_b.gds', {structure: 'always'});
		const twiceFlat = await compare('placed_twice_a.gds', 'placed_twice_b.gds', {mode: 'flat'});
		expect(twice.layers.map(entry => [entry.key, entry.status, entry.countA, entry.countB])).toEqual([
			['1/0', 'different', 4, 2],
			['2/0', 'different', 4, 2],
			['3/0', 'different', 4, 2],
		]);
		expect(twice.layers.map(entry => [entry.xorCount, entry.xorArea])).toEqual(twiceFlat.layers.map(entry => [entry.xorCount, entry.xorArea]));
	});

	test('zero-area shapes on a layer in one file only are differences; the verdict, the table and the counts agree', async () => {
		for (const options of [{mode: 'auto'}, {mode: 'auto', structure: 'always'}, {mode: 'flat'}, {mode: 'deep'}, {mode: 'tiled'}] as const) {
			const result = await compareLayouts(fixture('base.gds'), fixture('zero_area_layer.gds'), {worker, outDir: await tempDir(), ...options});
			expect(result.identical, JSON.stringify(options)).toBe(false);
			expect(result.differentLayers).toBe(1);
			expect(layer(result, '7/0')).toMatchObject({status: 'only-in-b', countA: 0, countB: 2, xorCount: 2, xorArea: 0, bbox: [0, 41, 40, 45]});
		}
	});

	test('tiled mode heals differences cut by tile borders', async () => {
		const result = await compare('base.gds', 'one_shape.gds', {mode: 'tiled', tileSize: 0.5});
		expect(layer(result, '1/0')).toMatchObject({xorCount: 1, xorArea: 6, tileSize: 0.5});
	});

	test('all of this ran in one KLayout process', async () => {
		expect(worker.alive).toBe(true);
		expect(await worker.request('hello')).toMatchObject({pid: worker.pid});
	});
});

describeKLayout('compareLayouts on bad input: a coded LyipcError, nothing left behind', () => {
	const tempDir = useTempDirs();

	test.each([
		['a missing file', 'missing.gds', 'base.gds', {}, 'INPUT_NOT_FOUND', /missing\.gds \(A\): no such file/],
		['a directory', '.', 'base.gds', {}, 'INPUT_NOT_FILE', /is a directory/],
		['an empty file', 'base.gds', 'empty.gds', {}, 'INPUT_EMPTY', /empty\.gds \(B\): file is empty/],
		['a text file named .gds', 'not_layout.gds', 'base.gds', {}, 'INPUT_NOT_LAYOUT', /not_layout\.gds \(A\): not a GDSII or OASIS file/],
		['a truncated GDS', 'truncated.gds', 'base.gds', {}, 'READ_ERROR', /truncated\.gds: cannot read layout A: Unexpected end-of-file/],
		['KLayout missing', 'base.gds', 'one_shape.gds', {klayout: '/nonexistent/klayout'}, 'KLAYOUT_NOT_FOUND', /--klayout \/nonexistent\/klayout: not an executable file/],
		['KLayout too old', 'base.gds', 'one_shape.gds', {klayout: path.join(FAKE_KLAYOUT, 'too-old')}, 'KLAYOUT_TOO_OLD', /0\.27\.8 .* is too old/],
		['KLayout crashing', 'base.gds', 'one_shape.gds', {klayout: path.join(FAKE_KLAYOUT, 'crash-on-job')}, 'WORKER_DIED', /comparing .* the KLayout worker died \(killed by SIGSEGV\)/],
		['a timeout', 'base.gds', 'one_shape.gds', {timeout: 1}, 'TIMEOUT', /took longer than the timeout \(0\.001 s\); KLayout was stopped/],
		['a bad option', 'base.gds', 'one_shape.gds', {tolerance: -1}, 'USAGE', /tolerance must be a number >= 0/],
	] as const)('%s', async (_name, a, b, options, code, message) => {
		const outDir = path.join(await tempDir(), 'out');
		const file = (name: string) => (name === 'missing.gds' || name === '.' ? name : fixture(name));
		const error = await compareLayouts(file(a), file(b), {outDir, ...options}).catch((error_: unknown) => error_);
		expect(error).toMatchObject({name: 'LyipcError', code});
		expect((error as Error).message).toMatch(message);
		await expect(readdir(outDir)).rejects.toMatchObject({code: 'ENOENT'});
	});
});
