// A reference tree and a run tree of real small layouts for bench/suite.mjs --real: a component
// library's regression references (the corpus source gdsfactory-references, bench/corpus), each
// file's first version against its next, one pair per file name. Built from the corpus cache.
import {copyFileSync, existsSync, mkdirSync, readFileSync, rmSync} from 'node:fs';
import path from 'node:path';

/** Pairs of `source` from the cache's manifest, one per file name (the first in the manifest), `count` at most. */
export function buildRealTree(cache, count, dest, source = 'gdsfactory-references') {
	const manifest = path.join(cache, 'manifest.json');
	if (!existsSync(manifest)) {
		throw new Error(`${manifest} is missing: build the corpus first (node bench/corpus/build.mjs --cache ${cache})`);
	}

	const {pairs} = JSON.parse(readFileSync(manifest, 'utf8'));
	const chosen = new Map();
	for (const pair of pairs) {
		if (pair.source === source && pair.aPath === pair.bPath && !chosen.has(pair.aPath) && chosen.size < count) {
			chosen.set(pair.aPath, pair);
		}
	}

	rmSync(dest, {recursive: true, force: true});
	const reference = path.join(dest, 'ref');
	const output = path.join(dest, 'run');
	for (const [relative, pair] of chosen) {
		for (const [dir, file] of [
			[reference, pair.a],
			[output, pair.b],
		]) {
			mkdirSync(path.dirname(path.join(dir, relative)), {recursive: true});
			copyFileSync(path.join(cache, file), path.join(dir, relative));
		}
	}

	return {reference, output, relatives: [...chosen.keys()].sort()};
}
