import {rm} from 'node:fs/promises';
import path from 'node:path';
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
	const changes: ReferenceChange[] = [];
	for (const pair of result.pairs) {
		if (pair.status === 'different' && pair.reference && pair.output) {
			await copyFileAtomically(pair.output, pair.reference, 'the reference');
			changes.push({path: pair.path, action: 'updated', reference: pair.reference});
		} else if (pair.status === 'missing-reference' && pair.output) {
			const reference = path.join(result.referenceDir, ...pair.path.split('/'));
			await copyFileAtomically(pair.output, reference, 'the reference', {makeDir: true});
			changes.push({path: pair.path, action: 'added', reference});
		} else if (pair.status === 'missing-output' && pair.reference && options.prune) {
			await rm(pair.reference);
			changes.push({path: pair.path, action: 'deleted', reference: pair.reference});
		}
	}

	return changes;
}
