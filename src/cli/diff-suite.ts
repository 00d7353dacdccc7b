import path from 'node:path';
import {LyipcError} from '../errors.js';
import {summaryLine} from '../../reporters/console.js';
import {pickStyle} from '../format/style.js';
import {createReporter, parseReporterSpecs, type Reporter, type ReporterIo, type ReporterSpec} from '../../reporters/index.js';
import {mergeBlobs} from '../suite/blob.js';
import type {PlannedOutput} from '../output-guard.js';
import {warmWorkerWanted} from '../engine/warm-worker.js';
import {compareDirectories, type SuiteResult} from '../suite/run-suite.js';
import {DEFAULT_REPORT_DIR, recordWritten} from '../suite/report-dir.js';
import {acceptOutputs} from '../suite/update-references.js';
import {DEFAULT_PICTURE_SIZE} from '../xor/pictures.js';
import type {DiffCommand, MergeCommand} from './diff-args.js';

type Compare = Extract<DiffCommand, {kind: 'compare'}>;

/** Exit code of a directory run: 2 when a pair could not be compared, 1 for a difference or a missing file. */
export function suiteExitCode(result: SuiteResult): number {
	return result.status === 'error' ? 2 : result.status === 'different' ? 1 : 0;
}

/** Options that name one file's artifacts make no sense for a whole tree. */
function checkSuiteUsage(command: Compare): void {
	for (const [given, option] of [
		[command.options.out, '--out'],
		[command.options.rdb, '--rdb'],
	] as const) {
		if (given !== undefined) {
			throw new LyipcError('USAGE', `${option} names one pair's artifact; with two directories use --out-dir DIR (the artifacts mirror the relative paths)`, {
				hint: "Run 'lyipc-diff --help' for the options.",
			});
		}
	}
}

/**
 * lyipc-diff REF_DIR RUN_DIR: every pair on a worker pool, reported by each reporter asked for.
 * Artifacts, pictures and the HTML report go to --out-dir, by default lyipc-report/ in the
 * working directory. With --update, differing and missing references are then replaced by
 * their outputs (--prune: references without output deleted).
 */
export async function runSuite(command: Compare, io: ReporterIo & {signal?: AbortSignal}): Promise<SuiteResult & {changes: number}> {
	checkSuiteUsage(command);
	const texts = command.suite.reporters ?? (command.json ? ['json'] : ['console']);
	const specs = parseReporterSpecs(texts);
	const reporters = specs.map(spec => createReporter(spec, io, {quiet: command.quiet, verbose: command.verbose}));
	const outDir = command.options.outDir ?? DEFAULT_REPORT_DIR;
	// Checked with the artifacts' folder before anything is written (compareDirectories): apart
	// from the inputs, the trees and each other.
	const outputs = reportOutputs(specs);

	const wantsPictures = reporters.some(reporter => reporter.wantsPictures);
	const {pool: _pool, worker: _worker, ...options} = command.options;
	const result = await compareDirectories(command.a, command.b, {
		...options,
		outDir,
		reportDir: command.options.outDir === undefined,
		outputs,
		update: command.suite.update,
		include: command.suite.include,
		exclude: command.suite.exclude,
		workers: command.suite.workers,
		remote: command.remote?.host.split(',').filter(Boolean),
		shard: command.suite.shard,
		slurm: command.slurm,
		// A repeated local run skips KLayout's start-up; --workers N asks for a pool of its own.
		warmWorker: command.warmWorker && command.suite.workers === undefined && warmWorkerWanted(io.env),
		env: io.env,
		pictures: wantsPictures ? {size: command.suite.pictureSize ?? DEFAULT_PICTURE_SIZE, closeups: command.suite.closeups, budget: command.suite.pictureBudget} : undefined,
		signal: io.signal,
		onEvent(event) {
			for (const reporter of reporters) {
				reporter.onEvent?.(event);
			}
		},
	});
	await endReports(reporters, specs, result);
	const toTerminal = announceReports(reporters, texts, result, io, command.quiet);

	if (!command.suite.update) {
		return {...result, changes: 0};
	}

	const changes = await acceptOutputs(result, {prune: command.suite.prune});
	const left = result.pairs.filter(pair => pair.status === 'missing-output').length - changes.filter(change => change.action === 'deleted').length;
	const lines = changes.map(change => `${change.action.padEnd(8)} ${path.relative(process.cwd(), change.reference) || change.reference}\n`);
	lines.push(
		`--update: ${changes.length} reference${changes.length === 1 ? '' : 's'} changed${left > 0 ? `; ${left} reference${left === 1 ? '' : 's'} without output kept (--prune deletes them)` : ''}\n`,
	);
	toTerminal.write(lines.join(''));
	return {...result, changes: changes.length};
}

/** Each reporter's end; the report files written into the report folder go into its manifest, for the next run to replace. */
async function endReports(reporters: readonly Reporter[], specs: readonly ReporterSpec[], result: SuiteResult): Promise<void> {
	for (const reporter of reporters) {
		await reporter.onEnd(result);
	}

	const files = [...reporters.map(reporter => reporter.reportFile?.(result)), ...specs.filter(spec => spec.name !== 'blob').map(spec => spec.file)];
	await recordWritten(
		result.outDir,
		files.filter((file): file is string => file !== undefined),
	);
}

/** The files and folders the reporters will write, for the checks before anything is written. */
function reportOutputs(specs: readonly ReporterSpec[]): PlannedOutput[] {
	return specs.flatMap(spec =>
		spec.file === undefined ? [] : [{flag: `--reporter ${spec.name}=${spec.file}`, path: spec.file, kind: spec.name === 'blob' ? ('folder' as const) : ('file' as const)}],
	);
}

/** Says where the reports went; returns where such lines go: stderr when a report is on stdout, so stdout stays parseable. */
function announceReports(reporters: readonly Reporter[], texts: readonly string[], result: SuiteResult, io: ReporterIo, quiet: boolean): NodeJS.WritableStream {
	const written = reporters.map(reporter => reporter.reportFile?.(result)).filter((file): file is string => Boolean(file));
	const specs = parseReporterSpecs(texts);
	const toTerminal = specs.some(spec => spec.name !== 'console' && spec.name !== 'html' && spec.file === undefined) ? io.stderr : io.stdout;
	// Without the console reporter and with nothing else on stdout (--reporter html alone), the
	// terminal still gets the run's summary line (-q: nothing, the reports are files).
	const summary = !quiet && toTerminal === io.stdout && !specs.some(spec => spec.name === 'console') ? [`${summaryLine(result, pickStyle(io.stdout as NodeJS.WriteStream, io.env))}\n`] : [];
	const reports = quiet ? [] : written.map(file => `report: ${path.relative(process.cwd(), file) || file}\n`);
	if (summary.length + reports.length > 0) {
		toTerminal.write([...summary, ...reports].join(''));
	}

	return toTerminal;
}

/**
 * lyipc-diff merge-reports DIR...: the blobs of every shard (--shard i/n --reporter blob=DIR)
 * as one run, reported by each reporter asked for; artifacts and pictures go to --out-dir
 * (default lyipc-report/).
 */
export async function runMerge(command: MergeCommand, io: ReporterIo): Promise<SuiteResult> {
	const texts = command.reporters ?? ['console'];
	const specs = parseReporterSpecs(texts);
	const reporters = specs.map(spec => createReporter(spec, io, {quiet: command.quiet, verbose: command.verbose}));
	const result = await mergeBlobs(command.dirs, command.outDir ?? DEFAULT_REPORT_DIR, {outputs: reportOutputs(specs)});
	await endReports(reporters, specs, result);
	announceReports(reporters, texts, result, io, command.quiet);
	return result;
}

/** After --update, what is left failing: errors, and references without output that were kept. */
export function updatedExitCode(result: SuiteResult, prune: boolean): number {
	if (result.status === 'error') {
		return 2;
	}

	return result.pairs.some(pair => pair.status === 'missing-output' && !prune) ? 1 : 0;
}
