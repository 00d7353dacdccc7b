import {openSync, closeSync, readFileSync, rmSync} from 'node:fs';
import {KLAYOUT_DIR} from '../package-root.js';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {randomBytes} from 'node:crypto';
import {spawn} from 'node:child_process';
import {findKLayout} from '../engine/find-klayout.js';
import {LyipcError} from '../errors.js';
import {killGroup} from '../kill-group.js';
import {ViewerClient} from './client.js';
import {describeTarget} from './target.js';

/** klayout/lyipc_boot.py: starts the server in a KLayout GUI without installing anything. */
export const BOOT_SCRIPT = path.join(KLAYOUT_DIR, 'lyipc_boot.py');

export interface StartViewerOptions {
	port: number;
	files?: string[] | undefined;
	klayout?: string | undefined;
	env?: NodeJS.ProcessEnv | undefined;
	/** Address to listen on (default 127.0.0.1); anything but loopback needs `token`. */
	host?: string | undefined;
	token?: string | undefined;
	/** Also answer klive's protocol (gdsfactory/kfactory show()) on 127.0.0.1 at this port. */
	klivePort?: number | undefined;
	/** Milliseconds to wait for the server to answer (default 60 s: a GUI under load starts slowly). */
	startTimeout?: number | undefined;
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

/**
 * Starts a KLayout GUI with the lyipc server on `port`, detached so it outlives this process,
 * and waits until the server answers. When a viewer already answers there, shows the files in
 * it instead (pid undefined). A server that cannot start (port taken, bad setting) fails at
 * once with KLayout's reason.
 */
export async function startViewer(options: StartViewerOptions): Promise<{pid: number | undefined}> {
	const host = options.host ?? '127.0.0.1';
	const target = {host: WILDCARDS.has(host) ? '127.0.0.1' : host, port: options.port};
	const connect = async () => ViewerClient.connect(target, {connectTimeout: 500, token: options.token}).catch(() => undefined);
	const show = async (viewer: ViewerClient) => {
		try {
			for (const file of options.files ?? []) {
				await viewer.show(file, {mode: 'new'});
			}
		} finally {
			viewer.close();
		}
	};

	const running = await connect();
	if (running) {
		await show(running);
		return {pid: undefined};
	}

	const klayout = await findKLayout({klayout: options.klayout, env: options.env});
	// KLayout's stderr goes to a file (a pipe would break when this process ends): the boot
	// script writes there why the server did not start.
	const log = path.join(tmpdir(), `lyipc-viewer-${randomBytes(6).toString('hex')}.log`);
	const stderr = openSync(log, 'w');
	const settings = {
		LYIPC_PORT: String(options.port),
		LYIPC_HOST: host,
		...(options.token ? {LYIPC_TOKEN: options.token} : {}),
		...(options.klivePort ? {LYIPC_KLIVE_PORT: String(options.klivePort)} : {}),
	};
	// node:child_process rather than execa: a file descriptor for stderr, and nothing to await.
	// Files are sent once the server answers, not given on KLayout's command line: loaded at
	// start-up, before the server has turned KLayout's tips off, they would open a tip dialog.
	const child = spawn(klayout.path, ['-rm', BOOT_SCRIPT], {
		env: {...(options.env ?? process.env), ...settings},
		detached: true,
		stdio: ['ignore', 'ignore', stderr],
	});
	let spawnError: Error | undefined;
	child.on('error', error => {
		spawnError = error;
	});
	closeSync(stderr);
	child.unref();
	const ended = () => child.exitCode !== null || child.signalCode !== null;
	const failure = () =>
		spawnError?.message ??
		/lyipc server not started: (.*)/.exec(readFileSync(log, 'utf8'))?.[1] ??
		// KLayout ended (without a display Qt aborts): its own words.
		(ended() ? klayoutSaid(readFileSync(log, 'utf8'), child.exitCode, child.signalCode) : undefined);
	try {
		const deadline = Date.now() + (options.startTimeout ?? 60_000);
		while (Date.now() < deadline && !ended() && !failure()) {
			const client = await connect();
			if (client) {
				await show(client);
				return {pid: child.pid};
			}

			await new Promise(resolve => {
				setTimeout(resolve, 250);
			});
		}

		// The child may end at any moment: give the exit a moment to be seen, then read why.
		await new Promise(resolve => {
			setTimeout(resolve, ended() ? 0 : 50);
		});
		const why = failure();
		killGroup(child);

		const noDisplay = process.platform === 'linux' && !options.env?.DISPLAY && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
		throw new LyipcError('VIEWER_UNREACHABLE', `KLayout (${klayout.path}) did not start the lyipc server on ${describeTarget({host, port: options.port})}${why ? `: ${why}` : ''}`, {
			hint: noDisplay
				? 'A KLayout GUI needs a display: DISPLAY is not set (on a server: xvfb-run lyipc viewer, or use lyipc-diff alone)'
				: why
					? undefined
					: 'A KLayout GUI needs a display (DISPLAY on Linux); is the port taken by another program?',
		});
	} finally {
		try {
			rmSync(log, {force: true}); // KLayout keeps writing to it, unnamed, until it ends
		} catch {
			// Windows: an open file cannot be removed; it stays in the temp folder
		}
	}
}

/** What KLayout printed before it ended: its fatal line when there is one, else its last lines. */
function klayoutSaid(text: string, code: number | null, signal: string | null): string {
	const lines = text
		.split('\n')
		.map(line => line.trim())
		.filter(Boolean);
	const fatal = lines.find(line => /^(fatal|error)\b/i.test(line)) ?? lines.slice(-2).join(' ');
	const how = signal ? `ended by ${signal}` : `exited with code ${code ?? '?'}`;
	return fatal ? `KLayout ${how}: ${fatal}` : `KLayout ${how}`;
}
