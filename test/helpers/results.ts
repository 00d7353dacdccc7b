import type {CompareResult, LayerResult} from '../../src/xor/result.js';

/** A layer's result for report and summary tests: an unchanged layer of 10 shapes, `fields` over it. */
export function layer(key: string, fields: Partial<LayerResult>): LayerResult {
	const [l, d] = key.split('/').map(Number);
	return {
		layer: l!,
		datatype: d!,
		key,
		name: null,
		status: 'same',
		countA: 10,
		countB: 10,
		xorCount: 0,
		zeroAreaCount: 0,
		xorArea: 0,
		bbox: null,
		sliverCount: 0,
		sliverArea: 0,
		maxWidth: null,
		maxWidthExact: null,
		sliversOnly: false,
		mode: 'flat',
		modeReason: '',
		tileSize: null,
		windows: null,
		fallback: null,
		markers: 0,
		markersOmitted: 0,
		ms: 1,
		...fields,
	};
}

/** A single-pair result for report and summary tests: identical, one layer 1/0, `fields` over it. */
export function result(fields: Partial<CompareResult>): CompareResult {
	return {
		formatVersion: 1,
		status: 'identical',
		identical: true,
		differentLayers: 0,
		a: {path: '/w/ref/ring.gds', size: 1, format: 'gds', gzip: false, dbu: 0.001, topCells: ['RING'], readNote: null},
		b: {path: '/w/out/ring.gds', size: 1, format: 'gds', gzip: false, dbu: 0.001, topCells: ['RING'], readNote: null},
		dbu: 0.001,
		fastPath: null,
		mode: 'auto',
		modesUsed: ['flat'],
		tolerance: 0,
		topCells: [{a: 'RING', b: 'RING', status: 'compared'}],
		layers: [layer('1/0', {})],
		artifacts: {xor: null, rdb: null},
		timings: {totalMs: 1, startMs: 0, readMs: 0, structureMs: 0, xorMs: 0, writeMs: 0},
		klayout: null,
		...fields,
	};
}
