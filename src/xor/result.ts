import type {ErrorCode} from '../errors.js';
import type {EngineMode} from './options.js';

/** Bumped when a field changes meaning or disappears; new fields do not bump it. */
export const RESULT_FORMAT_VERSION = 1;

export type LayerStatus = 'same' | 'different' | 'only-in-a' | 'only-in-b';
/**
 * What ran on a layer. Besides the full XOR engines, auto mode can answer `structural` (the
 * structural diff found nothing to XOR: the layer is identical shape for shape) and
 * `windowed` (XOR only in windows around the changes the structural diff found).
 */
export type UsedMode = Exclude<EngineMode, 'auto'> | 'structural' | 'windowed';

/** One layer/datatype present (with geometry) in A, B or both. Field by field: docs/result-format.md. */
export interface LayerResult {
	layer: number | null;
	datatype: number | null;
	/** "1/0", or the name of a name-only OASIS layer. */
	key: string;
	name: string | null;
	status: LayerStatus;
	/** Geometry shapes (texts excluded) in A, counted flat: an array of 100 counts 100 times. */
	countA: number;
	countB: number;
	/**
	 * Differences after the tolerance: merged difference polygons plus zero-area differences,
	 * the same definition in every mode; on a layer in one file only, its shapes as drawn.
	 */
	xorCount: number;
	/** Of `xorCount`, the zero-area differences (line segments one side covers and the other not). */
	zeroAreaCount: number;
	/** Area of the differences in µm² (on a layer in one file only: its shapes' areas as drawn). */
	xorArea: number;
	/** Bounding box of the differences [left, bottom, right, top] in µm, null when none. */
	bbox: [number, number, number, number] | null;
	/**
	 * Width in µm of the widest difference (after the tolerance), measured on layers the XOR
	 * found different; null on other layers (and on a layer in one file only).
	 */
	maxWidth: number | null;
	/** False when the measurement ran out of time: the widest difference is then at least `maxWidth`. Null with it. */
	maxWidthExact: boolean | null;
	/** True when the layer differs and every difference is at most a few dbu wide (slivers: see --tolerance). */
	sliversOnly: boolean;
	/** Differences no wider than the tolerance: reported, not counted as differences. */
	sliverCount: number;
	sliverArea: number;
	/** Engine mode used for this layer, and why. */
	mode: UsedMode;
	modeReason: string;
	/** Number of windows XORed when the mode is windowed, else null. */
	windows: number | null;
	/** Auto mode only: why the structural diff could not narrow the XOR down, so a full XOR ran; else null. */
	fallback: string | null;
	/** Tile edge in µm when the mode is tiled, else null. */
	tileSize: number | null;
	/** Difference polygons listed in the marker database, and how many were left out by the cap. */
	markers: number;
	markersOmitted: number;
	ms: number;
}

export interface TopCellPair {
	/** The compared cell of A; for several unpaired tops compared as one, their names joined by "+". */
	a: string | null;
	b: string | null;
	status: 'compared' | 'only-in-a' | 'only-in-b';
	/**
	 * Only on the entry of the tops left without a partner by name on both sides, compared as
	 * one (the union of each side's, as a flat XOR of all top cells would): their names.
	 */
	unpaired?: {a: string[]; b: string[]};
}

export interface InputSummary {
	path: string;
	size: number;
	format: 'gds' | 'oasis';
	gzip: boolean;
	/** Database unit in µm; null when KLayout did not read the file (byte-identical fast path). */
	dbu: number | null;
	topCells: string[] | null;
	/**
	 * How KLayout read the file when not as written, else null: "context meta data skipped:
	 * written by a newer KLayout" (its context cell, PCell and library links and meta data but no
	 * geometry, was left out because the running KLayout cannot read it; see `strictRead`).
	 */
	readNote: string | null;
}

export interface CompareResult {
	formatVersion: number;
	status: 'identical' | 'different';
	identical: boolean;
	/** Layers with differences (xorCount > 0). */
	differentLayers: number;
	a: InputSummary;
	b: InputSummary;
	/** The common grid (the smaller dbu) in µm; null on the fast path. */
	dbu: number | null;
	/** Set when the answer came without KLayout. */
	fastPath: 'byte-identical' | null;
	/** The mode asked for; each layer says which one ran. */
	mode: EngineMode;
	modesUsed: UsedMode[];
	tolerance: number;
	topCells: TopCellPair[];
	layers: LayerResult[];
	/** Paths of files written for this comparison (only when it found differences). */
	artifacts: {xor: string | null; rdb: string | null};
	timings: {totalMs: number; startMs: number; readMs: number; structureMs: number; xorMs: number; writeMs: number};
	klayout: {path: string; version: string} | null;
}

/** What `--json` prints when the comparison could not be made. */
export interface CompareErrorOutput {
	formatVersion: number;
	status: 'error';
	error: {code: ErrorCode; message: string; path?: string; hint?: string};
}

/** Bounding box of all differences in µm, or null. */
export function differenceBox(result: CompareResult): [number, number, number, number] | null {
	let box: [number, number, number, number] | null = null;
	for (const {bbox} of result.layers) {
		if (bbox) {
			box = box ? [Math.min(box[0], bbox[0]), Math.min(box[1], bbox[1]), Math.max(box[2], bbox[2]), Math.max(box[3], bbox[3])] : [...bbox];
		}
	}

	return box;
}
