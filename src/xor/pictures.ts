import {randomUUID} from 'node:crypto';
import {rm} from 'node:fs/promises';
import path from 'node:path';
import type {WorkerRequests} from '../engine/worker.js';
import {isLyipcError} from '../errors.js';
import type {WorkerFiles} from './compare.js';
import {differenceBox, type CompareResult} from './result.js';

export interface PictureSize {
	width: number;
	height: number;
}

export const DEFAULT_PICTURE_SIZE: PictureSize = {width: 480, height: 360};

/** PNG pictures drawn by KLayout; a side that was not drawn is null. */
export interface Pictures {
	/** Layout A (the reference), zoomed like the XOR picture. */
	a: string | null;
	/** Layout B (the output). */
	b: string | null;
	/** The differences, bright, over A and B drawn faintly. */
	xor: string | null;
	/** Why nothing was drawn (e.g. KLayout could not render), else null. */
	error: string | null;
}

export interface DrawOptions {
	/** Folder for the pictures; names are "<stem>.a.png", "<stem>.b.png", "<stem>.xor.png". */
	dir: string;
	stem: string;
	size?: PictureSize | undefined;
	timeout?: number | undefined;
	signal?: AbortSignal | undefined;
	/** How files cross to a worker on another machine: pictures are drawn there and fetched. */
	files?: WorkerFiles | undefined;
}

interface PictureJob {
	out: string;
	layouts: string[];
	xor?: string | null;
}

async function draw(worker: WorkerRequests, jobs: PictureJob[], box: number[] | null, options: DrawOptions): Promise<void> {
	const {width, height} = options.size ?? DEFAULT_PICTURE_SIZE;
	const {files} = options;
	// A remote worker draws under names of its own (pairs with the same stem share its folder).
	const drawn = files ? jobs.map(job => ({...job, out: files.output(`.${randomUUID()}.${path.basename(job.out)}`)})) : jobs;
	try {
		await worker.request('render', {pictures: drawn, box, width, height}, {timeout: options.timeout, signal: options.signal});
		await files?.fetch(drawn.map((job, index) => ({worker: job.out, local: jobs[index]!.out})));
	} catch (error) {
		// All pictures or none: a report must not show A without B.
		await Promise.all(jobs.map(async job => rm(job.out, {force: true})));
		throw error;
	} finally {
		await files?.release?.(drawn.map(job => job.out));
	}
}

function failed(error: unknown): Pictures {
	const message = isLyipcError(error) ? error.message : String((error as Error)?.message ?? error);
	return {a: null, b: null, xor: null, error: `no pictures: ${message}`};
}

/**
 * Pictures of a comparison that found differences: A, B, and the XOR over both, all showing
 * the same area around the differences. `onWorker` names A, B and the XOR as the worker sees
 * them (default: the result's own paths). Resolves with `error` set rather than rejecting when
 * KLayout cannot draw them, since the comparison itself stands.
 */
export async function drawDifferences(result: CompareResult, worker: WorkerRequests, options: DrawOptions, onWorker = {a: result.a.path, b: result.b.path, xor: result.artifacts.xor}): Promise<Pictures> {
	if (!onWorker.xor) {
		return {a: null, b: null, xor: null, error: null};
	}

	const name = (side: string) => path.join(options.dir, `${options.stem}.${side}.png`);
	const pictures = {a: name('a'), b: name('b'), xor: name('xor')};
	try {
		await draw(worker, [
			{out: pictures.a, layouts: [onWorker.a]},
			{out: pictures.b, layouts: [onWorker.b]},
			{out: pictures.xor, layouts: [onWorker.a, onWorker.b], xor: onWorker.xor},
		], differenceBox(result), options);
		return {...pictures, error: null};
	} catch (error) {
		return failed(error);
	}
}

/** A picture of a whole layout (a file on one side only), as side "a" or "b"; sent to a remote worker first. */
export async function drawLayout(file: string, side: 'a' | 'b', worker: WorkerRequests, options: DrawOptions): Promise<Pictures> {
	const out = path.join(options.dir, `${options.stem}.${side}.png`);
	const {files} = options;
	let onWorker: string | undefined;
	try {
		onWorker = files ? await files.input(file, side === 'a' ? 'A' : 'B') : file;
		await draw(worker, [{out, layouts: [onWorker]}], null, options);
		return {a: null, b: null, xor: null, error: null, [side]: out};
	} catch (error) {
		return failed(error);
	} finally {
		if (files && onWorker) {
			await files.release?.([onWorker]);
		}
	}
}
