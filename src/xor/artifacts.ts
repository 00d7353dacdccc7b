import {randomBytes} from 'node:crypto';
import {mkdir, mkdtemp, rename, rm, rmdir} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {isLyipcError, LyipcError} from '../errors.js';
import {LAYOUT_EXTENSION, layoutExtension} from '../layout-files.js';
import type {LayoutInput} from './input.js';

export interface ArtifactOptions {
	/** Folder for the XOR layout and marker database. Default: a new folder under the OS temp dir. */
	outDir?: string | undefined;
	/** Path of the XOR layout; its extension picks GDSII or OASIS (`.gz` compresses). */
	out?: string | undefined;
	/** Path of the marker database (`.lyrdb`). Default: beside the XOR layout. */
	rdb?: string | undefined;
	/** What the artifacts in `outDir` are named after ("<stem>.xor.gds"); default: the inputs' file names. */
	artifactStem?: string | undefined;
}

export interface WrittenArtifacts {
	xor: string | null;
	rdb: string | null;
}

/**
 * Where a comparison's files go. The worker writes to hidden temporary names beside the
 * final ones; {@link ArtifactPlan.commit} renames them into place, so a reader never sees
 * half a file, and {@link ArtifactPlan.discard} leaves nothing behind.
 */
export interface ArtifactPlan {
	xor: string;
	rdb: string;
	xorTemp: string;
	rdbTemp: string;
	/** Makes the artifacts' folders here (a remote worker's results are fetched into them); a worker here makes them as it writes. */
	makeFolders(): Promise<void>;
	commit(wrote: {out: boolean; rdb: boolean}): Promise<WrittenArtifacts>;
	discard(): Promise<void>;
	/** The error with the hidden temporary names (here, or `onWorker`'s) replaced by the paths the caller gave. */
	named(error: unknown, onWorker?: {xor: string; rdb: string}): unknown;
}

/** "ring" for "out/ring.gds.gz". */
export function layoutStem(file: string): string {
	return path.basename(file).replace(LAYOUT_EXTENSION, '') || 'layout';
}

/** ".name.lyipc-<random>.tmp.gds" beside `file`: hidden, same folder (so rename is atomic), same format. */
function temporaryName(file: string, extension: string): string {
	const base = path.basename(file);
	// Cut long names: the temporary name must fit where the final one fits (255 bytes).
	const stem = (base.slice(0, base.length - extension.length) || 'out').slice(0, 100);
	return path.join(path.dirname(file), `.${stem}.lyipc-${randomBytes(4).toString('hex')}.tmp${extension}`);
}

async function makeDir(dir: string): Promise<string | undefined> {
	try {
		return await mkdir(dir, {recursive: true});
	} catch (error) {
		throw new LyipcError('WRITE_ERROR', `${dir}: cannot create output folder (${(error as Error).message})`, {path: dir, cause: error});
	}
}

/** Removes `dir` and its parents up to `createdTop` while they are empty. */
async function removeEmptyDirs(dir: string, createdTop: string | undefined): Promise<void> {
	if (!createdTop) {
		return;
	}

	for (let current = dir; current.startsWith(createdTop); current = path.dirname(current)) {
		try {
			await rmdir(current);
		} catch {
			return;
		}

		if (current === createdTop) {
			return;
		}
	}
}

export async function planArtifacts(a: LayoutInput, b: LayoutInput, options: ArtifactOptions = {}): Promise<ArtifactPlan> {
	if (options.out !== undefined && !LAYOUT_EXTENSION.test(options.out)) {
		throw new LyipcError('USAGE', `--out ${options.out}: the XOR layout needs a layout extension (.gds, .oas, optionally .gz)`, {path: options.out});
	}

	const stemA = layoutStem(a.given);
	const stemB = layoutStem(b.given);
	const stem = options.artifactStem ?? (stemA === stemB ? stemA : `${stemA}_vs_${stemB}`);
	const defaultExtension = a.format === 'oasis' ? '.oas' : '.gds';

	// Folders this plan created, so that an unused plan leaves none behind.
	const created: Array<[string, string | undefined]> = [];
	let baseDir: string | undefined;
	const folder = async (): Promise<string> => {
		if (baseDir === undefined) {
			if (options.outDir === undefined) {
				baseDir = await mkdtemp(path.join(tmpdir(), 'lyipc-diff-'));
				created.push([baseDir, baseDir]);
			} else {
				// Made when something is written (by the worker here, before a fetch for a remote
				// one): a folder made up front and removed when nothing was written could vanish
				// under another call writing into the same --out-dir.
				baseDir = path.resolve(options.outDir);
			}
		}

		return baseDir;
	};

	const xor = options.out === undefined ? path.join(await folder(), `${stem}.xor${defaultExtension}`) : path.resolve(options.out);
	const rdb = options.rdb === undefined ? (options.out === undefined ? path.join(await folder(), `${stem}.xor.lyrdb`) : xor.replace(LAYOUT_EXTENSION, '.lyrdb')) : path.resolve(options.rdb);
	const xorTemp = temporaryName(xor, layoutExtension(xor));
	const rdbTemp = temporaryName(rdb, path.extname(rdb));
	const removeTemporaries = async () => {
		// Best effort: a failure to clean up must not hide the error being reported.
		await Promise.allSettled([rm(xorTemp, {force: true}), rm(rdbTemp, {force: true})]);
	};

	const removeCreatedDirs = async () => {
		for (const [dir, top] of created.reverse()) {
			await removeEmptyDirs(dir, top);
		}
	};

	return {
		xor,
		rdb,
		xorTemp,
		rdbTemp,
		async makeFolders() {
			for (const dir of new Set([path.dirname(xor), path.dirname(rdb)])) {
				if (!created.some(([existing]) => existing === dir)) {
					created.push([dir, await makeDir(dir)]);
				}
			}
		},
		async commit(wrote) {
			try {
				if (wrote.out) {
					await rename(xorTemp, xor);
				}

				if (wrote.rdb) {
					await rename(rdbTemp, rdb);
				}
			} catch (error) {
				await removeTemporaries();
				throw new LyipcError('WRITE_ERROR', `cannot move results into place: ${(error as Error).message}`, {cause: error});
			}

			await removeTemporaries();
			if (!wrote.out && !wrote.rdb) {
				await removeCreatedDirs();
			}

			return {xor: wrote.out ? xor : null, rdb: wrote.rdb ? rdb : null};
		},
		named(error, onWorker) {
			if (!isLyipcError(error) || error.code !== 'WRITE_ERROR') {
				return error;
			}

			let {message} = error;
			let file = error.path;
			const temporaries: Array<[string, string]> = [
				[xorTemp, xor],
				[rdbTemp, rdb],
				...(onWorker
					? ([
							[onWorker.xor, xor],
							[onWorker.rdb, rdb],
						] as Array<[string, string]>)
					: []),
			];
			for (const [temp, final] of temporaries) {
				if (message.includes(temp) || file === temp) {
					message = message.split(temp).join(final);
					file = final;
				}
			}

			return new LyipcError('WRITE_ERROR', message, {path: file, hint: error.hint, cause: error});
		},
		async discard() {
			await removeTemporaries();
			await removeCreatedDirs();
		},
	};
}
