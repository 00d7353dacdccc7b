import {randomBytes} from 'node:crypto';
import {copyFile, mkdir, rename, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {LyipcError} from './errors.js';

/**
 * Writes beside the target and renames, so a reader never sees half a file; on failure
 * nothing is left. `what` names the file in the error ("the screenshot"); `makeDir` creates
 * the folder first.
 */
export async function writeFileAtomically(file: string, data: string | Buffer, what: string, options: {makeDir?: boolean} = {}): Promise<void> {
	await replaceAtomically(file, what, options, async temp => writeFile(temp, data));
}

/** Copies `from` over `to` as {@link writeFileAtomically} writes: whole or not at all. */
export async function copyFileAtomically(from: string, to: string, what: string, options: {makeDir?: boolean} = {}): Promise<void> {
	await replaceAtomically(to, what, options, async temp => copyFile(from, temp));
}

async function replaceAtomically(file: string, what: string, options: {makeDir?: boolean}, fill: (temp: string) => Promise<void>): Promise<void> {
	const target = path.resolve(file);
	const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
	try {
		if (options.makeDir) {
			await mkdir(path.dirname(target), {recursive: true});
		}

		await fill(temp);
		await rename(temp, target);
	} catch (error) {
		await rm(temp, {force: true}).catch(() => undefined);
		throw new LyipcError('WRITE_ERROR', `${file}: cannot write ${what} (${(error as Error).message})`, {path: file, cause: error});
	}
}
