import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {formatSummary} from '../format/summary.js';
import type {Style} from '../format/style.js';
import {compareDefaults, findConfig} from '../config.js';
import {isLyipcError} from '../errors.js';
import {compareHere} from './compare-here.js';

const NO_FILE = '/dev/null';

/**
 * git's external diff driver: `git-diff PATH OLD-FILE OLD-HEX OLD-MODE NEW-FILE NEW-HEX NEW-MODE`
 * (see git's GIT_EXTERNAL_DIFF). Prints the XOR summary of the two versions. Always exit 0:
 * git stops the whole diff when a driver fails, so a layout that cannot be read is reported
 * in the output instead. The warm worker is used as by lyipc-diff (LYIPC_WARM_WORKER; off in CI).
 */
export async function gitDiff(args: readonly string[], out: NodeJS.WritableStream, style: Style, env: NodeJS.ProcessEnv, options: {verbose?: boolean} = {}): Promise<number> {
	if (args.length < 7) {
		out.write(`lyipc git-diff: expected the 7 arguments git gives a diff driver, got ${args.length} (set it up with 'lyipc git-setup')\n`);
		return 2;
	}

	const [name, oldFile, oldHex, , newFile, newHex] = args as [string, string, string, string, string, string];
	out.write(style.bold(`lyipc diff a/${name} b/${name}`) + '\n');
	if (oldFile === NO_FILE || newFile === NO_FILE) {
		out.write(oldFile === NO_FILE ? `new layout file (${newHex.slice(0, 8)})\n\n` : `layout file deleted (was ${oldHex.slice(0, 8)})\n\n`);
		return 0;
	}

	const outDir = await mkdtemp(path.join(tmpdir(), 'lyipc-git-diff-'));
	try {
		const {config} = await findConfig(process.cwd());
		const result = await compareHere(oldFile, newFile, {...compareDefaults(config), outDir}, true, env);
		// The summary names the versions as git does, and leaves out artifacts that go away with this process.
		const named = {...result, a: {...result.a, path: `a/${name}`}, b: {...result.b, path: `b/${name}`}, artifacts: {xor: null, rdb: null}};
		out.write(formatSummary(named, style, {verbose: options.verbose}));
		if (result.identical) {
			out.write(`(same geometry, different bytes: ${oldHex.slice(0, 8)}..${newHex.slice(0, 8)})\n`);
		}

		out.write('\n');
	} catch (error) {
		const message = isLyipcError(error) ? error.message : String(error);
		out.write(`could not compare the two versions: ${message}\n\n`);
	} finally {
		await rm(outDir, {recursive: true, force: true});
	}

	return 0;
}
