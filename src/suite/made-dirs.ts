import {mkdir, rmdir} from 'node:fs/promises';
import path from 'node:path';
import {LyipcError} from '../errors.js';

/**
 * Folders made for a run's artifacts, shared by pairs that finish in any order: a folder is
 * made before any pair writes into it and removed only at the end of the run if it stayed
 * empty, so one pair's clean-up never pulls the folder from under another pair.
 */
export class MadeDirs {
	readonly #made = new Set<string>();
	/** Folders known to exist: most pairs share one, and a run asks for it once per pair. */
	readonly #known = new Set<string>();

	/** Makes `dir` and its missing parents; remembers which ones this call made. */
	async make(dir: string): Promise<string> {
		if (this.#known.has(dir)) {
			return dir;
		}

		let first: string | undefined;
		try {
			first = await mkdir(dir, {recursive: true});
		} catch (error) {
			throw new LyipcError('WRITE_ERROR', `${dir}: cannot create output folder (${(error as Error).message})`, {path: dir, cause: error});
		}

		for (let current = dir; first && current.startsWith(first); current = path.dirname(current)) {
			this.#made.add(current);
		}

		this.#known.add(dir);
		return dir;
	}

	/** Removes the folders made here that are still empty, deepest first. */
	async removeEmpty(): Promise<void> {
		const deepestFirst = [...this.#made].sort((x, y) => y.length - x.length);
		for (const dir of deepestFirst) {
			await rmdir(dir).catch(() => undefined);
		}
	}
}
