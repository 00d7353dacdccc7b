import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {execa, type Options} from 'execa';
import {afterEach, expect} from 'vitest';
import {describeNeeding} from './skip.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'lyipc-diff.js');
export const LYIPC_CLI = path.join(ROOT, 'dist', 'src', 'cli', 'lyipc.js');
export const FAKE_KLAYOUT = path.join(ROOT, 'test', 'fake-klayout');

export function fixture(name: string): string {
	return path.join(ROOT, 'fixtures', name);
}

/** Tests that need a real KLayout: LYIPC_TEST_SKIP_KLAYOUT=1 skips them locally (never under CI=true). */
export const describeKLayout = describeNeeding('LYIPC_TEST_SKIP_KLAYOUT', 'drive a real KLayout');

export interface CliRun {
	exitCode: number | undefined;
	stdout: string;
	stderr: string;
}

/** Runs the built lyipc-diff bin (or another bin, e.g. LYIPC_CLI) as a user would. */
export async function runCli(args: readonly string[], options: Options = {}, bin = CLI): Promise<CliRun> {
	// Without a cwd, a throw-away one: directory mode writes lyipc-report/ there, never into the checkout.
	const cwd = options.cwd === undefined ? await mkdtemp(path.join(tmpdir(), 'lyipc-cwd-')) : undefined;
	try {
		const result = await execa(process.execPath, [bin, ...args], {reject: false, timeout: 120_000, ...(cwd ? {cwd} : {}), ...options});
		return {exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr)};
	} finally {
		if (cwd) {
			await rm(cwd, {recursive: true, force: true});
		}
	}
}

/** Each command line must fail as a usage error: exit 2, stderr matching its message. */
export async function expectUsageErrors(cases: ReadonlyArray<readonly [readonly string[], RegExp]>, options: Options = {}): Promise<void> {
	for (const [args, message] of cases) {
		const run = await runCli(args, options);
		expect(run.exitCode, args.join(' ')).toBe(2);
		expect(run.stderr, args.join(' ')).toMatch(message);
	}
}

/** Call at the top of a describe block: returns a maker of temporary folders removed after each test. */
export function useTempDirs(prefix = 'lyipc-test-'): () => Promise<string> {
	const dirs: string[] = [];
	afterEach(async () => {
		await Promise.all(dirs.splice(0).map(async dir => rm(dir, {recursive: true, force: true})));
	});
	return async () => {
		const dir = await mkdtemp(path.join(tmpdir(), prefix));
		dirs.push(dir);
		return dir;
	};
}

export interface Inspection {
	layout?: {
		dbu: number;
		topCells: string[];
		cells: string[];
		emptyCells: string[];
		layers: Record<string, {polygons: number; area: number}>;
	};
	rdb?: {
		topCell: string;
		originalFile: string;
		categories: Record<string, {items: number; description: string}>;
		items: Array<{cell: string; category: string; values: string[]}>;
	};
}

/** Reads a layout and/or marker database with KLayout itself (test/helpers/inspect.py). */
export async function inspect(files: {layout?: string | null | undefined; rdb?: string | null | undefined}): Promise<Inspection> {
	const args = ['-b', '-r', path.join(ROOT, 'test', 'helpers', 'inspect.py')];
	if (files.layout) {
		args.push('-rd', `layout=${files.layout}`);
	}

	if (files.rdb) {
		args.push('-rd', `rdb=${files.rdb}`);
	}

	const {stdout} = await execa(process.env.KLAYOUT ?? 'klayout', args, {timeout: 60_000});
	const line = String(stdout)
		.split('\n')
		.find(candidate => candidate.startsWith('{'));
	return JSON.parse(line ?? '{}') as Inspection;
}

/** Pids of processes whose command line contains `text` (Linux /proc), optionally only children of `parent`. */
export async function processesMatching(text: string, parent?: number): Promise<number[]> {
	const {readdir, readFile} = await import('node:fs/promises');
	const pids: number[] = [];
	for (const entry of await readdir('/proc')) {
		if (!/^\d+$/.test(entry) || Number(entry) === process.pid) {
			continue;
		}

		const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
		if (!cmdline.replaceAll('\0', ' ').includes(text)) {
			continue;
		}

		// /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ')'.
		const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
		const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
		if (parent === undefined || ppid === parent) {
			pids.push(Number(entry));
		}
	}

	return pids;
}

/** True while a process exists (a zombie counts until its parent reaps it). */
export function processAlive(pid: number | undefined): boolean {
	if (pid === undefined) {
		return false;
	}

	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}
