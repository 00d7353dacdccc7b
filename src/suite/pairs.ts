import {stat} from 'node:fs/promises';
import path from 'node:path';
import fastGlob from 'fast-glob';
import {LyipcError} from '../errors.js';
import {LAYOUT_GLOBS} from '../layout-files.js';

/** Every GDSII/OASIS file, gzipped or not (matched case-insensitively). */
export const DEFAULT_INCLUDE = LAYOUT_GLOBS;

export interface PairFilter {
	/** Globs relative to each directory (fast-glob syntax); default {@link DEFAULT_INCLUDE}. */
	include?: readonly string[] | undefined;
	/** Globs of files to leave out. */
	exclude?: readonly string[] | undefined;
}

/** Files with the same relative path in the reference and the run directory; null on a side that lacks it. */
export interface LayoutPair {
	/** Relative path, with forward slashes. */
	path: string;
	reference: string | null;
	output: string | null;
}

async function requireDirectory(dir: string, role: string): Promise<string> {
	const info = await stat(dir).catch((error: NodeJS.ErrnoException) => {
		throw new LyipcError(error.code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE', `${dir}: ${role} directory: ${error.code === 'ENOENT' ? 'no such directory' : error.message}`, {
			path: dir,
			cause: error,
		});
	});
	if (!info.isDirectory()) {
		throw new LyipcError('USAGE', `${dir}: the ${role} is not a directory (compare two files or two directories)`, {path: dir});
	}

	return path.resolve(dir);
}

/**
 * USAGE for a pattern that reaches outside the trees: absolute, or with a `..` segment. Patterns
 * are relative to each tree, and nothing outside the trees is read or written.
 */
export function checkPatterns(patterns: readonly string[] | undefined, option: string): void {
	for (const pattern of patterns ?? []) {
		// Every alternative of a brace or an extglob counts: '{/usr,x}/**' and '@(..)/*' lead out too.
		const parts = pattern.split(/[\\/{},()|]/);
		const absolute = /(^|[{,(|])\s*([\\/]|[A-Za-z]:[\\/])/.test(pattern);
		if (absolute || parts.some(part => part.replace(/^[!@+*?]+/, '') === '..')) {
			throw new LyipcError('USAGE', `${option} '${pattern}': patterns are relative to the two trees and stay inside them (no leading /, no '..')`, {
				hint: "Run 'lyipc-diff --help' for the options.",
			});
		}
	}
}

async function list(dir: string, filter: PairFilter): Promise<string[]> {
	const found = await fastGlob([...(filter.include ?? DEFAULT_INCLUDE)], {
		cwd: dir,
		ignore: [...(filter.exclude ?? [])],
		onlyFiles: true,
		caseSensitiveMatch: false,
		followSymbolicLinks: true,
		unique: true,
	});
	// fast-glob keeps what the patterns say; checkPatterns already refused a way out.
	return found.filter(relative => !path.isAbsolute(relative) && !relative.split('/').includes('..'));
}

/** Pairs the layouts of two directory trees by relative path, sorted by that path. */
export async function findPairs(referenceDir: string, outputDir: string, filter: PairFilter = {}): Promise<LayoutPair[]> {
	checkPatterns(filter.include, '--include');
	const [references, outputs] = await Promise.all([requireDirectory(referenceDir, 'reference'), requireDirectory(outputDir, 'output')]);
	const [inReference, inOutput] = await Promise.all([list(references, filter), list(outputs, filter)]);
	const referenceSet = new Set(inReference);
	const outputSet = new Set(inOutput);
	return [...new Set([...inReference, ...inOutput])].sort().map(relative => ({
		path: relative,
		reference: referenceSet.has(relative) ? path.join(references, relative) : null,
		output: outputSet.has(relative) ? path.join(outputs, relative) : null,
	}));
}
