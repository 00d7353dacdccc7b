import {randomUUID} from 'node:crypto';
import {rm} from 'node:fs/promises';
import path from 'node:path';
import {WorkerLostBeforeStart, type WorkerRequests} from '../engine/worker.js';
import {isLyipcError} from '../errors.js';
import {localFiles, type WorkerFiles} from './worker-files.js';
import type {CompareResult} from './result.js';
import {SHARED} from '../shared.js';

export interface PictureSize {
	/** CSS pixels; the PNG has `scale` times as many. */
	width: number;
	height: number;
}

export const DEFAULT_PICTURE_SIZE: PictureSize = SHARED.pictureSize;
/** Pictures are drawn at twice their shown size: sharp on high-density screens and when enlarged. */
export const PICTURE_SCALE = 2;
/** XOR close-ups beyond the first, at most, per failing pair. */
export const DEFAULT_CLOSEUPS = 3;
/** Seconds one pair's pictures may take; over it they are skipped and the run goes on. */
export const DEFAULT_PICTURE_BUDGET = 30;
/** A KLayout call cannot be interrupted: a worker still drawing this long after the budget is ended (and replaced). */
const BUDGET_GRACE_MS = 10_000;

/** What a pair's report says when its pictures took more than `seconds`. */
export function budgetText(seconds: number): string {
	return `pictures skipped: too many differences to draw in ${Number(seconds.toFixed(1))} s`;
}

/**
 * PNG pictures drawn by KLayout, each framed with a title (A, B, XOR, overview), a legend of
 * layer to colour, a scale bar and the coordinates shown; a picture not drawn is null.
 */
export interface Pictures {
	/** Layout A (the reference), zoomed like the first XOR close-up. */
	a: string | null;
	/** Layout B (the output). */
	b: string | null;
	/** The first close-up: the differences, bright, over A and B drawn faintly. */
	xor: string | null;
	/** The whole layout with every group of differences framed (a frame never smaller than 18 pixels). */
	overview: string | null;
	/** XOR close-ups of further groups of differences, largest first. */
	closeups: string[];
	/** The areas (µm, [l, b, r, t]) of the first close-up and the further ones. */
	boxes: number[][];
	/** Groups of differences found (close-ups show at most 1 + closeups.length of them). */
	groups: number;
	/** The size a picture is shown at (CSS pixels); its PNG has `scale` times as many pixels. */
	size: PictureSize;
	/** PNG pixels per CSS pixel. */
	scale: number;
	/** Why nothing was drawn, else null: "pictures skipped: ..." when over the budget (time or 1 GB of memory), "no pictures: ..." when KLayout could not draw. */
	error: string | null;
}

export interface DrawOptions {
	/** Folder for the pictures; names are "<stem>.a.png", "<stem>.xor.png", "<stem>.overview.png", "<stem>.xor-2.png", ... */
	dir: string;
	stem: string;
	size?: PictureSize | undefined;
	/** XOR close-ups beyond the first (default 3). */
	closeups?: number | undefined;
	/** Names shown in the titles: the pair, A and B. */
	titles?: {pair?: string; a?: string; b?: string} | undefined;
	/** Seconds the pictures of one pair may take (default {@link DEFAULT_PICTURE_BUDGET}); `timeout` (ms) is for a single layout's picture. */
	budget?: number | undefined;
	timeout?: number | undefined;
	signal?: AbortSignal | undefined;
	/** How files meet the worker (default: it draws here); a remote one draws there and they are fetched. */
	files?: WorkerFiles | undefined;
}

const NONE: Pictures = {a: null, b: null, xor: null, overview: null, closeups: [], boxes: [], groups: 0, size: DEFAULT_PICTURE_SIZE, scale: PICTURE_SCALE, error: null};

/** The worker draws under hidden names of its own (pairs with the same stem share a remote folder); fetched, they take their names. */
function onWorkerName(files: WorkerFiles, local: string): string {
	return files.output(path.join(path.dirname(local), `.${randomUUID()}.${path.basename(local)}`));
}

async function removeAll(files: string[]): Promise<void> {
	await Promise.all(files.map(async file => rm(file, {force: true})));
}

function failed(error: unknown): Pictures {
	const message = isLyipcError(error) ? error.message : String((error as Error)?.message ?? error);
	return {...NONE, error: `no pictures: ${message}`};
}

interface DrawnDiff {
	/** Why the worker gave up drawing (its budget of time or memory), when it did. */
	skipped?: string;
	written: {overview: string | null; a: string | null; b: string | null; xor: string | null; closeups: string[]};
	boxes: number[][];
	groups: number;
}

/**
 * Pictures of a comparison that found differences: an overview of the whole layout with every
 * group of differences framed; A, B and the XOR zoomed to the largest group; the XOR zoomed to
 * each further group (up to `closeups`). `onWorker` names A, B and the XOR as the worker sees
 * them (default: the result's own paths). Resolves with `error` set rather than rejecting when
 * KLayout cannot draw them, since the comparison itself stands.
 */
export async function drawDifferences(
	result: CompareResult,
	worker: WorkerRequests,
	options: DrawOptions,
	onWorker = {a: result.a.path, b: result.b.path, xor: result.artifacts.xor},
): Promise<Pictures> {
	if (!onWorker.xor) {
		return NONE;
	}

	const {width, height} = options.size ?? DEFAULT_PICTURE_SIZE;
	const files = options.files ?? localFiles();
	const name = (side: string) => path.join(options.dir, `${options.stem}.${side}.png`);
	const extra = Math.max(0, Math.floor(options.closeups ?? DEFAULT_CLOSEUPS));
	const local = {overview: name('overview'), a: name('a'), b: name('b'), xor: name('xor'), closeups: Array.from({length: extra}, (_, index) => name(`xor-${index + 2}`))};
	const remote = {
		overview: onWorkerName(files, local.overview),
		a: onWorkerName(files, local.a),
		b: onWorkerName(files, local.b),
		xor: onWorkerName(files, local.xor),
		closeups: local.closeups.map(file => onWorkerName(files, file)),
	};
	const every = (names: typeof local) => [names.overview, names.a, names.b, names.xor, ...names.closeups];
	const budget = options.budget ?? DEFAULT_PICTURE_BUDGET;
	try {
		const drawn = await worker.request<DrawnDiff>(
			'render_diff',
			{
				a: onWorker.a,
				b: onWorker.b,
				xor: onWorker.xor,
				out: remote,
				width,
				height,
				scale: PICTURE_SCALE,
				titles: {pair: options.titles?.pair ?? options.stem, a: options.titles?.a ?? path.basename(result.a.path), b: options.titles?.b ?? path.basename(result.b.path)},
				budget,
			},
			// The worker stops itself between steps once over the budget; one still inside a KLayout call is ended here.
			{timeout: budget * 1000 + BUDGET_GRACE_MS, signal: options.signal},
		);
		if (drawn.skipped) {
			return {...NONE, error: drawn.skipped};
		}

		const pairs = every(remote).map((file, index) => ({worker: file, local: every(local)[index]!}));
		const written = new Set(every(drawn.written as typeof local).filter(Boolean));
		await files.fetch(pairs.filter(pair => written.has(pair.worker)));
		const mine = (file: string | null, index: number) => (file === null ? null : every(local)[index]!);
		return {
			overview: mine(drawn.written.overview, 0),
			a: mine(drawn.written.a, 1),
			b: mine(drawn.written.b, 2),
			xor: mine(drawn.written.xor, 3),
			closeups: drawn.written.closeups.map((_, index) => local.closeups[index]!),
			boxes: drawn.boxes,
			groups: drawn.groups,
			size: {width, height},
			scale: PICTURE_SCALE,
			error: null,
		};
	} catch (error) {
		// All pictures or none: a report must not show A without B.
		await removeAll(every(local));
		if (error instanceof WorkerLostBeforeStart && !options.signal?.aborted) {
			// Queued behind another pair's job that ended the worker: never drawn. A pool runs the
			// pair again on a new worker, so it gets its pictures.
			throw error;
		}

		return isLyipcError(error) && error.code === 'TIMEOUT' && !options.signal?.aborted ? {...NONE, error: budgetText(budget)} : failed(error);
	} finally {
		await files.release(every(remote));
	}
}

/** A picture of a whole layout (a file on one side only), as side "a" or "b"; sent to a remote worker first. */
export async function drawLayout(file: string, side: 'a' | 'b', worker: WorkerRequests, options: DrawOptions): Promise<Pictures> {
	const out = path.join(options.dir, `${options.stem}.${side}.png`);
	const {width, height} = options.size ?? DEFAULT_PICTURE_SIZE;
	const files = options.files ?? localFiles();
	const drawnAs = onWorkerName(files, out);
	let onWorker: string | undefined;
	try {
		onWorker = await files.input(file, side === 'a' ? 'A' : 'B');
		const title = `${side === 'a' ? 'A: reference' : 'B: output'} ${options.titles?.[side] ?? path.basename(file)} (the other side is missing)`;
		await worker.request('render', {pictures: [{out: drawnAs, layouts: [onWorker], title}], box: null, width, height, scale: PICTURE_SCALE}, {timeout: options.timeout, signal: options.signal});
		await files.fetch([{worker: drawnAs, local: out}]);
		return {...NONE, size: {width, height}, [side]: out};
	} catch (error) {
		await removeAll([out]);
		return failed(error);
	} finally {
		await files.release([drawnAs, ...(onWorker ? [onWorker] : [])]);
	}
}
