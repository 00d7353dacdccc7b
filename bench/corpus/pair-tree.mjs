// One corpus pair as the smallest regression run: a reference tree and a run tree holding
// the pair's two files under the same relative path (the pair's name in its history), so that
// each report path runs on the pair alone and its time and memory are the pair's own.
import {copyFileSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import path from 'node:path';

/**
 * Copies the pair's files into a new folder under `workDir`: {dir, name, reference, output,
 * a, b}. Copies, not links: a byte-identical pair shares one cache file, and two links to one
 * file would be refused as an output onto an input. KLayout reads the format from the bytes, so
 * the name of B serves A too when their formats differ.
 */
export function makePairTree(cache, pair, workDir) {
	const dir = mkdtempSync(path.join(workDir, 'pair-'));
	const name = pair.bPath;
	const reference = path.join(dir, 'ref');
	const output = path.join(dir, 'run');
	for (const [tree, file] of [
		[reference, pair.a],
		[output, pair.b],
	]) {
		mkdirSync(path.dirname(path.join(tree, name)), {recursive: true});
		copyFileSync(path.join(cache, file), path.join(tree, name));
	}

	return {dir, name, reference, output, a: path.join(reference, name), b: path.join(output, name)};
}

export function removePairTree(tree) {
	rmSync(tree.dir, {recursive: true, force: true});
}
