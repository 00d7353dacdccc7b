import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import {afterAll, beforeAll, expect, test} from 'vitest';
import {KLayoutWorker} from '../../src/engine/worker.js';
import {compareLayouts} from '../../src/xor/compare.js';
import {gdsLibrary, type GdsCell} from '../helpers/gds-records.mjs';
import {describeKLayout, useTempDirs} from '../helpers/run.js';

const box: GdsCell['boxes'] = [[1, 0, 0, 1000, 1000]];

/**
 * Layouts KLayout reads without complaint, or with only an assertion of its own, that no
 * comparison can use: each is a READ_ERROR naming the file and what is broken (INTERNAL is a bug).
 */
describeKLayout('layouts broken in ways KLayout does not report itself', () => {
	let worker: KLayoutWorker;
	const tempDir = useTempDirs('lyipc-broken-');
	beforeAll(async () => {
		worker = await KLayoutWorker.start();
	});
	afterAll(async () => {
		await worker.close();
	});

	test.each([
		['zero database units', {units: [0, 0], cells: [{name: 'TOP', boxes: box}]}, /its database unit is 0\.0; a layout needs a positive one/],
		['a zero user unit', {units: [0.001, 0], cells: [{name: 'TOP', boxes: box}]}, /its database unit is 0\.0/],
		['negative units', {units: [-0.001, -1e-9], cells: [{name: 'TOP', boxes: box}]}, /its database unit is -0\.001/],
		[
			'a placement magnified 0 times',
			{
				cells: [
					{name: 'C', boxes: box},
					{name: 'TOP', placements: [{cell: 'C', mag: 0}]},
				],
			},
			/a placement has a magnification of 0 or less/,
		],
		[
			'a placement magnified -2 times',
			{
				cells: [
					{name: 'C', boxes: box},
					{name: 'TOP', placements: [{cell: 'C', mag: -2}]},
				],
			},
			/a placement has a magnification of 0 or less/,
		],
		[
			'a placement magnified 10^12 times',
			{
				cells: [
					{name: 'C', boxes: box},
					{name: 'TOP', placements: [{cell: 'C', mag: 1e12}]},
				],
			},
			/its geometry reaches beyond KLayout's coordinate range/,
		],
		[
			'a database unit 10^30 times the other one',
			{units: [1e30, 1e21], cells: [{name: 'TOP', boxes: box}]},
			/on the other layout's database unit \(0\.001 um, its own is 1e\+27 um\) its coordinates reach beyond KLayout's range/,
		],
		['a cell name that is not UTF-8', {cells: [{name: Buffer.from([0x54, 0xff, 0xfe, 0x50]), boxes: box}]}, /cell #0 has a name that is not valid UTF-8/],
	] as const)('%s: READ_ERROR naming the file and the problem', async (_name, library, message) => {
		const dir = await tempDir();
		const good = path.join(dir, 'good.gds');
		const broken = path.join(dir, 'broken.gds');
		await writeFile(good, gdsLibrary({cells: [{name: 'TOP', boxes: [[1, 0, 0, 2000, 2000]]}]}));
		await writeFile(broken, gdsLibrary(library));
		const error = await compareLayouts(good, broken, {worker, outDir: path.join(dir, 'out')}).catch((error_: unknown) => error_);
		expect(error).toMatchObject({name: 'LyipcError', code: 'READ_ERROR', path: broken});
		expect((error as Error).message).toMatch(new RegExp(`broken\\.gds: cannot (read|compare) layout B: ${message.source}`));
	});

	test('a layout whose cell indices have a gap (an OASIS CELLNAME no cell uses) still compares', async () => {
		// KLayout makes a cell for each CELLNAME and drops the unused one: index 0 is then no cell.
		const string = (text: string) => Buffer.concat([Buffer.from([text.length]), Buffer.from(text, 'latin1')]);
		const oasis = Buffer.concat([
			Buffer.from('%SEMI-OASIS\r\n', 'latin1'),
			Buffer.from([0x01]), // START: version, unit 1000 per µm, table offsets here (none)
			string('1.0'),
			Buffer.from([0x00, 0xe8, 0x07, 0x00]),
			Buffer.alloc(12),
			Buffer.from([0x04]), // CELLNAME "UNUSED" as reference 1, "TOP" as 0
			string('UNUSED'),
			Buffer.from([0x01, 0x04]),
			string('TOP'),
			Buffer.from([0x00]),
			Buffer.from([0x0d, 0x00]), // CELL reference 0
			Buffer.from([0x14, 0x7b, 0x01, 0x00, 0xe8, 0x07, 0xe8, 0x07, 0x00, 0x00]), // RECTANGLE 1/0, 1 x 1 µm at 0,0
			Buffer.from([0x02]), // END, padded to 256 bytes, no validation
			Buffer.alloc(253, 0x80),
			Buffer.from([0x00, 0x00]),
		]);
		const dir = await tempDir();
		await writeFile(path.join(dir, 'gap.oas'), oasis);
		await writeFile(path.join(dir, 'box.gds'), gdsLibrary({cells: [{name: 'TOP', boxes: box}]}));
		const result = await compareLayouts(path.join(dir, 'box.gds'), path.join(dir, 'gap.oas'), {worker, outDir: path.join(dir, 'out')});
		expect(result).toMatchObject({identical: true, layers: [{key: '1/0', countA: 1, countB: 1, status: 'same'}]});
	});

	test('a magnified placement that is valid still compares', async () => {
		const dir = await tempDir();
		const cells = (mag: number) => [
			{name: 'C', boxes: box},
			{name: 'TOP', placements: [{cell: 'C', mag}]},
		];
		await writeFile(path.join(dir, 'a.gds'), gdsLibrary({cells: cells(2)}));
		await writeFile(path.join(dir, 'b.gds'), gdsLibrary({cells: cells(3)}));
		const result = await compareLayouts(path.join(dir, 'a.gds'), path.join(dir, 'b.gds'), {worker, outDir: path.join(dir, 'out')});
		expect(result.layers.find(layer => layer.key === '1/0')).toMatchObject({status: 'different', xorArea: 5});
	});
});
