import {describe, expect, test} from 'vitest';
import {normalizeXorOptions, parseLayerList, parseLayerSpec} from '../../src/xor/options.js';

describe('layer specs', () => {
	test('LAYER/DATATYPE and bare LAYER', () => {
		expect(parseLayerSpec('1/0')).toEqual({layer: 1, datatype: 0});
		expect(parseLayerSpec(' 63/44 ')).toEqual({layer: 63, datatype: 44});
		expect(parseLayerSpec('5')).toEqual({layer: 5, datatype: undefined});
	});

	test('a comma list, with spaces and a trailing comma', () => {
		expect(parseLayerList('1/0, 2/0,5,')).toEqual([
			{layer: 1, datatype: 0},
			{layer: 2, datatype: 0},
			{layer: 5, datatype: undefined},
		]);
	});

	test.each(['', ',', 'a/0', '1/', '1/0/0', '-1/0', '70000/0', '1/70000', '1.5/0'])('refuses %j with a USAGE error', text => {
		expect(() => parseLayerList(text)).toThrow(expect.objectContaining({code: 'USAGE'}));
	});
});

describe('normalizeXorOptions', () => {
	test('defaults', () => {
		const options = normalizeXorOptions();
		expect(options).toMatchObject({tolerance: 0, layers: undefined, ignoreLayers: [], mode: 'auto', tileSize: undefined, maxMarkers: 1000, strictRead: false});
		expect(normalizeXorOptions({strictRead: true}).strictRead).toBe(true);
		expect(options.threads).toBeGreaterThanOrEqual(1);
	});

	test('layer lists given as strings or specs', () => {
		const options = normalizeXorOptions({layers: ['1/0,2', {layer: 3, datatype: 1}], ignoreLayers: ['7']});
		expect(options.layers).toEqual([
			{layer: 1, datatype: 0},
			{layer: 2, datatype: undefined},
			{layer: 3, datatype: 1},
		]);
		expect(options.ignoreLayers).toEqual([{layer: 7, datatype: undefined}]);
	});

	test.each([
		[{tolerance: -1}, /tolerance/],
		[{tolerance: Number.NaN}, /tolerance/],
		[{threads: 0}, /threads/],
		[{threads: 1.5}, /threads/],
		[{tileSize: 0}, /tile size/],
		[{tileSize: -3}, /tile size/],
		[{mode: 'fast' as never}, /mode/],
		[{maxMarkers: -1}, /max markers/],
		[{topA: ' '}, /top cell of A/],
		[{strictRead: 'yes' as never}, /strictRead must be true or false, got "yes"/],
	])('refuses %j', (options, message) => {
		expect(() => normalizeXorOptions(options)).toThrow(message);
	});
});
