import {LyipcError} from '../errors.js';
import {createReporter, parseReporterSpecs, type ReporterIo} from '../reporters/index.js';
import {compareDirectories, type SuiteResult} from '../suite/run-suite.js';
import {DEFAULT_PICTURE_SIZE} from '../xor/pictures.js';
import type {DiffCommand} from './diff-args.js';

type Compare = Extract<DiffCommand, {kind: 'compare'}>;

/** Exit code of a directory run: 2 when a pair could not be compared, 1 for a difference or a missing file. */
export function suiteExitCode(result: SuiteResult): number {
	return result.status === 'error' ? 2 : (result.status === 'different' ? 1 : 0);
}

/** Options that name one file's artifacts make no sense for a whole tree. */
function checkSuiteUsage(command: Compare): void {
	for (const [given, option] of [[command.options.out, '--out'], [command.options.rdb, '--rdb']] as const) {
		if (given !== undefined) {
			throw new LyipcError('USAGE', `${option} names one pair's artifact; with two directories use --out-dir DIR (the artifacts mirror the relative paths)`, {
				hint: "Run 'lyipc-diff --help' for the options.",
			});
		}
	}
}

/** lyipc-diff REF_DIR RUN_DIR: every pair on a worker pool, reported by each reporter asked for. */
export async function runSuite(command: Compare, io: ReporterIo & {signal?: AbortSignal}): Promise<SuiteResult> {
	checkSuiteUsage(command);
	const texts = command.suite.reporters ?? (command.json ? ['json'] : ['console']);
	const reporters = parseReporterSpecs(texts).map(spec => createReporter(spec, io, {quiet: command.quiet}));
	const result = await compareDirectories(command.a, command.b, {
		...command.options,
		include: command.suite.include,
		exclude: command.suite.exclude,
		workers: command.suite.workers,
		remote: command.remote?.host.split(',').filter(Boolean),
		env: io.env,
		pictures: reporters.some(reporter => reporter.wantsPictures) ? DEFAULT_PICTURE_SIZE : undefined,
		signal: io.signal,
		onEvent(event) {
			for (const reporter of reporters) {
				reporter.onEvent?.(event);
			}
		},
	});
	for (const reporter of reporters) {
		await reporter.onEnd(result);
	}

	return result;
}
