import {rm} from 'node:fs/promises';
import path from 'node:path';
import {LyipcError} from '../errors.js';
import {isWithin, realPathOf} from '../paths.js';
import {copyFileAtomically} from '../write-file-atomically.js';
import type {SuiteResult} from './run-suite.js';

/** One reference changed by {@link acceptOutputs}. */
export interface ReferenceChange {
	/** Relative path of the pair. */
	path: string;
	/** updated: the output replaced a differing reference; added: it became a missing one; deleted: its output is gone (prune). */
	action: 'updated' | 'added' | 'deleted';
	reference: string;
}

/**
 * Accepts a run's outputs as the new references, as Playwright's --update-snapshots does:
 * differing references are overwritten by their output, missing ones are added, and with
 * `prune` references whose output is gone are deleted. Pairs that could not be compared are
 * left alone. Returns what changed, in path order.
 */
export async function acceptOutputs(result: SuiteResult, options: {prune?: boolean} = {}): Promise<ReferenceChange[]> {
	const planned: Array<ReferenceChange & {output: string | null}> = [];
	for (const pair of result.pairs) {
		if (pair.status === 'different' && pair.reference && pair.output) {
			planned.push({path: pair.path, action: 'updated', reference: pair.reference, output: pair.output});
		} else if (pair.status === 'missing-reference' && pair.output) {
			planned.push({path: pair.path, action: 'added', reference: path.join(result.referenceDir, ...pair.path.split('/')), output: pair.output});
		} else if (pair.status === 'missing-output' && pair.reference && options.prune) {
			planned.push({path: pair.path, action: 'deleted', reference: pair.reference, output: null});
		}
	}

	await refuseOutsideTree(planned, result.referenceDir);
	const changes: ReferenceChange[] = [];
	for (const {output, ...change} of planned) {
		if (output === null) {
			await rm(change.reference);
		} else {
			await copyFileAtomically(output, change.reference, 'the reference', {makeDir: change.action === 'added'});
		}

		changes.push(change);
	}

	return changes;
}

/**
 * USAGE, before any reference changes, when one would be written or deleted outside the reference
 * tree: through a folder in it that is a symlink to elsewhere. (A reference that is itself a
 * symlink is replaced or removed as a link; what it points to is never written.)
 */
export async function refuseOutsideTree(changes: ReadonlyArray<{reference: string}>, referenceDir: string): Promise<void> {
	const tree = await realPathOf(referenceDir);
	for (const {reference} of changes) {
		const folder = await realPathOf(path.dirname(reference));
		if (!isWithin(folder, tree)) {
			throw new LyipcError('USAGE', `--update: ${reference} lies in ${folder}, outside the reference tree ${tree} (a symlinked folder); nothing was changed`, {
				path: reference,
				hint: 'Update that reference by hand, or replace the symlinked folder by a real one.',
			});
		}
	}
}
