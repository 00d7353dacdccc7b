import {readFileSync} from 'node:fs';
import path from 'node:path';
import {klayoutHome} from './install.js';
import {isLoopbackHost, type ViewerTarget} from './target.js';

/**
 * The session token of a viewer on this machine that cannot tell which user connects (no
 * /proc/net or sock_diag: macOS, Windows): it writes the token into `lyipc-token-<port>` in its
 * KLAYOUT_HOME, readable by its user only, and asks v2 clients for it (docs/protocol.md).
 * Undefined for a viewer elsewhere, or when there is no such file (a Linux viewer checks the
 * connecting user itself).
 */
export function sessionToken(target: ViewerTarget, env: NodeJS.ProcessEnv = process.env): string | undefined {
	if (!isLoopbackHost(target.host)) {
		return undefined;
	}

	try {
		return readFileSync(path.join(klayoutHome(env), `lyipc-token-${target.port}`), 'utf8').trim() || undefined;
	} catch {
		return undefined;
	}
}
