import {randomBytes} from 'node:crypto';
import {copyFile, mkdir, rename, rm, writeFile} from 'node:fs/promises';
import {homedir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {LyipcError} from '../errors.js';
import {LYIPC_VERSION} from '../version.js';

/** The Python that runs inside the KLayout GUI (klayout/ in the package). */
const KLAYOUT_DIR = fileURLToPath(new URL('../../klayout/', import.meta.url));
const SERVER_FILES = ['lyipc_server.py', 'lyipc_v1.py', 'lyipc_viewer.py', 'lyipc_errors.py', 'lyipc_menu.py'];
export const SALT_NAME = 'lyipc';

/** KLayout's configuration folder: $KLAYOUT_HOME, else ~/.klayout. */
export function klayoutHome(env: NodeJS.ProcessEnv = process.env): string {
	return path.resolve(env.KLAYOUT_HOME ?? path.join(homedir(), '.klayout'));
}

export interface InstallOptions {
	home?: string;
	/** Start the server when KLayout starts (default true); else from Tools > Inter-process communication server (Ctrl+I). */
	autostart?: boolean;
	port?: number;
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
 */
export async function installServer(options: InstallOptions = {}): Promise<{folder: string; settings: string}> {
	const home = options.home ?? klayoutHome();
	const salt = path.join(home, 'salt');
	const folder = path.join(salt, SALT_NAME);
	const staging = path.join(salt, `.${SALT_NAME}-${randomBytes(4).toString('hex')}`);
	const settings = path.join(home, 'lyipc.json');
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
		const values = {autostart: options.autostart ?? true, ...(options.port === undefined ? {} : {port: options.port})};
		await writeFile(settings, JSON.stringify(values, null, 2) + '\n');
	} catch (error) {
		await rm(staging, {recursive: true, force: true});
		throw new LyipcError('WRITE_ERROR', `cannot install the lyipc server into ${salt}: ${(error as Error).message}`, {path: salt, cause: error});
	}

	return {folder, settings};
}

/** Removes the salt package and its settings; a missing package is not an error. */
export async function uninstallServer(options: {home?: string} = {}): Promise<{folder: string}> {
	const home = options.home ?? klayoutHome();
	const folder = path.join(home, 'salt', SALT_NAME);
	await rm(folder, {recursive: true, force: true});
	await rm(path.join(home, 'lyipc.json'), {force: true});
	return {folder};
}
