import path from 'node:path';
import {LyipcError} from '../src/errors.js';
import {BLOB_FILE, writeBlob} from '../src/suite/blob.js';
import type {SuiteResult} from '../src/suite/run-suite.js';
import type {Reporter} from './reporter.js';

/** A shard's results, pictures included, kept in `dir` for `lyipc-diff merge-reports` (src/suite/blob.ts). */
export function blobReporter(dir: string | undefined): Reporter {
	if (dir === undefined) {
		throw new LyipcError('USAGE', '--reporter blob needs a folder: --reporter blob=DIR');
	}

	return {
		wantsPictures: true,
		async onEnd(result: SuiteResult) {
			await writeBlob(result, dir);
		},
		reportFile: () => path.resolve(dir, BLOB_FILE),
	};
}
