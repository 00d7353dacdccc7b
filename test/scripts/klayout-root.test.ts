import {mkdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {describe, expect, test} from 'vitest';
import {ROOT, useTempDirs} from '../helpers/run.js';

const SCRIPT = path.join(ROOT, 'scripts', 'klayout-root.sh');

async function run(args: string[], env: Record<string, string> = {}) {
	const result = await execa(SCRIPT, args, {reject: false, timeout: 30_000, env: {...env, LYIPC_KLAYOUT_ROOT: env.LYIPC_KLAYOUT_ROOT ?? ''}});
	return {exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr)};
}

// Building a root takes minutes and the network; these are the answers that come before that.
describe('scripts/klayout-root.sh', () => {
	const tempDir = useTempDirs('lyipc-klayout-root-');

	test('--help says what it makes and prints', async () => {
		const help = await run(['--help']);
		expect(help.exitCode).toBe(0);
		expect(help.stdout).toContain('usage: scripts/klayout-root.sh');
		expect(help.stdout).toMatch(/KLAYOUT=/);
		expect(help.stdout).toContain('--umount');
	});

	test('bad options are usage errors that name the option, before any root is looked at', async () => {
		// A folder that is no root: looking at it would be an error of its own.
		const notRoot = await tempDir();
		await writeFile(path.join(notRoot, 'mine.txt'), 'a user file');
		for (const [args, message] of [
			[['--bogus'], /unknown option --bogus/],
			[['--root'], /--root needs a value/],
			[['--suite', 'a/b'], /--suite a\/b: expected a Debian release name/],
			[['--root', '/'], /--root \/: the root must be a folder of its own/],
			[['--bind', '/nonexistent/layouts'], /--bind \/nonexistent\/layouts: not a folder/],
		] as const) {
			const result = await run([...args], {LYIPC_KLAYOUT_ROOT: notRoot});
			expect(result.exitCode, args.join(' ')).toBe(2);
			expect(result.stderr, args.join(' ')).toMatch(message);
			expect(result.stdout, args.join(' ')).toBe('');
		}
	});

	test('a folder that is not a root is refused, not built over or mounted into', async () => {
		const dir = await tempDir();
		const notRoot = path.join(dir, 'root');
		await mkdir(notRoot);
		await writeFile(path.join(notRoot, 'mine.txt'), 'a user file');
		for (const result of [await run(['--root', notRoot]), await run([], {LYIPC_KLAYOUT_ROOT: notRoot})]) {
			expect(result.exitCode).toBe(2);
			expect(result.stderr).toContain(`${notRoot} exists but holds no usr/bin/klayout`);
			expect(result.stdout).toBe('');
		}

		const {stdout} = await execa('findmnt', ['-rn', '-o', 'TARGET']);
		expect(String(stdout)).not.toContain(notRoot);
	});
});
