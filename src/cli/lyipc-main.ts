import {EXIT_ERROR, type CliIo} from './io.js';
import {didYouMean} from './did-you-mean.js';
import {parseLyipcArgs, reportFailure, usage} from './lyipc-args.js';
import {COMMAND_HELP, LYIPC_HELP} from './lyipc-help.js';
import {gitSetupCommand, serverInstallCommand, viewerCommand} from './lyipc-setup.js';
import {VIEWER_COMMANDS, viewerClientCommand} from './lyipc-viewer-commands.js';

/** lyipc: viewer commands; resolves with the exit code. */
export async function runLyipc(argv: readonly string[], io: CliIo): Promise<number> {
	if (argv[0] === 'git-diff') {
		// Called by git with file names that may look like options: no option parsing.
		const {gitDiff} = await import('./git-diff.js');
		const {pickStyle} = await import('../format/style.js');
		return gitDiff(argv.slice(1), io.stdout, pickStyle(io.stdout as NodeJS.WriteStream, io.env), io.env, {verbose: io.env.LYIPC_VERBOSE === '1'});
	}

	const own = commandHelp(argv);
	if (own !== undefined) {
		io.stdout.write(own);
		return 0;
	}

	if (argv[0] === 'job') {
		// The job's command comes after `--`, in words of its own: parsed apart.
		const {runJob} = await import('./lyipc-job.js');
		return runJob(argv.slice(1), io);
	}

	try {
		const args = parseLyipcArgs(argv, io.env);
		if (args === 'version') {
			const {LYIPC_VERSION} = await import('../version.js');
			io.stdout.write(`lyipc ${LYIPC_VERSION}\n`);
			return 0;
		}

		if ('help' in args) {
			io.stdout.write(LYIPC_HELP);
			return args.help ? 0 : EXIT_ERROR;
		}

		switch (args.command) {
			case 'git-setup': {
				return await gitSetupCommand(args, io);
			}

			case 'server': {
				return await serverInstallCommand(args, io);
			}

			case 'viewer': {
				return await viewerCommand(args, io);
			}

			default: {
				if (!VIEWER_COMMANDS.includes(args.command)) {
					const suggestion = didYouMean(args.command, [...VIEWER_COMMANDS, 'viewer', 'server', 'git-setup', 'job']).replace('--', '');
					throw usage(`unknown command '${args.command}'${suggestion}`);
				}

				return await viewerClientCommand(args, io);
			}
		}
	} catch (error) {
		return reportFailure(io, error);
	}
}

/** Options followed by a value of their own (`--target host`), of any command. */
const TAKES_VALUE = new Set(['--target', '--timeout', '--width', '--height', '--port', '--host', '--klive-port', '--klayout', '--interval', '--remote', '--get']);

/**
 * `lyipc COMMAND --help` (or -h): that command's own help, whatever else is given. Only the words
 * before `--` count: after it come a job's command's own.
 */
function commandHelp(argv: readonly string[]): string | undefined {
	const split = argv.indexOf('--');
	const words = split < 0 ? argv : argv.slice(0, split);
	// The command is the first word that is neither an option nor an option's value.
	const command = words.find((word, index) => !word.startsWith('-') && !TAKES_VALUE.has(words[index - 1] ?? ''));
	return command !== undefined && words.some(word => word === '--help' || word === '-h') ? COMMAND_HELP[command] : undefined;
}
