import {mkdir, readdir, rm, stat, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {LyipcError} from '../errors.js';
import {isWithin, realPathOf} from '../paths.js';

/** Directory mode's report folder when --out-dir is not given, like playwright-report/. */
export const DEFAULT_REPORT_DIR = 'lyipc-report';
/** The file that marks a folder as lyipc-diff's own, so that a new run may empty it. */
const MARK = '.lyipc-report';

/**
 * Makes `dir` ready for a run: an earlier run's folder (it has the mark) is emptied, so no stale
 * picture or XOR layout outlives its pair; a folder that is not lyipc-diff's and has files in it
 * is refused rather than mixed into, and so are `inputs` (the trees compared) inside it; a new
 * folder is made and marked.
 */
export async function prepareReportDir(dir: string, inputs: readonly string[] = []): Promise<string> {
	const resolved = path.resolve(dir);
	const real = await realPathOf(resolved);
	for (const input of inputs) {
		if (isWithin(input, resolved) || isWithin(await realPathOf(input), real)) {
			throw new LyipcError('USAGE', `${input} is inside the report folder ${dir}, which each run empties; move it, or give the report another place with --out-dir`, {path: input});
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

		if (entries.length > 0 && !entries.includes(MARK)) {
			throw new LyipcError('USAGE', `${dir} exists and was not written by lyipc-diff; it is left alone. Remove it, or give the report another place with --out-dir`, {path: resolved});
		}

		await Promise.all(entries.map(async entry => rm(path.join(resolved, entry), {recursive: true, force: true})));
	}

	try {
		await mkdir(resolved, {recursive: true});
		await writeFile(path.join(resolved, MARK), 'Written by lyipc-diff; emptied by its next run.\n');
	} catch (error) {
		throw new LyipcError('WRITE_ERROR', `${dir}: cannot create the report folder (${(error as Error).message})`, {path: resolved, cause: error});
	}

	return resolved;
}
