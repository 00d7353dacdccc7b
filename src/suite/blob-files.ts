import {constants, createWriteStream} from 'node:fs';
import {type FileHandle, lstat, open} from 'node:fs/promises';
import path from 'node:path';
import {pipeline} from 'node:stream/promises';
import {LyipcError} from '../errors.js';

/**
 * Reading a blob's files without trusting the folder: a symlink in it could point anywhere the
 * merging job may read (a secret), and a FIFO would stall the merge. Only regular files are
 * read, never through a symlink, and only where they lie inside the blob.
 */

/** Not through a symlink (ELOOP instead), and a FIFO opens at once instead of waiting for a writer. */
const READ_NO_FOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * `file` opened for reading when it is a regular file; a symlink or anything else is BAD_BLOB,
 * `name` saying which file of which blob. Other failures (ENOENT, EACCES) are thrown as they come.
 */
export async function openRegularFile(file: string, name: string): Promise<FileHandle> {
	const handle = await open(file, READ_NO_FOLLOW).catch((error: NodeJS.ErrnoException) => {
		throw error.code === 'ELOOP' ? new LyipcError('BAD_BLOB', `${name} is a symbolic link; a blob holds regular files only`, {path: file}) : error;
	});
	if (!(await handle.stat()).isFile()) {
		await handle.close();
		throw new LyipcError('BAD_BLOB', `${name} is not a regular file; a blob holds regular files only`, {path: file});
	}

	return handle;
}

/**
 * Checks that `relative` ("files/chip/ring.xor.png") is a regular file in the blob whose real
 * path is `real`: every folder on the way a folder and no part a symlink, so that it lies inside
 * the blob's files/ folder. Errors name the blob `dir` as given and the field `at` ("pairs[3].pictures.xor").
 */
export async function checkBlobFile(real: string, relative: string, dir: string, at: string): Promise<void> {
	const name = `${dir}: ${at}`;
	const parts = relative.split('/');
	let current = real;
	for (const [index, part] of parts.entries()) {
		current = path.join(current, part);
		const last = index === parts.length - 1;
		const shown = parts.slice(0, index + 1).join('/');
		const stats = await lstat(current).catch((error: NodeJS.ErrnoException) => {
			if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
				throw new LyipcError('INPUT_NOT_FOUND', `${dir}: the blob lacks ${relative} (${at}); give the whole folder --reporter blob wrote`, {path: current, cause: error});
			}

			throw new LyipcError('INPUT_UNREADABLE', `${name}: cannot read ${shown} (${error.code ?? error.message})`, {path: current, cause: error});
		});
		if (stats.isSymbolicLink()) {
			throw new LyipcError('BAD_BLOB', `${name}: ${shown} is a symbolic link; a blob holds regular files only`, {path: current});
		}

		if (last ? !stats.isFile() : !stats.isDirectory()) {
			throw new LyipcError('BAD_BLOB', `${name}: ${shown} is not a ${last ? 'regular file' : 'folder'}`, {path: current});
		}
	}
}

/** Copies the regular file `from` (a symlink or FIFO refused as BAD_BLOB, `name` naming it) to `to`. */
export async function copyRegularFile(from: string, to: string, name: string): Promise<void> {
	const source = await openRegularFile(from, name);
	try {
		await pipeline(source.createReadStream({autoClose: false}), createWriteStream(to));
	} finally {
		await source.close();
	}
}
