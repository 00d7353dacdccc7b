import path from 'node:path';

/** Whether `file` is `dir` itself or lies below it (both resolved from the working directory). */
export function isWithin(file: string, dir: string): boolean {
	const relative = path.relative(path.resolve(dir), path.resolve(file));
	return !relative.startsWith('..') && !path.isAbsolute(relative);
}
