import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import net from 'node:net';
import {networkInterfaces, tmpdir} from 'node:os';
import path from 'node:path';
import {execa} from 'execa';
import {afterAll, beforeAll} from 'vitest';
import {PNG} from 'pngjs';
import {LYIPC_CLI, ROOT} from './run.js';

/** A real KLayout GUI on its own Xvfb display, with a fresh KLAYOUT_HOME and the lyipc server on a free port. */
type Child = Promise<unknown> & {pid?: number | undefined; exitCode?: number | null | undefined};

export interface GuiViewer {
	port: number;
	/** The klive listener's port, when started with `klive: true`. */
	klivePort: number | undefined;
	home: string;
	/** The Xvfb display KLayout runs on (for xdotool). */
	display: string;
	klayout: Child;
	stop(): Promise<void>;
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const {port} = server.address() as net.AddressInfo;
			server.close(() => {
				resolve(port);
			});
		});
	});
}

/** Starts Xvfb on a display it picks itself (-displayfd), so parallel runs never collide. */
export async function startXvfb(): Promise<{display: string; process: Child}> {
	const xvfb = execa('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
		stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
		reject: false,
		detached: true,
	});
	const display = await new Promise<string>((resolve, reject) => {
		const fd3 = xvfb.stdio[3] as NodeJS.ReadableStream;
		let text = '';
		fd3.on('data', (chunk: Buffer) => {
			text += chunk.toString();
			if (text.includes('\n')) {
				resolve(`:${text.trim()}`);
			}
		});
		void xvfb.then(result => {
			reject(new Error(`Xvfb ended before giving a display: ${String(result.stderr)}`));
		});
	});
	return {display, process: xvfb};
}

export function kill(process: Child): void {
	if (process.pid !== undefined) {
		try {
			globalThis.process.kill(-process.pid, 'SIGKILL'); // KLayout ignores SIGTERM while busy
		} catch {
			// already gone
		}
	}
}

/**
 * This machine's first non-loopback IPv4 address: connections from it reach a server as
 * "another machine" would. The test machines have one (eth0); without one the test fails and says so.
 */
export function externalAddress(): string {
	for (const addresses of Object.values(networkInterfaces())) {
		const address = addresses?.find(entry => entry.family === 'IPv4' && !entry.internal);
		if (address) {
			return address.address;
		}
	}

	throw new Error('this machine has no non-loopback IPv4 address to play "another machine" from');
}

/**
 * `install` (default) sets the fresh KLAYOUT_HOME up with `lyipc server install [installArgs]`,
 * as a user would, and starts plain `klayout`; `boot` starts `klayout -rm klayout/lyipc_boot.py`.
 * `ready: false` returns as soon as KLayout runs, without waiting for the server.
 */
export interface GuiViewerOptions {
	via?: 'install' | 'boot';
	/** With `boot`: the folder whose lyipc_boot.py is started (default ROOT/klayout): a copy of the server, as of another version. */
	serverFolder?: string;
	installArgs?: string[];
	/** Install with the klive listener on a free port. */
	klive?: boolean;
	/** More environment for KLayout (LYIPC_* settings). */
	env?: Record<string, string>;
	/** More keys for KLAYOUT_HOME/lyipc.json (uploadQuota, screenshotTimeout, ...). */
	settings?: Record<string, unknown>;
	ready?: boolean;
}

export async function startGuiViewer(options: GuiViewerOptions = {}): Promise<GuiViewer> {
	const xvfb = await startXvfb();
	const home = await mkdtemp(path.join(tmpdir(), 'lyipc-klayout-home-'));
	const port = await freePort();
	const klivePort = options.klive ? await freePort() : undefined;
	let args: string[] = [];
	if ((options.via ?? 'install') === 'install') {
		const installArgs = [...(options.installArgs ?? []), ...(klivePort ? ['--klive', '--klive-port', String(klivePort)] : [])];
		const install = await execa(process.execPath, [LYIPC_CLI, 'server', 'install', '--port', String(port), ...installArgs], {env: {KLAYOUT_HOME: home}, reject: false});
		if (install.exitCode !== 0) {
			kill(xvfb.process);
			throw new Error(`lyipc server install failed: ${String(install.stderr)}`);
		}
	} else {
		args = ['-rm', path.join(options.serverFolder ?? path.join(ROOT, 'klayout'), 'lyipc_boot.py')];
	}

	if (options.settings) {
		const file = path.join(home, 'lyipc.json');
		const written = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<string, unknown>;
		await writeFile(file, JSON.stringify({...written, ...options.settings}), {mode: 0o600});
	}

	const klayout = execa(process.env.KLAYOUT ?? 'klayout', args, {
		env: {DISPLAY: xvfb.display, KLAYOUT_HOME: home, LYIPC_PORT: String(port), ...options.env},
		detached: true,
		reject: false,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	const viewer: GuiViewer = {
		port,
		klivePort,
		home,
		display: xvfb.display,
		klayout,
		async stop() {
			kill(klayout);
			kill(xvfb.process);
			await Promise.allSettled([klayout, xvfb.process]);
			await rm(home, {recursive: true, force: true});
		},
	};
	if (options.ready === false) {
		return viewer;
	}

	const deadline = Date.now() + 60_000;
	while (Date.now() < deadline) {
		if (klayout.exitCode !== undefined && klayout.exitCode !== null) {
			break;
		}

		try {
			const [reply] = await v2Session(port, [{id: 0, method: 'ping'}], 2000);
			if (reply) {
				// Up: it answers (a viewer that wants a token answers UNAUTHORIZED).
				return viewer;
			}
		} catch {
			await new Promise(resolve => {
				setTimeout(resolve, 250);
			});
		}
	}

	await viewer.stop();
	const result = (await klayout) as {stdout: unknown; stderr: unknown};
	throw new Error(`the KLayout GUI did not start the lyipc server:\n${String(result.stdout)}\n${String(result.stderr)}`);
}

/** Send bytes, read until the server closes (a v1 exchange, or a refused v2 connection); rejects when it stays open past `timeout`. */
export async function v1Exchange(port: number, bytes: Buffer | string, timeout = 10_000, host = '127.0.0.1'): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const socket = net.connect(port, host);
		const chunks: Buffer[] = [];
		socket.setTimeout(timeout, () => {
			socket.destroy(new Error(`no reply within ${timeout} ms`));
		});
		socket.on('connect', () => socket.write(bytes));
		socket.on('data', (chunk: Buffer) => chunks.push(chunk));
		socket.on('error', reject);
		socket.on('close', () => {
			resolve(Buffer.concat(chunks));
		});
	});
}

export interface V2Reply {
	id: unknown;
	ok: boolean;
	// biome-ignore lint/suspicious/noExplicitAny: tests read any field of any method's answer
	result?: any;
	error?: {code: string; message: string};
}

/** Several v2 requests on one connection, one after the other. */
export async function v2Session(port: number, requests: Array<Record<string, unknown>>, timeout = 30_000, host = '127.0.0.1'): Promise<V2Reply[]> {
	return new Promise((resolve, reject) => {
		const socket = net.connect(port, host);
		const replies: V2Reply[] = [];
		let buffer = '';
		socket.setTimeout(timeout, () => {
			socket.destroy(new Error(`no reply within ${timeout} ms`));
		});
		const next = () => {
			const request = requests[replies.length];
			if (request) {
				socket.write(JSON.stringify(request) + '\n');
			} else {
				socket.end();
				resolve(replies);
			}
		};

		socket.on('connect', next);
		socket.on('data', (chunk: Buffer) => {
			buffer += chunk.toString('utf8');
			for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
				replies.push(JSON.parse(buffer.slice(0, newline)) as V2Reply);
				buffer = buffer.slice(newline + 1);
				next();
			}
		});
		socket.on('error', reject);
		socket.on('close', () => {
			if (replies.length < requests.length) {
				reject(new Error(`connection closed after ${replies.length} of ${requests.length} replies`));
			}
		});
	});
}

export interface ViewerStatus {
	views: Array<{
		index: number;
		title: string;
		current: boolean;
		viewbox: number[];
		layers: number;
		cellviews: Array<{file: string; cell: string}>;
		markerDatabases: string[];
	}>;
	klayout: string;
	modal: string | null;
}

/** The viewer's `status` answer (v2, from loopback). */
export async function viewerStatus(port: number): Promise<ViewerStatus> {
	const [reply] = await v2Session(port, [{id: 's', method: 'status'}]);
	if (!reply?.ok) {
		throw new Error(`status failed: ${JSON.stringify(reply)}`);
	}

	return reply.result as ViewerStatus;
}

/** The view marked current in a status answer. */
export function currentView(status: ViewerStatus): ViewerStatus['views'][number] {
	const view = status.views.find(entry => entry.current);
	if (!view) {
		throw new Error(`no current view in ${JSON.stringify(status)}`);
	}

	return view;
}

/** Pixels of a PNG by colour: how a test sees that something was drawn, and in which colours. */
export async function pngColours(file: string): Promise<{width: number; height: number; colours: Map<string, number>}> {
	const png = PNG.sync.read(await readFile(file));
	const colours = new Map<string, number>();
	for (let i = 0; i < png.data.length; i += 4) {
		const key = `${png.data[i]},${png.data[i + 1]},${png.data[i + 2]}`;
		colours.set(key, (colours.get(key) ?? 0) + 1);
	}

	return {width: png.width, height: png.height, colours};
}

/** Share of a PNG's pixels in the solid red lyipc gives XOR layers (#FF2020). */
export async function redShare(file: string): Promise<number> {
	const {width, height, colours} = await pngColours(file);
	let red = 0;
	for (const [rgb, count] of colours) {
		const [r, g, b] = rgb.split(',').map(Number);
		if (r! > 200 && g! < 80 && b! < 80) {
			red += count;
		}
	}

	return red / (width * height);
}

/**
 * Call in a describe block: one GUI viewer (set up with `lyipc server install`) and one
 * temporary folder shared by its tests, both gone afterwards.
 */
export function useGuiViewer(options: GuiViewerOptions = {}): {readonly viewer: GuiViewer; readonly temp: string} {
	const state = {} as {viewer: GuiViewer; temp: string};
	beforeAll(async () => {
		state.viewer = await startGuiViewer(options);
		state.temp = await mkdtemp(path.join(tmpdir(), 'lyipc-gui-test-'));
	}, 90_000);
	afterAll(async () => {
		await state.viewer?.stop();
		if (state.temp) {
			await rm(state.temp, {recursive: true, force: true});
		}
	});
	return state;
}
