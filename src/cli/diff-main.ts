import {stat} from 'node:fs/promises';
import {LyipcError, toLyipcError} from '../errors.js';
import {RESULT_FORMAT_VERSION, type CompareErrorOutput, type CompareResult} from '../xor/result.js';
import {compareDefaults, findConfig, loadConfigFile, type LyipcConfig} from '../config.js';
import {parseDiffArgs, type ConfigChoice, type ViewChoice} from './diff-args.js';
import {DIFF_HELP} from './diff-help.js';
import {compareHere} from './compare-here.js';
import {formatSummary} from '../format/summary.js';
import {pickStyle} from '../format/style.js';
import type {ShownDiff} from '../viewer/show-diff.js';
import {EXIT_DIFFERENT, EXIT_ERROR, EXIT_SAME, printFailure, type CliIo} from './io.js';

/**
 * Pops the differences up in the viewer. Asked for (--view): an error if that fails. Otherwise
 * a short try, and one line on stderr when no viewer answers. Shown, one line on stderr says
 * where (unless --quiet; stderr, so that --json's stdout stays the result alone); one more when
 * the viewer shows the layouts without the markers. Resolves false only when --view failed.
 */
async function showInViewer(result: CompareResult, view: ViewChoice, target: string | undefined, io: CliIo, quiet: boolean, inputsHere = true): Promise<boolean> {
	const {showDiffInViewer} = await import('../viewer/show-diff.js');
	const {resolveTarget} = await import('../viewer/client.js');
	try {
		const shown = await showDiffInViewer(result, {
			target: resolveTarget(target, io.env),
			connectTimeout: view === 'always' ? 2000 : 300,
			token: io.env.LYIPC_TOKEN || undefined,
			inputsHere,
		});
		if (!quiet) {
			io.stderr.write(`lyipc-diff: ${shownIn(shown)}\n`);
		}

		if (shown.markersSkipped) {
			io.stderr.write(`lyipc-diff: the viewer shows the layouts without the marker database: ${shown.markersSkipped}\n`);
		}

		return true;
	} catch (error) {
		const failure = toLyipcError(error);
		if (view === 'always') {
			io.stderr.write(`lyipc-diff: ${failure.message}\n${failure.hint ? `${failure.hint}\n` : ''}`);
			return false;
		}

		const why = failure.code === 'VIEWER_UNREACHABLE' ? 'no KLayout viewer answered' : failure.message;
		io.stderr.write(`lyipc-diff: ${why}; 'npx lyipc server install' shows differences in KLayout (--no-view: don't try)\n`);
		return true;
	}
}

/** "shown in the KLayout viewer at 127.0.0.1:11078, view 2 'a.gds vs b.gds'": the view's index as `lyipc status` lists it. */
function shownIn(shown: ShownDiff): string {
	return `shown in the KLayout viewer at ${shown.viewer}, ${shown.view === null ? 'in a new view' : `view ${shown.view}`} '${shown.name}'`;
}

/** Whether anything is at `file` (a dangling symlink is nothing). */
async function exists(file: string): Promise<boolean> {
	return (await stat(file).catch(() => undefined)) !== undefined;
}

/** True for two directories; a directory and a file is a usage error; anything else is two files. */
async function bothDirectories(a: string, b: string): Promise<boolean> {
	const isDirectory = async (file: string) => (await stat(file).catch(() => undefined))?.isDirectory() ?? false;
	const [dirA, dirB] = await Promise.all([isDirectory(a), isDirectory(b)]);
	if (dirA !== dirB) {
		const [directory, other] = dirA ? [a, b] : [b, a];
		if (!(await exists(other))) {
			throw new LyipcError('INPUT_NOT_FOUND', `${other}: no such directory (${directory} is a directory: directory mode compares it with another)`, {path: other});
		}

		throw new LyipcError('USAGE', `${dirA ? a : b} is a directory and ${dirA ? b : a} is not: compare two layout files or two directories`, {path: dirA ? b : a});
	}

	return dirA;
}

async function settingsFor(choice: ConfigChoice): Promise<LyipcConfig> {
	switch (choice.kind) {
		case 'none': {
			return {};
		}

		case 'file': {
			return (await loadConfigFile(choice.file)).config;
		}

		default: {
			return (await findConfig(process.cwd())).config;
		}
	}
}

const SUITE_FLAGS: Record<string, string> = {reporters: 'reporter', pictureSize: 'picture-size', pictureBudget: 'picture-budget'};

/** lyipc-diff: parse, compare, print; resolves with the exit code (never 1 for an error). */
export async function runDiff(argv: readonly string[], io: CliIo): Promise<number> {
	// Known before the arguments are understood, so that a usage error is JSON too when asked for.
	const end = argv.indexOf('--');
	let json = (end === -1 ? argv : argv.slice(0, end)).includes('--json');
	try {
		const command = parseDiffArgs(argv);
		if (command.kind === 'help') {
			io.stdout.write(DIFF_HELP);
			return EXIT_SAME;
		}

		if (command.kind === 'merge') {
			json = command.json;
			const {runMerge, suiteExitCode} = await import('./diff-suite.js');
			return suiteExitCode(await runMerge(command, io));
		}

		if (command.kind === 'version') {
			const {LYIPC_VERSION} = await import('../version.js'); // reads package.json: only when asked
			io.stdout.write(`lyipc-diff ${LYIPC_VERSION}\n`);
			return EXIT_SAME;
		}

		json = command.json;
		// Shared defaults first, the command line over them.
		const settings = await settingsFor(command.config);
		const options = {...compareDefaults(settings), ...command.options};
		const directories = await bothDirectories(command.a, command.b);
		if (directories) {
			if (command.remote?.remotePaths) {
				throw new LyipcError('USAGE', '--remote-paths is for two files on the host; two directories are sent to the hosts', {hint: "Run 'lyipc-diff --help' for the options."});
			}

			const {runSuite, suiteExitCode, updatedExitCode} = await import('./diff-suite.js');
			const {include, exclude, workers, reporters} = command.suite;
			const suite = await runSuite(
				{
					...command,
					options,
					suite: {
						...command.suite,
						include: include ?? settings.include,
						exclude: exclude ?? settings.exclude,
						workers: workers ?? settings.workers,
						// --json alone asks for the JSON reporter rather than the configured ones.
						reporters: reporters ?? (command.json ? undefined : settings.reporters),
					},
				},
				io,
			);
			// Asked for with --view: the first differing pair opens in the viewer.
			const first = suite.pairs.find(pair => pair.status === 'different')?.result;
			if (first && command.view === 'always' && !(await showInViewer(first, command.view, command.target, io, command.quiet))) {
				return EXIT_ERROR;
			}

			return command.suite.update ? updatedExitCode(suite, command.suite.prune) : suiteExitCode(suite);
		}

		const suiteOption = Object.entries(command.suite).find(([, value]) => value !== undefined && value !== false)?.[0];
		if (suiteOption) {
			throw new LyipcError('USAGE', `--${SUITE_FLAGS[suiteOption] ?? suiteOption} is for comparing two directories; ${command.a} and ${command.b} are not both directories`, {
				hint: "Run 'lyipc-diff --help' for the options.",
			});
		}

		const signal = io.signal ? {signal: io.signal} : {};
		const result = command.remote
			? await (await import('../remote/compare-remote.js')).compareRemote(command.a, command.b, {
					...options,
					...signal,
					remote: command.remote.host,
					remotePaths: command.remote.remotePaths,
					env: io.env,
				})
			: command.slurm
				? await (await import('../slurm/compare-slurm.js')).compareOnSlurm(command.a, command.b, {...options, ...signal, slurm: {args: command.slurm.args, env: io.env}})
				: await compareHere(command.a, command.b, {...options, ...signal}, command.warmWorker, io.env);
		if (command.json) {
			io.stdout.write(JSON.stringify(result, null, 2) + '\n');
		} else if (!command.quiet) {
			io.stdout.write(formatSummary(result, pickStyle(io.stdout, io.env), {verbose: command.verbose}));
		}

		if (!result.identical && command.view !== 'never' && (command.view === 'always' || io.env.CI !== 'true')) {
			const shown = await showInViewer(result, command.view, command.target, io, command.quiet, !command.remote?.remotePaths);
			if (!shown) {
				return EXIT_ERROR;
			}
		}

		return result.identical ? EXIT_SAME : EXIT_DIFFERENT;
	} catch (error) {
		const failure = toLyipcError(error);
		if (json) {
			const output: CompareErrorOutput = {formatVersion: RESULT_FORMAT_VERSION, status: 'error', error: failure.toJSON()};
			io.stdout.write(JSON.stringify(output, null, 2) + '\n');
		}

		return printFailure(io, 'lyipc-diff', failure);
	}
}
