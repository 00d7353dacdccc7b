import net from 'node:net';
import {LyipcError} from '../errors.js';
import {ViewerError} from './viewer-error.js';
import {describeTarget, type ViewerTarget} from './target.js';

/**
 * The original lyipc line protocol (v1), for viewers that run the old Python lyipc server:
 * one line per connection, `ACK <text>` or `ERR <repr>` back, then the server closes.
 * Only what v1 can say: load (3 modes), reload of the current view, ping.
 */

const LOAD_MODES: Record<string, number> = {replace: 0, new: 1, add: 2};

/** The v1 line for a v2 request; VIEWER_ERROR (viewerCode UNSUPPORTED) when v1 has no such command. */
export function v1Line(method: string, params: Record<string, unknown>, target: ViewerTarget): string {
	if (method === 'ping') {
		return 'ping';
	}

	if (method === 'reload') {
		return 'reload view'; // v1 reloads the current view; it cannot pick a file
	}

	if (method === 'load' && typeof params.path === 'string' && !/[\r\n"]/.test(params.path)) {
		const mode = LOAD_MODES[String(params.mode ?? 'replace')];
		if (mode !== undefined) {
			// The old client quoted names with spaces, and only those.
			return `load ${params.path.includes(' ') ? `"${params.path}"` : params.path} ${mode}`;
		}
	}

	throw unsupportedByV1(target, method === 'load' ? 'do this load' : `do ${method}`);
}

/** VIEWER_ERROR (viewerCode UNSUPPORTED): an old lyipc server cannot `what` ("receive files"). */
export function unsupportedByV1(target: ViewerTarget, what: string): LyipcError {
	return new ViewerError('UNSUPPORTED', `viewer at ${describeTarget(target)} runs the old lyipc server (protocol v1), which cannot ${what}`, {
		hint: 'Install the current server into that KLayout: npx lyipc server install',
	});
}

/** One v1 exchange: the line out, everything up to the server's close back. */
export async function v1Request(target: ViewerTarget, line: string, timeout: number): Promise<string> {
	const reply = await new Promise<string>((resolve, reject) => {
		const socket = net.connect(target.port, target.host);
		const chunks: Buffer[] = [];
		const timer = setTimeout(() => {
			socket.destroy();
			reject(new LyipcError('VIEWER_TIMEOUT', `viewer at ${describeTarget(target)}: no answer to '${line}' within ${timeout / 1000} s`));
		}, timeout);
		// No half-close after the line: Qt servers take it for a hang-up and drop the reply.
		let connected = false;
		socket.on('connect', () => {
			connected = true;
			socket.write(`${line}\r\n`);
		});
		socket.on('data', (chunk: Buffer) => chunks.push(chunk));
		socket.on('error', (error: NodeJS.ErrnoException) => {
			clearTimeout(timer);
			reject(new LyipcError(connected ? 'VIEWER_CLOSED' : 'VIEWER_UNREACHABLE', `viewer at ${describeTarget(target)}: ${error.code ?? error.message}`, {cause: error}));
		});
		socket.on('close', () => {
			clearTimeout(timer);
			resolve(Buffer.concat(chunks).toString('utf8'));
		});
	});
	if (reply.startsWith('ACK')) {
		return reply.slice(4);
	}

	const message = reply.startsWith('ERR ') ? reply.slice(4) : `an answer that is not lyipc's: ${JSON.stringify(reply.slice(0, 80))}`;
	throw new ViewerError('V1_ERROR', `viewer at ${describeTarget(target)}: '${line}' failed: ${message}`);
}
