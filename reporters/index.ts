import {LyipcError} from '../src/errors.js';
import {blobReporter} from './blob.js';
import {consoleReporter} from './console.js';
import {htmlReporter} from './html.js';
import {jsonReporter} from './json.js';
import {junitReporter} from './junit.js';
import {markdownReporter} from './markdown.js';
import type {Reporter, ReporterIo} from './reporter.js';

export type {Reporter, ReporterIo} from './reporter.js';

export const REPORTERS = ['console', 'json', 'junit', 'markdown', 'html', 'blob'] as const;
export type ReporterName = (typeof REPORTERS)[number];

export interface ReporterSpec {
	name: ReporterName;
	/** Where to write the report; when not given: stdout (console always), html: index.html in the report folder. */
	file: string | undefined;
}

/** `NAME[=PATH]` as given to --reporter; at most one report may go to stdout. */
export function parseReporterSpecs(texts: readonly string[]): ReporterSpec[] {
	const specs = texts.map(text => {
		const [name, ...rest] = text.split('=');
		if (!REPORTERS.includes(name as ReporterName)) {
			throw new LyipcError('USAGE', `--reporter ${text}: expected one of ${REPORTERS.join(', ')}, optionally =PATH`);
		}

		const file = rest.join('=');
		if (name === 'console' && file) {
			throw new LyipcError('USAGE', `--reporter ${text}: the console reporter writes to the terminal`);
		}

		return {name: name as ReporterName, file: file || undefined};
	});
	const blob = specs.find(spec => spec.name === 'blob' && spec.file === undefined);
	if (blob) {
		throw new LyipcError('USAGE', '--reporter blob needs a folder: --reporter blob=DIR');
	}

	const toStdout = specs.filter(spec => spec.file === undefined && spec.name !== 'html');
	if (toStdout.length > 1) {
		throw new LyipcError('USAGE', `--reporter: ${toStdout.map(spec => spec.name).join(' and ')} would both write to stdout; give all but one a path (e.g. --reporter junit=report.xml)`);
	}

	return specs;
}

export function createReporter(spec: ReporterSpec, io: ReporterIo, options: {quiet?: boolean; verbose?: boolean} = {}): Reporter {
	switch (spec.name) {
		case 'console': {
			return consoleReporter(io, options);
		}

		case 'json': {
			return jsonReporter(io, spec.file);
		}

		case 'junit': {
			return junitReporter(io, spec.file);
		}

		case 'markdown': {
			return markdownReporter(io, spec.file);
		}

		case 'blob': {
			return blobReporter(spec.file);
		}

		default: {
			return htmlReporter(io, spec.file);
		}
	}
}
