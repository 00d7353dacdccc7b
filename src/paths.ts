import {realpath} from 'node:fs/promises';
import path from 'node:path';

/** Whether `file` is `dir` itself or lies below it (both resolved from the working directory). */
export function isWithin(file: string, dir: string): boolean {
	const relative = path.relative(path.resolve(dir), path.resolve(file));
	return !relative.startsWith('..') && !path.isAbsolute(relative);
}

/**
 * Where `file` really is: every symlink in the part of the path that exists resolved, the part
 * that does not exist yet (an output about to be written) appended as given.
 */
export async function realPathOf(file: string): Promise<string> {
	const absolute = path.resolve(file);
	const missing: string[] = [];
	for (let current = absolute; ; current = path.dirname(current)) {
		try {
			return path.join(await realpath(current), ...missing.reverse());
		} catch {
			if (path.dirname(current) === current) {
				return absolute;
			}

			missing.push(path.basename(current));
		}
	}
}
