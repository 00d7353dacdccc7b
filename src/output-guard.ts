import {stat} from 'node:fs/promises';
import path from 'node:path';
import {LyipcError} from './errors.js';
import {isWithin, realPathOf} from './paths.js';

/** A file or folder lyipc-diff is about to write, named as the user gave it. */
export interface PlannedOutput {
	/** The option that named it, for messages: "--out-dir", "--reporter json=ref/a.gds". */
	flag: string;
	path: string;
	kind: 'file' | 'folder';
}

/** An input file: where it really is, which file it is on disk (a hard link has another path), its size. */
export interface InputIdentity {
	path: string;
	real: string;
	dev: number;
	ino: number;
	size: number;
}

/** A folder that holds inputs (a directory run's trees, a blob a merge reads), by its real path, and how messages name it. */
export interface InputTree {
	real: string;
	name: string;
}

const hint = "Run 'lyipc-diff --help' for the options.";

/** "--out-dir ref/sub"; a reporter's flag names its path already ("--reporter json=ref/a.gds"). */
function named(output: PlannedOutput): string {
	return output.flag.endsWith(output.path) ? output.flag : `${output.flag} ${output.path}`;
}

function usage(message: string, file: string): LyipcError {
	return new LyipcError('USAGE', message, {path: file, hint});
}

function kindOf(info: {isFile(): boolean; isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean}): string {
	return info.isFIFO() ? 'a FIFO' : info.isCharacterDevice() || info.isBlockDevice() ? 'a device' : info.isSocket() ? 'a socket' : info.isDirectory() ? 'a folder' : 'not a regular file';
}

/**
 * USAGE unless `file` can be written as `kind`: a file output must be a new path or a regular
 * file (writing replaces it, and a FIFO, a device or /dev/null would be replaced by a file or
 * block the writer); a folder output must be new or a folder.
 */
export async function checkOutputKind(output: PlannedOutput): Promise<void> {
	const info = await stat(output.path).catch(() => undefined);
	if (info === undefined) {
		// A dangling symlink would be replaced by the file: the same as a new path.
		return;
	}

	if (output.kind === 'folder' ? !info.isDirectory() : !info.isFile()) {
		const wanted = output.kind === 'folder' ? 'a folder' : 'a regular file or a new path';
		throw usage(`${named(output)} is ${info.isFile() ? 'a file' : kindOf(info)}; it must be ${wanted}`, output.path);
	}
}

/** An input file's identity, for {@link guardOutputs}; undefined when it cannot be looked at (its comparison will say why). */
export async function identify(file: string): Promise<InputIdentity | undefined> {
	const info = await stat(file).catch(() => undefined);
	return info && {path: file, real: await realPathOf(file), dev: info.dev, ino: info.ino, size: info.size};
}

/** The trees' real paths; USAGE when one lies inside the other (a run would compare, update or prune its own outputs). */
export async function resolveTrees(reference: string, output: string): Promise<{reference: string; output: string}> {
	const trees = {reference: await realPathOf(reference), output: await realPathOf(output)};
	if (isWithin(trees.reference, trees.output) || isWithin(trees.output, trees.reference)) {
		const [inner, outer] = isWithin(trees.output, trees.reference) ? [output, reference] : [reference, output];
		throw usage(
			trees.reference === trees.output
				? `${reference} and ${output} are the same folder: give the reference tree and the run's output tree`
				: `${inner} lies inside ${outer}: the trees must be apart, or each would be compared (and updated) as part of the other`,
			inner,
		);
	}

	return trees;
}

/**
 * USAGE, before anything is written, when an output would land on an input or among the inputs:
 * a file output that is an input (by path, symlink or hard link); an output of the wrong kind
 * ({@link checkOutputKind}); two outputs of one path; two output folders one inside the other.
 * With `trees` (a directory run's, a merge's blobs) also any output inside a tree, and a folder
 * output that contains a tree or an input.
 */
export async function guardOutputs(outputs: readonly PlannedOutput[], trees: readonly InputTree[], inputs: readonly InputIdentity[]): Promise<void> {
	const byIdentity = new Map(inputs.map(input => [`${input.dev}:${input.ino}`, input]));
	const seen = new Map<string, PlannedOutput>();
	for (const output of outputs) {
		await checkOutputKind(output);
		const real = await realPathOf(output.path);
		for (const tree of trees) {
			if (isWithin(real, tree.real)) {
				throw usage(`${named(output)} lies inside ${tree.name} (${tree.real}): it would be written among the inputs; choose a place outside them`, output.path);
			}

			if (output.kind === 'folder' && isWithin(tree.real, real)) {
				throw usage(`${named(output)} contains ${tree.name} (${tree.real}): choose a folder outside the inputs`, output.path);
			}
		}

		// An existing file output is compared by identity: a symlink or hard link to an input is that input.
		const info = output.kind === 'file' ? await stat(output.path).catch(() => undefined) : undefined;
		const input = info && byIdentity.get(`${info.dev}:${info.ino}`);
		if (input) {
			throw usage(`${named(output)} is input ${input.path}: it would be overwritten; choose another path`, output.path);
		}

		if (trees.length > 0 && output.kind === 'folder') {
			const inside = inputs.find(candidate => isWithin(candidate.real, real));
			if (inside) {
				throw usage(`${named(output)} holds the input ${inside.path} (${inside.real}); choose a folder apart from the inputs`, output.path);
			}
		}

		const key = process.platform === 'linux' ? real : real.toLowerCase();
		const twice = seen.get(key);
		if (twice && (twice.kind === 'file' || output.kind === 'file')) {
			throw usage(`${named(twice)} and ${named(output)} both name ${path.relative(process.cwd(), real) || real}; give each its own path`, output.path);
		}

		// Output folders are emptied (the report folder, a blob) or filled by a run: never one in another.
		const nested = output.kind === 'folder' ? [...seen].find(([other, earlier]) => earlier.kind === 'folder' && (isWithin(other, key) || isWithin(key, other)))?.[1] : undefined;
		if (nested) {
			throw usage(`${named(nested)} and ${named(output)} must be folders apart, neither inside the other`, output.path);
		}

		seen.set(key, output);
	}
}
