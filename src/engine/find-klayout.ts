import {constants} from 'node:fs';
import {access, stat} from 'node:fs/promises';
import {homedir} from 'node:os';
import path from 'node:path';
import {LyipcError} from '../errors.js';
import {MIN_KLAYOUT_VERSION} from './klayout-version.js';

export type KLayoutSource = 'option' | 'env' | 'path' | 'known-location' | 'remote' | 'slurm';

export interface KLayoutLocation {
	/** Absolute path of the KLayout executable. */
	path: string;
	/** Where it was found: `--klayout`, `$KLAYOUT`, `PATH`, a usual install location, or on another host (`path` is then "host:klayout"). */
	source: KLayoutSource;
}

export interface FindKLayoutOptions {
	/** Explicit executable (`--klayout`); wins over everything else. */
	klayout?: string | undefined;
	env?: NodeJS.ProcessEnv | undefined;
	platform?: NodeJS.Platform | undefined;
	/** For tests: decides whether a path is an executable file. */
	isExecutable?: (file: string) => Promise<boolean>;
}

const INSTALL_HINT = [
	`lyipc needs KLayout >= ${MIN_KLAYOUT_VERSION}, which does the geometry. Install it:`,
	'  Debian/Ubuntu: sudo apt-get install klayout',
	'  macOS:         the .dmg from https://www.klayout.de/build.html (or: brew install --cask klayout)',
	'  Windows:       the installer from https://www.klayout.de/build.html',
	'or point lyipc to it with --klayout PATH or the KLAYOUT environment variable.',
].join('\n');

/** Executable names to look for on PATH. */
function commandNames(platform: NodeJS.Platform): string[] {
	return platform === 'win32' ? ['klayout_app.exe', 'klayout.exe'] : ['klayout'];
}

/** Where the official packages and installers put KLayout. */
export function knownLocations(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string[] {
	if (platform === 'win32') {
		const roots = [env.ProgramFiles, env['ProgramFiles(x86)'], env.APPDATA, env.LOCALAPPDATA].filter((root): root is string => Boolean(root));
		return roots.map(root => path.win32.join(root, 'KLayout', 'klayout_app.exe'));
	}

	if (platform === 'darwin') {
		const bundles = ['/Applications/KLayout/klayout.app', '/Applications/klayout.app'];
		bundles.push(path.join(homedir(), 'Applications', 'KLayout', 'klayout.app'));
		return [...bundles.map(bundle => path.join(bundle, 'Contents', 'MacOS', 'klayout')), '/opt/homebrew/bin/klayout', '/usr/local/bin/klayout'];
	}

	return ['/usr/bin/klayout', '/usr/local/bin/klayout', '/opt/klayout/klayout', '/snap/bin/klayout'];
}

async function defaultIsExecutable(file: string): Promise<boolean> {
	try {
		const info = await stat(file);
		if (!info.isFile()) {
			return false;
		}

		await access(file, constants.X_OK);
		return true;
	} catch {
		return false;
	}
}

/**
 * Finds the KLayout executable: `--klayout`, then `$KLAYOUT`, then `PATH`, then the usual
 * install locations. An explicit choice that does not work is an error, not a reason to
 * silently use another KLayout.
 */
export async function findKLayout(options: FindKLayoutOptions = {}): Promise<KLayoutLocation> {
	const env = options.env ?? process.env;
	const platform = options.platform ?? process.platform;
	const isExecutable = options.isExecutable ?? defaultIsExecutable;
	const paths = platform === 'win32' ? path.win32 : path.posix;

	const explicit: Array<[string | undefined, KLayoutSource, string]> = [
		[options.klayout, 'option', '--klayout'],
		[env.KLAYOUT, 'env', 'KLAYOUT'],
	];
	for (const [candidate, source, label] of explicit) {
		if (!candidate) {
			continue;
		}

		const resolved = paths.resolve(candidate);
		if (await isExecutable(resolved)) {
			return {path: resolved, source};
		}

		throw new LyipcError('KLAYOUT_NOT_FOUND', `${label} ${candidate}: not an executable file`, {
			path: candidate,
			hint: INSTALL_HINT,
		});
	}

	const pathDirs = (env.PATH ?? env.Path ?? '').split(platform === 'win32' ? ';' : ':').filter(Boolean);
	for (const dir of pathDirs) {
		for (const name of commandNames(platform)) {
			const candidate = paths.join(dir, name);
			if (await isExecutable(candidate)) {
				return {path: candidate, source: 'path'};
			}
		}
	}

	const known = knownLocations(platform, env);
	for (const candidate of known) {
		if (await isExecutable(candidate)) {
			return {path: candidate, source: 'known-location'};
		}
	}

	throw new LyipcError('KLAYOUT_NOT_FOUND', `KLayout not found (looked on PATH for ${commandNames(platform).join(', ')} and in ${known.join(', ')})`, {hint: INSTALL_HINT});
}
