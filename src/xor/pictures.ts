import {rm} from 'node:fs/promises';
import path from 'node:path';
import type {KLayoutWorker} from '../engine/worker.js';
import {isLyipcError} from '../errors.js';
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
}

interface PictureJob {
	out: string;
	layouts: string[];
	xor?: string | null;
}

async function draw(worker: KLayoutWorker, jobs: PictureJob[], box: number[] | null, options: DrawOptions): Promise<void> {
	const {width, height} = options.size ?? DEFAULT_PICTURE_SIZE;
	try {
		await worker.request('render', {pictures: jobs, box, width, height}, {timeout: options.timeout, signal: options.signal});
	} catch (error) {
		// All pictures or none: a report must not show A without B.
		await Promise.all(jobs.map(async job => rm(job.out, {force: true})));
		throw error;
	}
}

function failed(error: unknown): Pictures {
	const message = isLyipcError(error) ? error.message : String((error as Error)?.message ?? error);
	return {a: null, b: null, xor: null, error: `no pictures: ${message}`};
}

/**
 * Pictures of a comparison that found differences: A, B, and the XOR over both, all showing
 * the same area around the differences. Resolves with `error` set rather than rejecting when
 * KLayout cannot draw them, since the comparison itself stands.
 */
export async function drawDifferences(result: CompareResult, worker: KLayoutWorker, options: DrawOptions): Promise<Pictures> {
	const xor = result.artifacts.xor;
	if (!xor) {
		return {a: null, b: null, xor: null, error: null};
	}

	const name = (side: string) => path.join(options.dir, `${options.stem}.${side}.png`);
	const pictures = {a: name('a'), b: name('b'), xor: name('xor')};
	try {
		await draw(worker, [
			{out: pictures.a, layouts: [result.a.path]},
			{out: pictures.b, layouts: [result.b.path]},
			{out: pictures.xor, layouts: [result.a.path, result.b.path], xor},
		], differenceBox(result), options);
		return {...pictures, error: null};
	} catch (error) {
		return failed(error);
	}
}

/** A picture of a whole layout (a file on one side only), as side "a" or "b". */
export async function drawLayout(file: string, side: 'a' | 'b', worker: KLayoutWorker, options: DrawOptions): Promise<Pictures> {
	const out = path.join(options.dir, `${options.stem}.${side}.png`);
	try {
		await draw(worker, [{out, layouts: [file]}], null, options);
		return {a: null, b: null, xor: null, error: null, [side]: out};
	} catch (error) {
		return failed(error);
	}
}
