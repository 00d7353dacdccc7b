import {constants, type Stats} from 'node:fs';
import {lstat, mkdir, open, readdir, rm, rmdir, stat} from 'node:fs/promises';
import path from 'node:path';
import {LyipcError} from '../errors.js';
import {isWithin, realPathOf} from '../paths.js';
import {writeFileAtomically} from '../write-file-atomically.js';

/** Directory mode's report folder when --out-dir is not given, like playwright-report/. */
export const DEFAULT_REPORT_DIR = 'lyipc-report';
/**
 * The manifest of a folder lyipc writes reports into: which files its last run wrote there
 * (path relative to the folder, size, modification time, inode), so that the next run removes
 * exactly those, and nothing it did not write.
 */
export const MANIFEST = '.lyipc-report';
const MANIFEST_VERSION = 1;
/** The text of the mark older versions wrote: such a folder was theirs alone, emptied by each run. */
const LEGACY_MARK = 'Written by lyipc-diff';
/** A manifest larger than this is not read (a report of 100 000 pictures takes ~15 MB). */
const MAX_MANIFEST_BYTES = 256 * 2 ** 20;
/** Not through a symlink, and a FIFO opens at once. */
const READ_NO_FOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** A file a run wrote, as the manifest records it. */
interface Written {
	path: string;
	size: number;
	mtimeMs: number;
	ino: number;
}

interface Manifest {
	lyipcReport: number;
	files: Written[];
}

type Found = {kind: 'none'} | {kind: 'legacy'} | {kind: 'manifest'; files: Written[]};

export interface PrepareOptions {
	/**
	 * A folder that holds files but no manifest: refused (USAGE; the default lyipc-report/, a blob,
	 * a merge's folder: a folder of someone else's must not be mixed into by a run that was not
	 * pointed there), or used as it is (`--out-dir DIR` given), its files left alone. Default: refuse.
	 */
	others?: 'refuse' | 'keep' | undefined;
	/** Make the folder when it does not exist (default); false: it is made when a file is written into it, and gets a manifest then. */
	make?: boolean | undefined;
}

/**
 * Makes `dir` ready for a run: the files an earlier run of lyipc recorded in its manifest are
 * removed, when each is still the regular file that run wrote (same size, modification time
 * and inode: a file the user put there since, under that name, is kept), and then the folders
 * they were in, when that left them empty. Nothing else is removed: not a file the manifest
 * does not name, nothing outside the folder, nothing through a symlink. `inputs` (the trees
 * compared) inside the folder are refused; a folder with files and no manifest see
 * {@link PrepareOptions}. The manifest is then written anew, empty: {@link recordWritten}
 * adds what this run writes.
 */
export async function prepareReportDir(dir: string, inputs: readonly string[] = [], options: PrepareOptions = {}): Promise<string> {
	const resolved = path.resolve(dir);
	const real = await realPathOf(resolved);
	for (const input of inputs) {
		if (isWithin(input, resolved) || isWithin(await realPathOf(input), real)) {
			throw new LyipcError('USAGE', `${input} is inside the report folder ${dir}, where each run replaces its files; move it, or give the report another place with --out-dir`, {path: input});
		}
	}

	const entries = await readdir(resolved).catch((error: NodeJS.ErrnoException) => {
		if (error.code === 'ENOENT') {
			return undefined;
		}

		throw new LyipcError('WRITE_ERROR', `${dir}: cannot read the report folder (${error.message})`, {path: resolved, cause: error});
	});
	if (entries !== undefined) {
		if (!(await stat(resolved)).isDirectory()) {
			throw new LyipcError('USAGE', `${dir} exists and is not a folder; give the report another place with --out-dir`, {path: resolved});
		}

		const found = entries.includes(MANIFEST) ? await readManifest(real) : ({kind: 'none'} as const);
		if (found.kind === 'none' && entries.length > 0 && (options.others ?? 'refuse') === 'refuse' && !entries.includes(MANIFEST)) {
			throw new LyipcError('USAGE', `${dir} exists and was not written by lyipc-diff; it is left alone. Remove it, or give the report another place with --out-dir`, {path: resolved});
		}

		if (found.kind === 'legacy') {
			// An older version's folder: it refused to write into one holding anything else, and its
			// mark said each run empties it.
			await Promise.all(entries.map(async entry => rm(path.join(resolved, entry), {recursive: true, force: true})));
		} else if (found.kind === 'manifest') {
			await removeWritten(real, found.files);
		}
	}

	if (entries === undefined && options.make === false) {
		return resolved;
	}

	try {
		await mkdir(resolved, {recursive: true});
	} catch (error) {
		throw new LyipcError('WRITE_ERROR', `${dir}: cannot create the report folder (${(error as Error).message})`, {path: resolved, cause: error});
	}

	await writeManifest(resolved, []);
	return resolved;
}

/**
 * Adds `files` (those of them that lie in `dir`, regular files, not through a symlink) to the
 * folder's manifest, as they are now: the next run removes them unless they changed since.
 */
export async function recordWritten(dir: string, files: Iterable<string>): Promise<void> {
	const resolved = path.resolve(dir);
	const real = await realPathOf(resolved);
	const found = await readManifest(real);
	const recorded = new Map((found.kind === 'manifest' ? found.files : []).map(file => [file.path, file]));
	for (const file of new Set(files)) {
		const relative = path.relative(resolved, path.resolve(file)).split(path.sep).join('/');
		if (!safeRelative(relative) || relative === MANIFEST) {
			continue;
		}

		const info = await regularFileAt(real, relative);
		if (info) {
			recorded.set(relative, {path: relative, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino});
		}
	}

	if (recorded.size === 0 && found.kind !== 'manifest') {
		return; // nothing written, and no folder of lyipc's to mark
	}

	await writeManifest(
		resolved,
		[...recorded.values()].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0)),
	);
}

async function writeManifest(dir: string, files: Written[]): Promise<void> {
	const manifest: Manifest = {lyipcReport: MANIFEST_VERSION, files};
	await writeFileAtomically(path.join(dir, MANIFEST), JSON.stringify(manifest), "the report folder's manifest");
}

/** The manifest in the folder whose real path is `real`; anything unreadable or malformed records nothing. */
async function readManifest(real: string): Promise<Found> {
	let text: string;
	try {
		const handle = await open(path.join(real, MANIFEST), READ_NO_FOLLOW);
		try {
			const info = await handle.stat();
			if (!info.isFile() || info.size > MAX_MANIFEST_BYTES) {
				return {kind: 'none'};
			}

			text = await handle.readFile('utf8');
		} finally {
			await handle.close();
		}
	} catch {
		return {kind: 'none'};
	}

	if (text.startsWith(LEGACY_MARK)) {
		return {kind: 'legacy'};
	}

	try {
		const parsed = JSON.parse(text) as Partial<Manifest>;
		if (parsed.lyipcReport !== MANIFEST_VERSION || !Array.isArray(parsed.files)) {
			return {kind: 'none'};
		}

		const files = parsed.files.filter(
			(file): file is Written =>
				typeof file === 'object' &&
				file !== null &&
				typeof file.path === 'string' &&
				safeRelative(file.path) &&
				[file.size, file.mtimeMs, file.ino].every(value => typeof value === 'number' && Number.isFinite(value)),
		);
		return {kind: 'manifest', files};
	} catch {
		return {kind: 'none'};
	}
}

/** A path a manifest may name: relative, forward slashes, normalised, never leaving the folder. */
function safeRelative(relative: string): boolean {
	return (
		relative !== '' &&
		!relative.includes('\0') &&
		!relative.includes('\\') &&
		!path.posix.isAbsolute(relative) &&
		path.posix.normalize(relative) === relative &&
		!relative.split('/').some(part => part === '..' || part === '.' || part === '')
	);
}

/** The regular file at `relative` under `real`, reached through folders only (no symlink on the way); else undefined. */
async function regularFileAt(real: string, relative: string): Promise<Stats | undefined> {
	const parts = relative.split('/');
	let current = real;
	for (const [index, part] of parts.entries()) {
		current = path.join(current, part);
		const info = await lstat(current).catch(() => undefined);
		const last = index === parts.length - 1;
		if (!info || (last ? !info.isFile() : !info.isDirectory())) {
			return undefined;
		}

		if (last) {
			return isWithin(current, real) ? info : undefined;
		}
	}

	return undefined;
}

/** Removes each recorded file that is still as it was written, then the folders that left empty (deepest first; never `real` itself). */
async function removeWritten(real: string, files: readonly Written[]): Promise<void> {
	const folders = new Set<string>();
	for (const file of files) {
		const info = await regularFileAt(real, file.path);
		if (!info || info.size !== file.size || info.mtimeMs !== file.mtimeMs || info.ino !== file.ino) {
			continue; // gone, or not the file that run wrote: someone else's now
		}

		await rm(path.join(real, ...file.path.split('/')), {force: true});
		for (let folder = path.posix.dirname(file.path); folder !== '.'; folder = path.posix.dirname(folder)) {
			folders.add(folder);
		}
	}

	for (const folder of [...folders].sort((x, y) => y.length - x.length)) {
		await rmdir(path.join(real, ...folder.split('/'))).catch(() => undefined);
	}
}
