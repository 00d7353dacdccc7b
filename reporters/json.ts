import type {SuiteResult} from '../src/suite/run-suite.js';
import {deliver, type Reporter, type ReporterIo} from './reporter.js';

/** The whole run as JSON (the SuiteResult, docs/result-format.md), to a file or stdout. */
export function jsonReporter(io: ReporterIo, file?: string): Reporter {
	return {
		async onEnd(result: SuiteResult) {
			await deliver(JSON.stringify(result, null, 2) + '\n', file, io);
		},
	};
}
