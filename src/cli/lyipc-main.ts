import {realpath} from 'node:fs/promises';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {isLyipcError, LyipcError} from '../errors.js';
import {DEFAULT_VIEWER_PORT, isLoopbackHost, resolveTarget, ViewerClient} from '../viewer/client.js';
import {checkToken, installServer, klayoutHome, newToken, uninstallServer} from '../viewer/install.js';
import {writeFileAtomically} from '../write-file-atomically.js';
import {EXIT_ERROR, type CliIo} from './diff-main.js';

export const LYIPC_HELP = `Usage: lyipc <command> [options]

Drive the lyipc server in a running KLayout (docs/protocol.md).

Commands:
  load FILE [--new | --add]   show FILE: replace the current view's layout (default), in a new
                              view, or added to the current view as another cellview; a viewer
                              that cannot read FILE (another machine, a container) gets its bytes
  reload [FILE]               reload in place, keeping the viewbox and layers: the current view,
                              or wherever FILE is shown (a viewer elsewhere gets its new bytes)
  status [--json]             the views, their files, cells, viewboxes, layers, marker databases
  screenshot OUT.png          a picture of the current view [--width W] [--height H] (800 x 600)
  ping                        is a viewer there?
  watch FILES...              show FILES, then reload each in place whenever it is rewritten,
                              once the write is complete; Ctrl+C stops
  animate FRAMES...           play layouts one after the other in one view, keeping the viewbox
                              [--interval SEC] (default 1) [--loop: until Ctrl+C]
  viewer [FILES...]           start KLayout with the server running (nothing installed), showing
                              FILES; a viewer already answering at the port gets FILES instead
  server install              install the server into KLayout (a salt package in
                              $KLAYOUT_HOME/salt, default ~/.klayout; again = upgrade, keeping
                              settings not given); it starts with KLayout; --uninstall removes it
  job --remote HOST [--get PATTERN]... [--show] -- COMMAND...
                              send this folder to a temp folder on HOST (rsync over ssh), run
                              COMMAND there, bring back the files matching each PATTERN (rsync
                              globs, e.g. 'out/**.gds'), --show: open the layouts among them in
                              the viewer; exit code: COMMAND's
  git-setup                   make 'git diff' on GDS/OASIS files print the XOR summary: a diff
                              driver in this repository's git config and .gitattributes
                              [--global: for every repository] [--uninstall]

Options:
  --target HOST[:PORT]        the viewer (default: $LYIPC_TARGET, else the host of the old
                              $LYIPCTARGET=user@host, else 127.0.0.1; port $LYIPC_PORT or 11078)
  --timeout SEC               seconds to wait for an answer (default 30)
  -h, --help / -V, --version

Server options (viewer, server install):
  --port N                    port to listen on (default 11078)
  --host ADDR                 address to listen on (default 127.0.0.1); anything else needs a
                              token: LYIPC_TOKEN, else one is made and printed
  --klive [--klive-port N]    also answer gdsfactory/kfactory show() (klive protocol) on
                              127.0.0.1:8082 [--no-klive: stop that]
  --no-autostart              server install: start it from Tools > Inter-process communication
                              server (Ctrl+I) instead of with KLayout
  --allow-remote-v1           server install: accept the old protocol (no token) from other
                              machines [--no-allow-remote-v1: stop that]
  --klayout PATH              viewer: the KLayout to start

Environment: LYIPC_TARGET, LYIPCTARGET, LYIPC_PORT; LYIPC_TOKEN (a viewer on another machine;
no command-line flag, so that it never shows in process lists); KLAYOUT_HOME.

Exit codes: 0 done, 2 could not (no viewer, viewer error, bad usage).
`;

const OPTIONS = {
	new: {type: 'boolean'},
	add: {type: 'boolean'},
	json: {type: 'boolean'},
	width: {type: 'string'},
	height: {type: 'string'},
	target: {type: 'string'},
	timeout: {type: 'string'},
	uninstall: {type: 'boolean'},
	'no-autostart': {type: 'boolean'},
	port: {type: 'string'},
	host: {type: 'string'},
	klive: {type: 'boolean'},
	'no-klive': {type: 'boolean'},
	'klive-port': {type: 'string'},
	'allow-remote-v1': {type: 'boolean'},
	'no-allow-remote-v1': {type: 'boolean'},
	klayout: {type: 'string'},
	global: {type: 'boolean'},
	interval: {type: 'string'},
	loop: {type: 'boolean'},
	help: {type: 'boolean', short: 'h'},
	version: {type: 'boolean', short: 'V'},
} as const;

/** Options that mean something to some commands only; the others are common to all. */
const OPTIONS_FOR: Partial<Record<string, readonly string[]>> = {
	new: ['load'],
	add: ['load'],
	json: ['status'],
	width: ['screenshot'],
	height: ['screenshot'],
	interval: ['animate'],
	loop: ['animate'],
	uninstall: ['server', 'git-setup'],
	global: ['git-setup'],
	'no-autostart': ['server'],
	'allow-remote-v1': ['server'],
	'no-allow-remote-v1': ['server'],
	port: ['viewer', 'server'],
	host: ['viewer', 'server'],
	klive: ['viewer', 'server'],
	'no-klive': ['viewer', 'server'],
	'klive-port': ['viewer', 'server'],
	klayout: ['viewer'],
};

function usage(message: string): LyipcError {
	return new LyipcError('USAGE', message, {hint: "Run 'lyipc --help' for the commands."});
}

function positiveNumber(option: string, text: string | undefined, fallback: number): number {
	if (text === undefined) {
		return fallback;
	}

	const value = Number(text);
	if (!Number.isFinite(value) || value <= 0) {
		throw usage(`--${option}: expected a positive number, got '${text}'`);
	}

	return value;
}

function portNumber(option: string, text: string): number {
	const value = Number(text);
	if (!Number.isInteger(value) || value < 1 || value > 65_535) {
		throw usage(`--${option}: expected a TCP port from 1 to 65535, got '${text}'`);
	}

	return value;
}

async function absoluteFile(file: string): Promise<string> {
	try {
		return await realpath(file);
	} catch {
		throw new LyipcError('INPUT_NOT_FOUND', `${file}: no such file`, {path: file});
	}
}

interface StatusView {
	index: number;
	current: boolean;
	viewbox: number[];
	layers: number;
	cellviews: Array<{file: string; cell: string}>;
	markerDatabases: string[];
}

function formatStatus(status: {views: StatusView[]; klayout: string}, target: string): string {
	const lines = [`viewer ${target}: KLayout ${status.klayout}, ${status.views.length} view${status.views.length === 1 ? '' : 's'}`];
	for (const view of status.views) {
		const box = view.viewbox.map(value => Number(value.toFixed(3))).join(', ');
		lines.push(`${view.current ? '*' : ' '} view ${view.index}: ${view.layers} layers, viewbox [${box}] µm`);
		for (const cellview of view.cellviews) {
			lines.push(`    ${cellview.file} (cell ${cellview.cell})`);
		}

		for (const rdb of view.markerDatabases) {
			lines.push(`    markers: ${rdb}`);
		}
	}

	return lines.join('\n') + '\n';
}

/**
 * lyipc job --remote HOST [--get PATTERN]... [--show] -- COMMAND...: the command's own words
 * come after `--` and are never parsed here. Exit code: the command's, or 2 when it could not run.
 */
async function runJobCommand(argv: readonly string[], io: CliIo): Promise<number> {
	try {
		const split = argv.indexOf('--');
		if (split < 0) {
			throw usage('job: expected job --remote HOST [--get PATTERN]... [--show] -- COMMAND...');
		}

		let values;
		try {
			({values} = parseArgs({args: argv.slice(0, split), options: {remote: {type: 'string'}, get: {type: 'string', multiple: true}, show: {type: 'boolean'}, target: {type: 'string'}}, strict: true}));
		} catch (error) {
			throw usage(`job: ${(error as Error).message}`);
		}

		if (!values.remote) {
			throw usage('job: --remote HOST is required');
		}

		const {runRemoteJob} = await import('../remote/job.js');
		const job = await runRemoteJob({remote: values.remote, command: argv.slice(split + 1), get: values.get, env: io.env, stdout: io.stdout, stderr: io.stderr, signal: io.signal});
		if (values.get?.length) {
			io.stderr.write(`lyipc job: brought back ${job.fetched.length} file${job.fetched.length === 1 ? '' : 's'}\n`);
		}

		const layouts = job.fetched.filter(file => /\.(gds|gds2|gdsii|oas)(\.gz)?$/i.test(file));
		if (values.show && layouts.length > 0) {
			const viewer = await ViewerClient.connect(resolveTarget(values.target, io.env), {token: io.env.LYIPC_TOKEN || undefined});
			try {
				for (const [index, file] of layouts.entries()) {
					await viewer.show(file, {mode: index === 0 ? 'new' : 'add'});
				}
			} finally {
				viewer.close();
			}
		}

		return job.exitCode;
	} catch (error) {
		const failure = isLyipcError(error) ? error : new LyipcError('INTERNAL', String((error as Error).stack ?? error));
		io.stderr.write(`lyipc: ${failure.message}\n${failure.hint ? `${failure.hint}\n` : ''}`);
		return EXIT_ERROR;
	}
}

/** lyipc: viewer commands; resolves with the exit code. */
export async function runLyipc(argv: readonly string[], io: CliIo): Promise<number> {
	if (argv[0] === 'git-diff') {
		// Called by git with file names that may look like options: no option parsing.
		const {gitDiff} = await import('../git/git-diff.js');
		const {pickStyle} = await import('./diff-summary.js');
		return gitDiff(argv.slice(1), io.stdout, pickStyle(io.stdout as NodeJS.WriteStream, io.env));
	}

	if (argv[0] === 'job') {
		return runJobCommand(argv.slice(1), io);
	}

	try {
		let parsed;
		try {
			parsed = parseArgs({args: [...argv], options: OPTIONS, allowPositionals: true, strict: true});
		} catch (error) {
			throw usage((error as Error).message);
		}

		const {values, positionals} = parsed;
		if (values.help || positionals.length === 0) {
			io.stdout.write(LYIPC_HELP);
			return values.help ? 0 : EXIT_ERROR;
		}

		if (values.version) {
			const {LYIPC_VERSION} = await import('../version.js');
			io.stdout.write(`lyipc ${LYIPC_VERSION}\n`);
			return 0;
		}

		const [command, ...rest] = positionals;
		const envToken = io.env.LYIPC_TOKEN || undefined; // set but empty: no token
		const target = resolveTarget(values.target, io.env);
		const timeout = positiveNumber('timeout', values.timeout, 30) * 1000;
		const expectArgs = (count: number, what: string) => {
			if (rest.length !== count) {
				throw usage(`${command}: expected ${what}`);
			}
		};

		const misplaced = Object.keys(values).find(option => !(OPTIONS_FOR[option]?.includes(command!) ?? true));
		if (misplaced) {
			throw usage(`--${misplaced} is not an option of '${command!}' (it is for: ${OPTIONS_FOR[misplaced]!.join(', ')})`);
		}

		const port = (option: 'port' | 'klive-port') => values[option] === undefined ? undefined : portNumber(option, values[option]);
		for (const option of ['klive', 'allow-remote-v1'] as const) {
			if (values[option] && values[`no-${option}`]) {
				throw usage(`--${option} and --no-${option} exclude each other`);
			}
		}

		if (command === 'git-setup') {
			expectArgs(0, 'no arguments: git-setup [--global] [--uninstall]');
			const {gitSetup} = await import('../git/git-setup.js');
			const done = await gitSetup({global: values.global, uninstall: values.uninstall});
			io.stdout.write(done.command
				? `git diff now shows the XOR summary of GDS/OASIS files: diff driver 'lyipc' in the ${values.global ? 'global' : "repository's"} git config, patterns in ${done.attributes}\n`
				: `lyipc diff driver removed (git config and ${done.attributes})\n`);
			return 0;
		}

		if (command === 'server') {
			if (rest.length !== 1 || rest[0] !== 'install') {
				throw usage('server: expected \'server install\'');
			}

			const home = klayoutHome(io.env);
			if (values.uninstall) {
				const {folder} = await uninstallServer({home});
				io.stdout.write(`lyipc server removed from ${folder}\n`);
				return 0;
			}

			const installed = await installServer({
				home,
				autostart: !values['no-autostart'],
				port: port('port'),
				host: values.host,
				klive: values.klive ? true : (values['no-klive'] ? false : undefined),
				klivePort: port('klive-port'),
				allowRemoteV1: values['allow-remote-v1'] ? true : (values['no-allow-remote-v1'] ? false : undefined),
				token: envToken,
			});
			const {settings} = installed;
			io.stdout.write(`lyipc server installed in ${installed.folder}; ${settings.autostart ? 'it starts with KLayout' : 'start it from Tools > Inter-process communication server (Ctrl+I)'}\n`);
			if (settings.host && !isLoopbackHost(settings.host)) {
				io.stdout.write(`it listens on ${settings.host}:${settings.port ?? DEFAULT_VIEWER_PORT}; clients on other machines need LYIPC_TOKEN=${installed.newToken ?? '(the token in ' + installed.settingsFile + ')'}\n`);
			}

			if (settings.klive) {
				io.stdout.write(`klive protocol (gdsfactory/kfactory show()) on 127.0.0.1:${settings.klivePort ?? 8082}\n`);
			}

			return 0;
		}

		if (command === 'viewer') {
			const host = values.host ?? '127.0.0.1';
			checkToken(envToken);
			const token = isLoopbackHost(host) ? envToken : (envToken ?? newToken());
			const files = await Promise.all(rest.map(async file => absoluteFile(file)));
			const {startViewer} = await import('../viewer/start-viewer.js');
			const listen = port('port') ?? target.port;
			const klivePort = values.klive || values['klive-port'] ? port('klive-port') ?? 8082 : undefined;
			const started = await startViewer({port: listen, host, token, klivePort, files, klayout: values.klayout, env: io.env});
			io.stdout.write(started.pid === undefined
				? `a viewer already answers at ${host}:${listen}; ${files.length} file${files.length === 1 ? '' : 's'} shown there\n`
				: `KLayout viewer on ${host}:${listen} (pid ${started.pid})${klivePort ? `, klive on 127.0.0.1:${klivePort}` : ''}\n`);
			if (started.pid !== undefined && token && token !== envToken) {
				io.stdout.write(`clients on other machines need LYIPC_TOKEN=${token}\n`);
			}

			return 0;
		}

		if (!['load', 'reload', 'status', 'screenshot', 'ping', 'watch', 'animate'].includes(command!)) {
			throw usage(`unknown command '${command!}'`);
		}

		if (values.new && values.add) {
			throw usage('--new and --add exclude each other');
		}

		// Check local arguments before connecting: a typo should not wait for a viewer.
		let file: string | undefined;
		if (command === 'load') {
			expectArgs(1, 'one layout file');
			file = await absoluteFile(rest[0]!);
		} else if (command === 'reload') {
			if (rest.length > 1) {
				throw usage('reload: expected at most one file');
			}

			file = rest[0] === undefined ? undefined : await absoluteFile(rest[0]);
		} else if (command === 'screenshot') {
			expectArgs(1, 'the PNG file to write');
		} else if (command === 'watch' || command === 'animate') {
			if (rest.length === 0) {
				throw usage(`${command}: expected one or more layout files`);
			}
		} else {
			expectArgs(0, 'no arguments');
		}

		const viewer = await ViewerClient.connect(target, {timeout, token: envToken});
		const noteUpload = ({uploaded}: {uploaded: boolean}) => {
			if (uploaded) {
				io.stderr.write(`lyipc: the viewer cannot read ${file!} where it runs; sent its bytes instead\n`);
			}
		};
		try {
			switch (command) {
				case 'load': {
					noteUpload(await viewer.show(file!, {mode: values.new ? 'new' : (values.add ? 'add' : 'replace')}));
					break;
				}

				case 'reload': {
					noteUpload(await viewer.reload(file));
					break;
				}

				case 'status': {
					const status = await viewer.request<{views: StatusView[]; klayout: string}>('status');
					io.stdout.write(values.json ? JSON.stringify(status, null, 2) + '\n' : formatStatus(status, `${target.host}:${target.port}`));
					break;
				}

				case 'watch': {
					const files = await Promise.all(rest.map(async file => absoluteFile(file)));
					for (const [index, file] of files.entries()) {
						await viewer.show(file, {mode: index === 0 ? 'new' : 'add'});
					}

					const {watchAndReload} = await import('../viewer/watch.js');
					io.stdout.write(`watching ${files.length} file${files.length === 1 ? '' : 's'}; Ctrl+C to stop\n`);
					await watchAndReload(viewer, files, {
						signal: io.signal,
						onReload(file, error) {
							io.stdout.write(error ? `${file}: reload failed: ${error.message}\n` : `reloaded ${file}\n`);
						},
					});
					break;
				}

				case 'animate': {
					const frames = await Promise.all(rest.map(async file => absoluteFile(file)));
					const interval = positiveNumber('interval', values.interval, 1) * 1000;
					do {
						for (const [index, frame] of frames.entries()) {
							if (io.signal?.aborted) {
								break;
							}

							// The first frame opens a view; the others replace its layout, keeping the viewbox.
							await viewer.show(frame, index === 0 && !values.loop ? {mode: 'new'} : {mode: 'replace', keepView: true});
							io.stdout.write(`frame ${index + 1}/${frames.length}: ${frame}\n`);
							await new Promise(resolve => {
								setTimeout(resolve, index === frames.length - 1 && !values.loop ? 0 : interval);
							});
						}
					} while (values.loop && !io.signal?.aborted);

					break;
				}

				case 'screenshot': {
					const width = positiveNumber('width', values.width, 800);
					const height = positiveNumber('height', values.height, 600);
					const shot = await viewer.request<{png: string}>('screenshot', {width, height});
					await writeFileAtomically(path.resolve(rest[0]!), Buffer.from(shot.png, 'base64'), 'the screenshot');
					break;
				}

				default: {
					await viewer.request('ping');
					io.stdout.write(`viewer ${target.host}:${target.port}: KLayout ${viewer.klayoutVersion}, protocol ${viewer.protocol}\n`);
				}
			}
		} finally {
			viewer.close();
		}

		return 0;
	} catch (error) {
		const failure = isLyipcError(error) ? error : new LyipcError('INTERNAL', `unexpected failure: ${(error as Error).stack ?? String(error)}`);
		io.stderr.write(`lyipc: ${failure.message}\n${failure.hint ? `${failure.hint}\n` : ''}`);
		return EXIT_ERROR;
	}
}
