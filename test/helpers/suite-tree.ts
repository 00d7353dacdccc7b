import {copyFile, mkdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import type {SuiteResult} from '../../src/suite/run-suite.js';
import {fixture} from './run.js';

/**
 * A reference tree and a run tree with one pair of each kind, as a CI regression check meets them:
 * byte-identical, identical geometry in other bytes, different (in a subfolder), gzipped
 * identical, only in the reference, only in the run, corrupt, and a file that is not a layout.
 */
export const TREE_EXPECTED = {
	'same.gds': 'identical',
	'flat.gds': 'identical',
	'chip/ring.gds': 'different',
	'zipped.gds.gz': 'identical',
	'only_ref.gds': 'missing-output',
	'only_run.oas': 'missing-reference',
	'corrupt.gds': 'error',
} as const;

export async function makeSuiteTree(root: string): Promise<{reference: string; output: string}> {
	const reference = path.join(root, 'ref');
	const output = path.join(root, 'run');
	const pairs: Array<[string, string | null, string | null]> = [
		['same.gds', 'base.gds', 'base.gds'],
		['flat.gds', 'base.gds', 'base_flat.gds'],
		['chip/ring.gds', 'base.gds', 'one_shape.gds'],
		['zipped.gds.gz', 'base.gds.gz', 'base.gds.gz'],
		['only_ref.gds', 'base.gds', null],
		['only_run.oas', null, 'base.oas'],
		['corrupt.gds', 'base.gds', 'truncated.gds'],
	];
	for (const [relative, inReference, inOutput] of pairs) {
		for (const [dir, source] of [
			[reference, inReference],
			[output, inOutput],
		] as const) {
			if (source) {
				await mkdir(path.dirname(path.join(dir, relative)), {recursive: true});
				await copyFile(fixture(source), path.join(dir, relative));
			}
		}
	}

	await writeFile(path.join(reference, 'notes.txt'), 'not a layout\n');
	await writeFile(path.join(output, 'notes.txt'), 'not a layout either\n');
	return {reference, output};
}

/** Each pair's status by path, as TREE_EXPECTED has them. */
export function statusesOf(result: SuiteResult): Record<string, string> {
	return Object.fromEntries(result.pairs.map(pair => [pair.path, pair.status]));
}
