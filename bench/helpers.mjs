// What the benchmarks and hostile-input sets share: a seeded generator, a child process with a
// time limit, a free port, and a KLayout GUI with the viewer server under Xvfb.
import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** mulberry32, a small fast generator: the same seed, the same cases. */
export function random(seed) {
	let state = seed >>> 0;
	const next = () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
	};

	return {next, int: (low, high) => low + Math.floor(next() * (high - low + 1)), pick: list => list[Math.floor(next() * list.length)]};
}

/**
 * Runs a command; resolves {code, signal, stdout, stderr, hung, ms}. Past `timeoutMs` it is
 * killed and `hung` is true; with `group`, in a process group of its own, killed with it (a
 * KLayout it started too; Ctrl+C then no longer reaches it).
 */
export function runChild(command, args, {cwd, env, timeoutMs, group = false} = {}) {
	return new Promise(resolve => {
		const started = performance.now();
		const {child, output} = spawnCapturing(command, args, {cwd, env, detached: group});
		let hung = false;
		const timer =
			timeoutMs === undefined
				? undefined
				: setTimeout(() => {
						hung = true;
						try {
							process.kill(group ? -child.pid : child.pid, 'SIGKILL');
						} catch {}
					}, timeoutMs);
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({code, signal, ...output(), hung, ms: performance.now() - started});
		});
	});
}

/** A child with its stdout and stderr collected as text: `output()` gives {stdout, stderr} so far. */
export function spawnCapturing(command, args, {cwd, env, detached = false} = {}) {
	const child = spawn(command, args, {cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached});
	let stdout = '';
	let stderr = '';
	child.stdout.on('data', chunk => {
		stdout += chunk;
	});
	child.stderr.on('data', chunk => {
		stderr += chunk;
	});
	return {child, output: () => ({stdout, stderr})};
}

/** A TCP port nothing listens on right now. */
export async function freePort() {
	return new Promise(resolve => {
		const server = net.createServer().listen(0, '127.0.0.1', () => {
			const {port} = server.address();
			server.close(() => resolve(port));
		});
	});
}

/** One v2 ping on a new connection: whether the server answers within `timeout` ms. */
async function answersPing(port, timeout) {
	return new Promise(resolve => {
		const socket = net.connect(port, '127.0.0.1', () => socket.write('{"id":0,"method":"ping"}\n'));
		let text = '';
		const done = answered => {
			socket.destroy();
			resolve(answered);
		};

		const timer = setTimeout(() => done(false), timeout);
		socket.on('data', chunk => {
			text += chunk;
			if (text.includes('pong')) {
				clearTimeout(timer);
				done(true);
			}
		});
		socket.on('error', () => {
			clearTimeout(timer);
			done(false);
		});
	});
}

/**
 * Xvfb on a display it picks, and a KLayout GUI on it running the viewer server
 * (klayout/lyipc_boot.py) with a fresh KLAYOUT_HOME (`settings` as its lyipc.json; `klive` also
 * starts the klive listener). Resolves {port, klivePort, pid (KLayout's), stop, alive} once the server answers.
 */
export async function startGuiViewer({klayout = process.env.KLAYOUT ?? 'klayout', settings, klive = false} = {}) {
	const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {stdio: ['ignore', 'ignore', 'ignore', 'pipe'], detached: true});
	const display = await new Promise((resolve, reject) => {
		let text = '';
		xvfb.stdio[3].on('data', chunk => {
			text += chunk;
			if (text.includes('\n')) {
				resolve(`:${text.trim()}`);
			}
		});
		xvfb.on('error', reject);
		xvfb.on('exit', () => reject(new Error('Xvfb ended before giving a display (is the xvfb package installed?)')));
	});
	const home = mkdtempSync(path.join(tmpdir(), 'lyipc-bench-home-'));
	if (settings) {
		writeFileSync(path.join(home, 'lyipc.json'), JSON.stringify(settings));
	}

	const port = await freePort();
	const klivePort = klive ? await freePort() : undefined;
	const gui = spawn(klayout, ['-rm', path.join(ROOT, 'klayout', 'lyipc_boot.py')], {
		env: {...process.env, DISPLAY: display, KLAYOUT_HOME: home, LYIPC_PORT: String(port), ...(klive ? {LYIPC_KLIVE_PORT: String(klivePort)} : {})},
		stdio: 'ignore',
		detached: true,
	});
	let exited = false;
	gui.on('exit', () => {
		exited = true;
	});
	const stop = () => {
		for (const child of [gui, xvfb]) {
			try {
				process.kill(-child.pid, 'SIGKILL');
			} catch {}
		}

		rmSync(home, {recursive: true, force: true});
	};

	const deadline = Date.now() + 60_000;
	while (Date.now() < deadline && !exited) {
		if (await answersPing(port, 1000)) {
			return {port, klivePort, pid: gui.pid, stop, alive: () => !exited};
		}

		await new Promise(resolve => setTimeout(resolve, 250));
	}

	stop();
	throw new Error('the KLayout GUI did not start the lyipc server within 60 s');
}
