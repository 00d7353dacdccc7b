import path from 'node:path';
import {layoutStem} from '../xor/artifacts.js';

export interface ReferencePlace {
	/** The reference layout. */
	reference: string;
	/** Where a failing comparison's XOR layout, marker database and pictures go. */
	diffDir: string;
	/** Their name stem: "<stem>.xor.gds", "<stem>.xor.png", ... */
	stem: string;
}

/**
 * Where the reference of `received` lives, snapshot-style: by default
 * `__layouts__/<test file name>/<received file name>` beside the test file; an explicit
 * `reference` is relative to the test file's folder. Failure artifacts go to `__diff__/`
 * beside the reference.
 */
export function placeReference(testFile: string, received: string, reference?: string): ReferencePlace {
	const testDir = path.dirname(testFile);
	const file = reference === undefined
		? path.join(testDir, '__layouts__', path.basename(testFile), path.basename(received))
		: path.resolve(testDir, reference);
	return {reference: file, diffDir: path.join(path.dirname(file), '__diff__'), stem: layoutStem(file)};
}
