import {describe, expect, test} from 'vitest';
import {COLOR, pickStyle, PLAIN} from '../../src/format/style.js';
import {formatSummary} from '../../src/format/summary.js';
import type {CompareResult} from '../../src/xor/result.js';
import {layer, result} from '../helpers/results.js';
import {CONTEXT_SKIPPED} from '../helpers/newer-klayout.js';

describe('formatSummary', () => {
	test('a file read without its context meta data: said beside it, in yellow on a terminal', () => {
		const base = result({});
		const noted = {...base, b: {...base.b, readNote: CONTEXT_SKIPPED}};
		const text = formatSummary(noted, PLAIN, {cwd: '/w'});
		expect(text.split('\n').slice(0, 2)).toEqual(['A  ref/ring.gds   dbu 0.001 µm', `B  out/ring.gds   dbu 0.001 µm   ${CONTEXT_SKIPPED}`]);
		expect(formatSummary(noted, COLOR, {cwd: '/w'})).toContain(`\u001B[33m${CONTEXT_SKIPPED}\u001B[39m`);
	});

	test('a difference: paths relative to the cwd, aligned table, verdict, artifacts, a command to view them', () => {
		const text = formatSummary(
			result({
				status: 'different',
				identical: false,
				differentLayers: 2,
				modesUsed: ['deep', 'structural', 'windowed'],
				layers: [
					layer('1/0', {countA: 1_800_000, countB: 1_800_000, mode: 'deep', fallback: 'a change in cell UNIT, which is placed 90,000 times'}),
					layer('2/0', {countA: 5, countB: 5, mode: 'structural'}),
					layer('4/0', {status: 'different', countA: 450_000, countB: 450_001, xorCount: 1, xorArea: 0.015, bbox: [20, 20, 20.1, 20.15], mode: 'windowed', windows: 1, markers: 1}),
					layer('5/0', {status: 'only-in-b', countA: 0, countB: 2000, xorCount: 1500, xorArea: 12_345.678, bbox: [-100, 0, 250.5, 300], mode: 'flat', markers: 1000, markersOmitted: 500}),
				],
				artifacts: {xor: '/tmp/x y/ring.xor.gds', rdb: '/tmp/x y/ring.xor.lyrdb'},
			}),
			PLAIN,
			{cwd: '/w', verbose: true},
		);
		expect(text).toBe(
			[
				'A  ref/ring.gds   dbu 0.001 µm',
				'B  out/ring.gds   dbu 0.001 µm',
				'top cell: RING',
				'engine: auto: 1 layer unchanged shape for shape, no XOR needed; 1 layer XORed only around the changes (1 window); 1 layer in one file only, every shape a difference; full XOR: deep (1 layer)',
				'  full XOR on 1/0: a change in cell UNIT, which is placed 90,000 times',
				'',
				'layer   A shapes   B shapes    XOR  area µm²  max width  where (µm)                   status',
				'1/0    1,800,000  1,800,000      0                                                    same',
				'2/0            5          5      0                                                    same',
				'4/0      450,000    450,001      1     0.015             x 20 .. 20.1, y 20 .. 20.15  different',
				'5/0            -      2,000  1,500    12,346             x -100 .. 250.5, y 0 .. 300  only in B',
				'',
				'different: 2 of 4 layers differ',
				'marker database lists 1,000 of 1,500 differences on 5/0 (--max-markers; 20,000 in all)',
				'XOR layout:      /tmp/x y/ring.xor.gds',
				'marker database: /tmp/x y/ring.xor.lyrdb',
				"view: klayout '/tmp/x y/ring.xor.gds' -m '/tmp/x y/ring.xor.lyrdb'",
				'',
			].join('\n'),
		);
	});

	test('without --verbose: no engine lines, the area and place of each change', () => {
		const text = formatSummary(
			result({
				status: 'different',
				identical: false,
				differentLayers: 1,
				layers: [layer('1/0', {}), layer('4/0', {status: 'different', xorCount: 3, xorArea: 2.5, bbox: [1, 2, 3, 4], mode: 'windowed', windows: 1})],
			}),
			PLAIN,
			{cwd: '/w'},
		);
		expect(text).not.toContain('engine');
		expect(text).toMatch(/^4\/0 +10 +10 +3 +2\.5 +x 1 \.\. 3, y 2 \.\. 4 +different$/m);
		expect(text).toContain('different: 1 of 2 layers differs');
	});

	test('top cells without a partner by name: a rename, or what each side holds alone', () => {
		const tops = (topCells: CompareResult['topCells']) =>
			formatSummary(result({topCells}), PLAIN, {cwd: '/w'})
				.split('\n')
				.filter(line => line.startsWith('top'));
		expect(
			tops([
				{a: 'TEST_1', b: 'TEST_1', status: 'compared'},
				{a: 'Ebeam_x_v1', b: 'Ebeam_x_v2', status: 'compared', unpaired: {a: ['Ebeam_x_v1'], b: ['Ebeam_x_v2']}},
			]),
		).toEqual(['top cell: TEST_1', 'top renamed: Ebeam_x_v1 → Ebeam_x_v2']);
		expect(tops([{a: 'X+Y', b: 'Z', status: 'compared', unpaired: {a: ['X', 'Y'], b: ['Z']}}])).toEqual(['tops without a partner, compared as one: A only: X, Y; B only: Z']);
		expect(tops([{a: 'CHIP', b: 'CHIP_RENAMED', status: 'compared'}])).toEqual(['top cells: CHIP (A) vs CHIP_RENAMED (B)']);
	});

	test('the widest difference per layer; a layer of slivers only is named with the --tolerance that passes them', () => {
		const text = formatSummary(
			result({
				status: 'different',
				identical: false,
				differentLayers: 3,
				layers: [
					layer('1/0', {status: 'different', xorCount: 2, xorArea: 0.04, bbox: [2, 10, 2.002, 30], maxWidth: 0.002, maxWidthExact: true, sliversOnly: true}),
					layer('2/0', {status: 'different', xorCount: 1, xorArea: 6, bbox: [20, 20, 22, 23], maxWidth: 2, maxWidthExact: true}),
					layer('3/0', {status: 'different', xorCount: 9, xorArea: 600, bbox: [0, 0, 50, 50], maxWidth: 0.041, maxWidthExact: false}),
					layer('4/0', {}),
				],
			}),
			PLAIN,
			{cwd: '/w'},
		);
		expect(text).toContain(
			[
				'layer  A shapes  B shapes  XOR  area µm²  max width  where (µm)                status',
				'1/0          10        10    2      0.04       2 nm  x 2 .. 2.002, y 10 .. 30  different',
				'2/0          10        10    1         6       2 µm  x 20 .. 22, y 20 .. 23    different',
				'3/0          10        10    9       600    ≥ 41 nm  x 0 .. 50, y 0 .. 50      different',
				'4/0          10        10    0                                                 same',
			].join('\n'),
		);
		expect(text).toContain('different: 3 of 4 layers differ\n1/0: slivers only, widest 2 nm (--tolerance 0.003 passes them)\n');
		expect(text.match(/slivers only/g)).toHaveLength(1);
	});

	test('a forced mode names only its engine', () => {
		const text = formatSummary(result({mode: 'tiled', layers: [layer('1/0', {mode: 'tiled'}), layer('2/0', {mode: 'tiled'})]}), PLAIN, {cwd: '/w', verbose: true});
		expect(text).toContain('\nengine: tiled (2 layers)\n');
	});

	test('byte-identical: no table, says KLayout was not needed', () => {
		const text = formatSummary(result({fastPath: 'byte-identical', layers: [], topCells: []}), PLAIN, {cwd: '/elsewhere', verbose: true});
		expect(text).toBe('A  /w/ref/ring.gds   dbu 0.001 µm\nB  /w/out/ring.gds   dbu 0.001 µm\n\nidentical: the files are byte-identical (KLayout not needed)\n');
	});

	test('colour marks the verdict and statuses', () => {
		const text = formatSummary(result({status: 'different', identical: false, differentLayers: 1, layers: [layer('1/0', {status: 'different', xorCount: 2})]}), COLOR, {cwd: '/w', verbose: true});
		expect(text).toContain('\u001B[31mdifferent\u001B[39m');
		expect(text).toContain('\u001B[31m\u001B[1mdifferent\u001B[22m\u001B[39m: 1 of 1 layer differs');
	});
});

describe('pickStyle', () => {
	const tty = {isTTY: true} as NodeJS.WriteStream;
	const pipe = {isTTY: false} as NodeJS.WriteStream;
	test('colour on a terminal only, off with NO_COLOR or TERM=dumb, forced with FORCE_COLOR', () => {
		expect(pickStyle(tty, {})).toBe(COLOR);
		expect(pickStyle(pipe, {})).toBe(PLAIN);
		expect(pickStyle(tty, {NO_COLOR: '1'})).toBe(PLAIN);
		expect(pickStyle(tty, {TERM: 'dumb'})).toBe(PLAIN);
		expect(pickStyle(pipe, {FORCE_COLOR: '1'})).toBe(COLOR);
		expect(pickStyle(tty, {FORCE_COLOR: '0'})).toBe(COLOR);
	});
});
