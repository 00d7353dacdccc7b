import {createHash, randomBytes} from 'node:crypto';
import {hostname} from 'node:os';
import {copyFile, mkdir, rename, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';
import fastGlob from 'fast-glob';
import {LyipcError} from './errors.js';

/**
 * ".<name>.lyipc-<host>-<pid>-<random>.tmp": hidden, beside the target (so the rename is atomic),
 * and recognisable with the machine and process that wrote it, so that what a killed writer left
 * behind can be told from another writer's work in progress ({@link removeLeftovers}), also on a
 * folder other machines share. <host> is a short hash of the host name.
 */
const TEMP_NAME = /^\..+\.lyipc-([0-9a-f]{8})-(\d+)-[0-9a-f]{8}\.tmp$/;
const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

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
	const temp = path.join(path.dirname(target), `.${path.basename(target)}.lyipc-${HOST}-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
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

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM'; // another user's process
	}
}

/**
 * Removes the temporary files under `dir` that a writer of this machine left when it was killed
 * (SIGKILL during `--update`): those whose process is gone. Another machine's are its own to judge. Best effort: a folder it cannot
 * change (a read-only checkout) is left as it is.
 */
export async function removeLeftovers(dir: string): Promise<void> {
	const found = await fastGlob('**/.*.lyipc-*.tmp', {
		cwd: dir,
		dot: true,
		onlyFiles: true,
		followSymbolicLinks: false,
		suppressErrors: true,
		// A reference tree may be a whole checkout: its version control and packages hold none.
		ignore: ['**/.git/**', '**/node_modules/**'],
	});
	await Promise.all(
		found.map(async relative => {
			const [, host, pid] = TEMP_NAME.exec(path.posix.basename(relative)) ?? [];
			if (host === HOST && pid !== undefined && !alive(Number(pid))) {
				await rm(path.join(dir, relative), {force: true}).catch(() => undefined);
			}
		}),
	);
}
