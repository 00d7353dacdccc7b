import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {findKLayout} from '../engine/find-klayout.js';
import {LyipcError} from '../errors.js';
import {ViewerClient} from './client.js';

/** klayout/lyipc_boot.py: starts the server in a KLayout GUI without installing anything. */
export const BOOT_SCRIPT = fileURLToPath(new URL('../../klayout/lyipc_boot.py', import.meta.url));

export interface StartViewerOptions {
	port: number;
	files?: string[];
	klayout?: string | undefined;
	env?: NodeJS.ProcessEnv;
	/** Milliseconds to wait for the server to answer (default 60 s: a GUI under load starts slowly). */
	startTimeout?: number;
}

/**
 * Starts a KLayout GUI with the lyipc server on `port`, detached so it outlives this process,
 * and waits until the server answers. When a viewer already answers there, shows the files in
 * it instead (pid undefined).
 */
export async function startViewer(options: StartViewerOptions): Promise<{pid: number | undefined}> {
	const target = {host: '127.0.0.1', port: options.port};
	const files = options.files ?? [];
	const running = await ViewerClient.connect(target, {connectTimeout: 500}).catch(() => undefined);
	if (running) {
		try {
			for (const file of files) {
				await running.show(file, {mode: 'new'});
			}
		} finally {
			running.close();
		}

		return {pid: undefined};
	}

	const klayout = await findKLayout({klayout: options.klayout, env: options.env});
	const child = execa(klayout.path, ['-rm', BOOT_SCRIPT, ...files], {
		env: {...options.env, LYIPC_PORT: String(options.port)},
		extendEnv: options.env === undefined,
		detached: true,
		stdio: 'ignore',
		reject: false,
	});
	child.unref();
	const deadline = Date.now() + (options.startTimeout ?? 60_000);
	while (Date.now() < deadline && child.exitCode === null) {
		const client = await ViewerClient.connect(target, {connectTimeout: 500}).catch(() => undefined);
		if (client) {
			client.close();
			return {pid: child.pid};
		}

		await new Promise(resolve => {
			setTimeout(resolve, 250);
		});
	}

	if (child.pid !== undefined && child.exitCode === null) {
		process.kill(-child.pid, 'SIGKILL');
	}

	throw new LyipcError('VIEWER_UNREACHABLE', `KLayout (${klayout.path}) did not start the lyipc server on 127.0.0.1:${options.port}`, {
		hint: 'A KLayout GUI needs a display (DISPLAY on Linux); is the port taken by another program?',
	});
}
