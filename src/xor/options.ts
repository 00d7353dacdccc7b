import {availableParallelism} from 'node:os';
import {LyipcError} from '../errors.js';
import {SHARED} from '../shared.js';

export type EngineMode = 'auto' | 'deep' | 'flat' | 'tiled';
export const ENGINE_MODES = SHARED.engineModes as readonly EngineMode[];
/**
 * Whether auto mode runs the structural diff first: `auto` when it can pay (not when a full
 * XOR of every layer is cheap anyway), `always`, or `never` (a full XOR of every layer).
 */
export type StructureChoice = 'auto' | 'always' | 'never';
export const STRUCTURE_CHOICES: readonly StructureChoice[] = ['auto', 'always', 'never'];

/** A layer selector: `layer/datatype`, or `layer` alone for every datatype of that layer. */
export interface LayerSpec {
	layer: number;
	datatype: number | undefined;
}

/** Default cap on marker-database items per layer (and per layer's slivers). */
export const DEFAULT_MAX_MARKERS = SHARED.maxMarkers;
/** Marker items in the whole database, whatever --max-markers says: the viewer takes it within its limits. */
export const MAX_MARKER_ITEMS = SHARED.maxMarkerItems;
/** Default time a comparison may take before its worker is stopped: 30 minutes. */
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

export interface XorOptions {
	/** Differences no wider than this (µm) are reported as slivers, not as differences. Default 0. */
	tolerance?: number | undefined;
	/** Compare only these layers (`['1/0', '2']` or parsed specs). Default: every layer. */
	layers?: ReadonlyArray<string | LayerSpec> | undefined;
	/** Leave these layers out. */
	ignoreLayers?: ReadonlyArray<string | LayerSpec> | undefined;
	/** Cell of A to compare (default: its top cell, or top cells paired by name). */
	topA?: string | undefined;
	/** Cell of B to compare. */
	topB?: string | undefined;
	/** Engine mode; `auto` picks per layer. Default `auto`. */
	mode?: EngineMode | undefined;
	/** In auto mode, whether the structural diff runs first (see {@link StructureChoice}). Default `auto`. */
	structure?: StructureChoice | undefined;
	/** Threads for deep and tiled mode. Default: the number of CPUs. */
	threads?: number | undefined;
	/** Tile edge in µm for tiled mode. Default: chosen from the data. */
	tileSize?: number | undefined;
	/** Marker-database items per layer. Default {@link DEFAULT_MAX_MARKERS}. */
	maxMarkers?: number | undefined;
	/**
	 * Refuse a file whose context meta data the running KLayout cannot read (a GDS file written
	 * by KLayout 0.29 or later, read by 0.28) with READ_ERROR, instead of comparing it without
	 * its context cell (the default, said in `readNote`). Default false.
	 */
	strictRead?: boolean | undefined;
}

export interface NormalizedXorOptions {
	tolerance: number;
	layers: LayerSpec[] | undefined;
	ignoreLayers: LayerSpec[];
	topA: string | undefined;
	topB: string | undefined;
	mode: EngineMode;
	structure: StructureChoice;
	threads: number;
	tileSize: number | undefined;
	maxMarkers: number;
	strictRead: boolean;
}

const LAYER_PATTERN = /^(\d+)(?:\/(\d+))?$/;
const MAX_GDS_NUMBER = 65_535;

export function parseLayerSpec(text: string): LayerSpec {
	const match = LAYER_PATTERN.exec(text.trim());
	const layer = Number(match?.[1]);
	const datatype = match?.[2] === undefined ? undefined : Number(match[2]);
	if (!match || layer > MAX_GDS_NUMBER || (datatype !== undefined && datatype > MAX_GDS_NUMBER)) {
		throw new LyipcError('USAGE', `invalid layer '${text}': expected LAYER/DATATYPE (like 1/0) or LAYER (every datatype), numbers 0-65535`);
	}

	return {layer, datatype};
}

/** Parses "1/0,2/0, 5" (a comma list) into layer specs. */
export function parseLayerList(text: string): LayerSpec[] {
	const items = text
		.split(',')
		.map(item => item.trim())
		.filter(Boolean);
	if (items.length === 0) {
		throw new LyipcError('USAGE', `invalid layer list '${text}': expected e.g. 1/0,2/0`);
	}

	return items.map(item => parseLayerSpec(item));
}

export function formatLayerSpec(spec: LayerSpec): string {
	return spec.datatype === undefined ? String(spec.layer) : `${spec.layer}/${spec.datatype}`;
}

function layerSpecs(list: ReadonlyArray<string | LayerSpec> | undefined): LayerSpec[] | undefined {
	if (list === undefined) {
		return undefined;
	}

	return list.flatMap(item => (typeof item === 'string' ? parseLayerList(item) : [parseLayerSpec(formatLayerSpec(item))]));
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
	if (value === undefined) {
		return fallback;
	}

	if (!Number.isFinite(value) || value < 0) {
		throw new LyipcError('USAGE', `${name} must be a number >= 0, got ${value}`);
	}

	return value;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
	if (value === undefined) {
		return fallback;
	}

	if (!Number.isInteger(value) || value < 1) {
		throw new LyipcError('USAGE', `${name} must be a whole number >= 1, got ${value}`);
	}

	return value;
}

/** Validates options and fills in defaults; a bad value is a USAGE error naming the option. */
export function normalizeXorOptions(options: XorOptions = {}): NormalizedXorOptions {
	const mode = options.mode ?? 'auto';
	if (!ENGINE_MODES.includes(mode)) {
		throw new LyipcError('USAGE', `mode must be one of ${ENGINE_MODES.join(', ')}, got '${String(mode)}'`);
	}

	const structure = options.structure ?? 'auto';
	if (!STRUCTURE_CHOICES.includes(structure)) {
		throw new LyipcError('USAGE', `structure must be one of ${STRUCTURE_CHOICES.join(', ')}, got '${String(structure)}'`);
	}

	const tileSize = options.tileSize === undefined ? undefined : nonNegative('tile size', options.tileSize, 0);
	if (tileSize === 0) {
		throw new LyipcError('USAGE', 'tile size must be > 0 µm');
	}

	for (const [name, value] of [
		['top cell of A', options.topA],
		['top cell of B', options.topB],
	] as const) {
		if (value !== undefined && value.trim() === '') {
			throw new LyipcError('USAGE', `${name} must not be empty`);
		}
	}

	if (options.strictRead !== undefined && typeof options.strictRead !== 'boolean') {
		throw new LyipcError('USAGE', `strictRead must be true or false, got ${JSON.stringify(options.strictRead)}`);
	}

	const layers = layerSpecs(options.layers);
	return {
		tolerance: nonNegative('tolerance', options.tolerance, 0),
		layers: layers && layers.length > 0 ? layers : undefined,
		ignoreLayers: layerSpecs(options.ignoreLayers) ?? [],
		topA: options.topA,
		topB: options.topB,
		mode,
		structure,
		threads: positiveInteger('threads', options.threads, availableParallelism()),
		tileSize,
		maxMarkers: Math.floor(nonNegative('max markers', options.maxMarkers, DEFAULT_MAX_MARKERS)),
		strictRead: options.strictRead === true,
	};
}
