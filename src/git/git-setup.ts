import {mkdir, readFile, writeFile} from 'node:fs/promises';
import {homedir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import {LyipcError} from '../errors.js';
import {LAYOUT_EXTENSIONS} from '../layout-files.js';

/** The layout files git should diff with lyipc, as .gitattributes patterns (which are case-sensitive). */
export const LAYOUT_PATTERNS = LAYOUT_EXTENSIONS.flatMap(extension => [`*.${extension}`, `*.${extension.toUpperCase()}`, `*.${extension}.gz`]);
const MARK = '# lyipc: git diff shows the XOR summary of layouts (npx lyipc git-setup)';
const CLI = fileURLToPath(new URL('../cli/lyipc.js', import.meta.url));

/** Quoted for the shell git runs diff commands with. */
function shellQuote(text: string): string {
	return `'${text.replace(/'/g, `'\\''`)}'`;
}

async function git(args: string[], cwd: string): Promise<string> {
	try {
		return String((await execa('git', args, {cwd})).stdout).trim();
	} catch (error) {
		const detail = String((error as {stderr?: string}).stderr ?? (error as Error).message).trim();
		throw new LyipcError('USAGE', `git ${args.join(' ')}: ${detail}`, {hint: 'Run it inside a git repository (or use --global), with git installed.'});
	}
}

/** Where the attribute lines go: the repository's .gitattributes, or git's global attributes file. */
async function attributesFile(global: boolean, cwd: string): Promise<string> {
	if (!global) {
		return path.join(await git(['rev-parse', '--show-toplevel'], cwd), '.gitattributes');
	}

	const configured = await git(['config', '--global', '--get', 'core.attributesFile'], cwd).catch(() => '');
	if (configured) {
		return configured.replace(/^~(?=\/)/, homedir());
	}

	return path.join(process.env.XDG_CONFIG_HOME || path.join(homedir(), '.config'), 'git', 'attributes');
}

function withoutOurLines(text: string): string[] {
	return text.split('\n').filter(line => line !== MARK && !LAYOUT_PATTERNS.some(pattern => line === `${pattern} diff=lyipc`));
}

export interface GitSetupResult {
	attributes: string;
	command: string | null;
}

/**
 * Registers lyipc as git's diff driver for layouts: `diff.lyipc.command` in the repository's
 * (or the global) git config, and `<pattern> diff=lyipc` lines in .gitattributes (or the
 * global attributes file). Running it again rewrites the same lines; `uninstall` removes them.
 */
export async function gitSetup(options: {global?: boolean | undefined; uninstall?: boolean | undefined; cwd?: string | undefined} = {}): Promise<GitSetupResult> {
	const cwd = options.cwd ?? process.cwd();
	const scope = options.global ? '--global' : '--local';
	const attributes = await attributesFile(options.global ?? false, cwd);
	const kept = withoutOurLines(await readFile(attributes, 'utf8').catch(() => ''))
		.join('\n')
		.replace(/\n+$/, '');
	if (options.uninstall) {
		await git(['config', scope, '--remove-section', 'diff.lyipc'], cwd).catch(() => '');
		await writeFile(attributes, kept ? `${kept}\n` : '');
		return {attributes, command: null};
	}

	const command = `${shellQuote(process.execPath)} ${shellQuote(CLI)} git-diff`;
	await git(['config', scope, 'diff.lyipc.command', command], cwd);
	await mkdir(path.dirname(attributes), {recursive: true});
	const lines = [MARK, ...LAYOUT_PATTERNS.map(pattern => `${pattern} diff=lyipc`)];
	await writeFile(attributes, `${kept ? `${kept}\n` : ''}${lines.join('\n')}\n`);
	return {attributes, command};
}
