import {readlink, realpath} from 'node:fs/promises';
import path from 'node:path';

/** Whether `file` is `dir` itself or lies below it (both resolved from the working directory). */
export function isWithin(file: string, dir: string): boolean {
	const relative = path.relative(path.resolve(dir), path.resolve(file));
	// "..out" is a name inside; only ".." itself or "../..." leads out.
	return relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

/**
 * Where `file` really is: every symlink in the part of the path that exists resolved, a dangling
 * symlink followed to where a write through it would land, and the part that does not exist yet
 * (an output about to be written) appended as given.
 */
export async function realPathOf(file: string, hops = 0): Promise<string> {
	const absolute = path.resolve(file);
	try {
		return await realpath(absolute);
	} catch {
		const parent = path.dirname(absolute);
		if (parent === absolute) {
			return absolute;
		}

		const here = path.join(await realPathOf(parent, hops), path.basename(absolute));
		const target = hops < 40 ? await readlink(here).catch(() => undefined) : undefined; // 40: the kernel's own limit
		return target === undefined ? here : realPathOf(path.resolve(path.dirname(here), target), hops + 1);
	}
}
