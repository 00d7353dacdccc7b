import {randomBytes} from 'node:crypto';
import {KLAYOUT_DIR} from '../package-root.js';
import {chmod, copyFile, mkdir, readFile, rename, rm, writeFile} from 'node:fs/promises';
import {homedir} from 'node:os';
import path from 'node:path';
import {LyipcError} from '../errors.js';
import {SHARED} from '../shared.js';
import {LYIPC_VERSION} from '../version.js';
import {isLoopbackHost} from './target.js';

/** The Python that runs inside the KLayout GUI (klayout/ in the package). */
const SERVER_FILES = SHARED.serverFiles;
export const SALT_NAME = 'lyipc';

/** KLayout's configuration folder: $KLAYOUT_HOME, else ~/.klayout (on Windows %USERPROFILE%\\KLayout). */
export function klayoutHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
	return path.resolve(env.KLAYOUT_HOME || path.join(homedir(), platform === 'win32' ? 'KLayout' : '.klayout'));
}

/** What `$KLAYOUT_HOME/lyipc.json` holds (docs/protocol.md, "Settings"). */
export interface ServerSettings {
	/** Start the server when KLayout starts; else from Tools > Inter-process communication server (Ctrl+I). */
	autostart?: boolean | undefined;
	port?: number | undefined;
	/** Address to listen on (default 127.0.0.1); anything but loopback needs `token`. */
	host?: string | undefined;
	/** Secret that clients on other machines send with hello. */
	token?: string | undefined;
	/** Accept the old v1 protocol (which has no token) from other machines too. */
	allowRemoteV1?: boolean | undefined;
	/** Also answer klive's protocol (gdsfactory/kfactory show()) on 127.0.0.1:klivePort. */
	klive?: boolean | undefined;
	klivePort?: number | undefined;
}

export interface InstallOptions extends ServerSettings {
	home?: string | undefined;
}

/** Shortest token the server accepts (klayout/lyipc_settings.py). */
export const MIN_TOKEN_LENGTH = 16;

export function checkToken(token: string | undefined): void {
	if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
		throw new LyipcError('USAGE', `LYIPC_TOKEN: a token needs at least ${MIN_TOKEN_LENGTH} characters (it guards a port other machines can reach)`);
	}
}

/** A secret for a viewer that listens beyond loopback: 32 URL-safe characters. */
export function newToken(): string {
	return randomBytes(SHARED.tokenBytes).toString('base64url');
}

async function readSettings(file: string): Promise<ServerSettings> {
	try {
		const value = JSON.parse(await readFile(file, 'utf8')) as unknown;
		return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as ServerSettings) : {};
	} catch {
		return {};
	}
}

const xml = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

function grain(): string {
	return `<?xml version="1.0" encoding="utf-8"?>
<salt-grain>
 <name>${SALT_NAME}</name>
 <version>${xml(LYIPC_VERSION)}</version>
 <api-version>0.28</api-version>
 <title>lyipc viewer server</title>
 <doc>Shows layouts sent by lyipc, lyipc-diff, lytest and other lyipc clients (TCP 127.0.0.1:11078). Tools &gt; Inter-process communication server (Ctrl+I).</doc>
 <author>lyipc</author>
</salt-grain>
`;
}

/** The autorun macro: puts the package's Python on sys.path and installs the menu item. */
function macro(pythonDir: string, home: string): string {
	// JSON string literals are valid Python string literals.
	const code = `import sys
folder = ${JSON.stringify(pythonDir)}
if folder not in sys.path:
    sys.path.insert(0, folder)
import lyipc_menu
lyipc_menu.install(${JSON.stringify(home)})
`;
	return `<?xml version="1.0" encoding="utf-8"?>
<klayout-macro>
 <description>lyipc viewer server</description>
 <version/>
 <category>pymacros</category>
 <prolog/>
 <epilog/>
 <doc/>
 <autorun>true</autorun>
 <autorun-early>false</autorun-early>
 <shortcut/>
 <show-in-menu>false</show-in-menu>
 <group-name/>
 <menu-path/>
 <interpreter>python</interpreter>
 <dsl-interpreter-name/>
 <text>${xml(code)}</text>
</klayout-macro>
`;
}

/**
 * Installs (or upgrades) the viewer server as a KLayout salt package in `<home>/salt/lyipc`.
 * The package is assembled beside it and swapped in, so KLayout never sees half of one.
 * Settings given are merged into lyipc.json (an upgrade keeps the others); `autostart`
 * defaults to true. Listening beyond loopback without a token makes one (`newToken`).
 */
export async function installServer(options: InstallOptions = {}): Promise<{folder: string; settingsFile: string; settings: ServerSettings; newToken?: string}> {
	const {home = klayoutHome(), ...given} = options;
	const salt = path.join(home, 'salt');
	const folder = path.join(salt, SALT_NAME);
	const staging = path.join(salt, `.${SALT_NAME}-${randomBytes(4).toString('hex')}`);
	const settingsFile = path.join(home, 'lyipc.json');
	const defined = Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as ServerSettings;
	const settings: ServerSettings = {...(await readSettings(settingsFile)), autostart: true, ...defined};
	checkToken(settings.token);
	let token: string | undefined;
	if (!isLoopbackHost(settings.host ?? '127.0.0.1') && !settings.token) {
		token = newToken();
		settings.token = token;
	}

	try {
		await mkdir(path.join(staging, 'python'), {recursive: true});
		await mkdir(path.join(staging, 'pymacros'));
		for (const file of SERVER_FILES) {
			await copyFile(path.join(KLAYOUT_DIR, file), path.join(staging, 'python', file));
		}

		await writeFile(path.join(staging, 'grain.xml'), grain());
		await writeFile(path.join(staging, 'pymacros', 'lyipc_server.lym'), macro(path.join(folder, 'python'), home));
		await rm(folder, {recursive: true, force: true});
		await rename(staging, folder);
		// Owner-only: it may hold the token.
		await writeFile(settingsFile, JSON.stringify(settings, null, 2) + '\n', {mode: 0o600});
		await chmod(settingsFile, 0o600); // an existing file keeps its mode on write
	} catch (error) {
		await rm(staging, {recursive: true, force: true});
		throw new LyipcError('WRITE_ERROR', `cannot install the lyipc server into ${salt}: ${(error as Error).message}`, {path: salt, cause: error});
	}

	return {folder, settingsFile, settings, ...(token === undefined ? {} : {newToken: token})};
}

/** Removes the salt package and its settings; a missing package is not an error. */
export async function uninstallServer(options: {home?: string} = {}): Promise<{folder: string}> {
	const home = options.home ?? klayoutHome();
	const folder = path.join(home, 'salt', SALT_NAME);
	await rm(folder, {recursive: true, force: true});
	await rm(path.join(home, 'lyipc.json'), {force: true});
	return {folder};
}
