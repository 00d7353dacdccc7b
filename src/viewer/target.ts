import {LyipcError} from '../errors.js';
import {SHARED} from '../shared.js';

export const DEFAULT_VIEWER_PORT = SHARED.viewerPort;

export interface ViewerTarget {
	host: string;
	port: number;
	/** From the old `LYIPCTARGET=user@host`: files go to the viewer's machine over ssh (rsync) rather than over the socket. */
	ssh?: string | undefined;
}

/**
 * Where the viewer is: `target` (`host[:port]`, e.g. from `--target`), else `LYIPC_TARGET`,
 * else the old lyipc's `LYIPCTARGET` (`user@host`: the viewer runs on host), else 127.0.0.1;
 * the port defaults to `LYIPC_PORT` or 11078.
 */
export function resolveTarget(target?: string, env: NodeJS.ProcessEnv = process.env): ViewerTarget {
	const defaultPort = env.LYIPC_PORT ? Number(env.LYIPC_PORT) : DEFAULT_VIEWER_PORT;
	const given = target ?? env.LYIPC_TARGET ?? (env.LYIPCTARGET ? env.LYIPCTARGET.replace(/^[^@]*@/, '') : undefined);
	if (!given) {
		return {host: '127.0.0.1', port: defaultPort};
	}

	const match = /^(\[[^\]]+\]|[^:@\s]+)(?::(\d+))?$/.exec(given);
	if (!match) {
		throw new LyipcError('USAGE', `viewer target ${given}: expected host[:port]`);
	}

	const fromOldVariable = target === undefined && env.LYIPC_TARGET === undefined && env.LYIPCTARGET;
	return {host: match[1]!.replace(/^\[|\]$/g, ''), port: match[2] ? Number(match[2]) : defaultPort, ...(fromOldVariable ? {ssh: env.LYIPCTARGET} : {})};
}

const LOOPBACK = new Set(['localhost', '::1']);

/** Whether a host name or address is this machine's loopback (where the viewer sees our files). */
export function isLoopbackHost(host: string): boolean {
	return LOOPBACK.has(host) || host.startsWith('127.');
}

export function describeTarget(target: ViewerTarget): string {
	return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}
