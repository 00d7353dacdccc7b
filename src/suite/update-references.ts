import {copyFile, mkdir, rename, rm} from 'node:fs/promises';
import {randomBytes} from 'node:crypto';
import path from 'node:path';
import {LyipcError} from '../errors.js';
import type {SuiteResult} from './run-suite.js';

/** One reference changed by {@link acceptOutputs}. */
export interface ReferenceChange {
	/** Relative path of the pair. */
	path: string;
	/** updated: the output replaced a differing reference; added: it became a missing one; deleted: its output is gone (prune). */
	action: 'updated' | 'added' | 'deleted';
	reference: string;
}

/** Copies through a hidden temporary name in the same folder: a reference is never half written. */
async function copyOver(from: string, to: string): Promise<void> {
	const temp = path.join(path.dirname(to), `.${path.basename(to)}.lyipc-${randomBytes(4).toString('hex')}.tmp`);
	try {
		await mkdir(path.dirname(to), {recursive: true});
		await copyFile(from, temp);
		await rename(temp, to);
	} catch (error) {
		await rm(temp, {force: true}).catch(() => undefined);
		throw new LyipcError('WRITE_ERROR', `${to}: cannot write the reference (${(error as Error).message})`, {path: to, cause: error});
	}
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
			await copyOver(pair.output, pair.reference);
			changes.push({path: pair.path, action: 'updated', reference: pair.reference});
		} else if (pair.status === 'missing-reference' && pair.output) {
			const reference = path.join(result.referenceDir, ...pair.path.split('/'));
			await copyOver(pair.output, reference);
			changes.push({path: pair.path, action: 'added', reference});
		} else if (pair.status === 'missing-output' && pair.reference && options.prune) {
			await rm(pair.reference);
			changes.push({path: pair.path, action: 'deleted', reference: pair.reference});
		}
	}

	return changes;
}
