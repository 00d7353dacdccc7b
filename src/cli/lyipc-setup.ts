import {DEFAULT_VIEWER_PORT, isLoopbackHost} from '../viewer/client.js';
import {describeTarget} from '../viewer/target.js';
import {checkToken, installServer, klayoutHome, newToken, uninstallServer} from '../viewer/install.js';
import type {CliIo} from './io.js';
import {absoluteFile, usage, type LyipcArgs} from './lyipc-args.js';

/** lyipc git-setup [--global] [--uninstall]: the git diff driver. */
export async function gitSetupCommand(args: LyipcArgs, io: CliIo): Promise<number> {
	const {values} = args;
	args.expectArgs(0, 'no arguments: git-setup [--global] [--uninstall]');
	const {gitSetup} = await import('../git/git-setup.js');
	const done = await gitSetup({global: values.global, uninstall: values.uninstall});
	io.stdout.write(
		done.command
			? `git diff now shows the XOR summary of GDS/OASIS files: diff driver 'lyipc' in the ${values.global ? 'global' : "repository's"} git config, patterns in ${done.attributes}\n`
			: `lyipc diff driver removed (git config and ${done.attributes})\n`,
	);
	return 0;
}

/** lyipc server install [--uninstall] [server options]: the salt package in KLAYOUT_HOME. */
export async function serverInstallCommand(args: LyipcArgs, io: CliIo): Promise<number> {
	const {values, rest, port} = args;
	if (rest.length !== 1 || rest[0] !== 'install') {
		throw usage("server: expected 'server install'");
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
		klive: values.klive ? true : values['no-klive'] ? false : undefined,
		klivePort: port('klive-port'),
		allowRemoteV1: values['allow-remote-v1'] ? true : values['no-allow-remote-v1'] ? false : undefined,
		token: args.envToken,
	});
	const {settings} = installed;
	io.stdout.write(`lyipc server installed in ${installed.folder}; ${settings.autostart ? 'it starts with KLayout' : 'start it from Tools > Inter-process communication server (Ctrl+I)'}\n`);
	if (settings.host && !isLoopbackHost(settings.host)) {
		io.stdout.write(
			`it listens on ${settings.host}:${settings.port ?? DEFAULT_VIEWER_PORT}; clients on other machines need LYIPC_TOKEN=${installed.newToken ?? '(the token in ' + installed.settingsFile + ')'}\n`,
		);
	}

	if (settings.klive) {
		io.stdout.write(`klive protocol (gdsfactory/kfactory show()) on 127.0.0.1:${settings.klivePort ?? 8082}\n`);
	}

	return 0;
}

/** lyipc viewer [FILES...]: KLayout with the server running, nothing installed. */
export async function viewerCommand(args: LyipcArgs, io: CliIo): Promise<number> {
	const {values, rest, port, envToken} = args;
	const host = values.host ?? '127.0.0.1';
	checkToken(envToken);
	const token = isLoopbackHost(host) ? envToken : (envToken ?? newToken());
	const files = await Promise.all(rest.map(async file => absoluteFile(file)));
	const {startViewer} = await import('../viewer/start-viewer.js');
	const listen = port('port') ?? args.target.port;
	const klivePort = values.klive || values['klive-port'] ? (port('klive-port') ?? 8082) : undefined;
	const started = await startViewer({port: listen, host, token, klivePort, files, klayout: values.klayout, env: io.env});
	io.stdout.write(
		started.pid === undefined
			? `a viewer already answers at ${describeTarget({host, port: listen})}; ${files.length} file${files.length === 1 ? '' : 's'} shown there\n`
			: `KLayout viewer on ${describeTarget({host, port: listen})} (pid ${started.pid})${klivePort ? `, klive on 127.0.0.1:${klivePort}` : ''}\n`,
	);
	if (started.pid !== undefined && token && token !== envToken) {
		io.stdout.write(`clients on other machines need LYIPC_TOKEN=${token}\n`);
	}

	return 0;
}
