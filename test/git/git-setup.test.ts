import {copyFile, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {expect, test} from 'vitest';
import {describeKLayout, fixture, LYIPC_CLI, runCli, useTempDirs} from '../helpers/run.js';

const tempDir = useTempDirs('lyipc-git-');

/** A git repository with ring.gds committed, and a HOME of its own (no user git config leaks in); no warm worker left behind (its own test is in warm-worker.test.ts). */
async function repository(): Promise<{repo: string; home: string; env: Record<string, string>}> {
	const root = await tempDir();
	const repo = path.join(root, 'repo');
	const env = {
		HOME: root,
		XDG_CONFIG_HOME: '',
		LYIPC_WARM_WORKER: '0',
		GIT_CONFIG_NOSYSTEM: '1',
		GIT_AUTHOR_NAME: 't',
		GIT_AUTHOR_EMAIL: 't@t',
		GIT_COMMITTER_NAME: 't',
		GIT_COMMITTER_EMAIL: 't@t',
		NO_COLOR: '1',
	};
	await execa('git', ['init', '-q', repo], {env});
	await writeFile(path.join(repo, '.gitattributes'), '*.txt text\n');
	await copyFile(fixture('base.gds'), path.join(repo, 'ring.gds'));
	await execa('git', ['add', '.'], {cwd: repo, env});
	await execa('git', ['commit', '-qm', 'ring'], {cwd: repo, env});
	return {repo, home: root, env};
}

const gitDiff = async (repo: string, env: Record<string, string>, ...args: string[]) => String((await execa('git', ['--no-pager', 'diff', ...args], {cwd: repo, env})).stdout);

describeKLayout('lyipc git-setup: git diff prints the XOR summary', () => {
	test('in a repository: changed, new and unreadable layouts; --uninstall restores "Binary files differ"', async () => {
		const {repo, env} = await repository();
		await copyFile(fixture('via_changed.gds'), path.join(repo, 'ring.gds'));
		expect(await gitDiff(repo, env)).toMatch(/Binary files a\/ring\.gds and b\/ring\.gds differ/);

		const setup = await runCli(['git-setup'], {cwd: repo, env}, LYIPC_CLI);
		expect(setup.exitCode, setup.stderr).toBe(0);
		expect(setup.stdout).toContain(`patterns in ${path.join(repo, '.gitattributes')}`);
		const attributes = await readFile(path.join(repo, '.gitattributes'), 'utf8');
		expect(attributes.startsWith('*.txt text\n')).toBe(true); // the user's own lines stay
		expect(attributes).toContain('*.gds diff=lyipc\n');
		expect((await runCli(['git-setup'], {cwd: repo, env}, LYIPC_CLI)).exitCode).toBe(0);
		expect(await readFile(path.join(repo, '.gitattributes'), 'utf8')).toBe(attributes); // again: the same lines, once

		const changed = await gitDiff(repo, env, 'ring.gds');
		expect(changed).toContain('lyipc diff a/ring.gds b/ring.gds');
		expect(changed).toMatch(/^A {2}a\/ring\.gds {3}dbu 0\.001 µm$/m);
		expect(changed).toMatch(/^4\/0 +10 +20 +10 +2\.5 +[\d.]+ [nµ]m +x [\d.]+ \.\. [\d.]+, y [\d.]+ \.\. [\d.]+ +different$/m);
		expect(changed).not.toMatch(/^engine/m); // engine internals only with LYIPC_VERBOSE=1
		expect(changed).toContain('different: 1 of 4 layers differs');
		expect(changed).not.toContain('Binary files');

		await copyFile(fixture('base_flat.gds'), path.join(repo, 'ring.gds'));
		expect(await gitDiff(repo, env, 'ring.gds')).toMatch(/identical: 4 layers compared[\s\S]*\(same geometry, different bytes: [\da-f]{8}\.\.[\da-f]{8}\)/);

		await copyFile(fixture('truncated.gds'), path.join(repo, 'ring.gds'));
		await copyFile(fixture('one_shape.gds'), path.join(repo, 'new.gds'));
		await execa('git', ['add', 'new.gds'], {cwd: repo, env});
		const mixed = await gitDiff(repo, env, 'HEAD'); // git does not stop at the unreadable one
		expect(mixed).toMatch(/lyipc diff a\/new\.gds b\/new\.gds\nnew layout file \([\da-f]{8}\)/);
		expect(mixed).toMatch(/lyipc diff a\/ring\.gds b\/ring\.gds\ncould not compare the two versions: .*cannot read layout B: .*end-of-file/i);

		const removed = await runCli(['git-setup', '--uninstall'], {cwd: repo, env}, LYIPC_CLI);
		expect(removed.exitCode, removed.stderr).toBe(0);
		expect(await readFile(path.join(repo, '.gitattributes'), 'utf8')).toBe('*.txt text\n');
		expect(await gitDiff(repo, env, 'ring.gds')).toMatch(/Binary files a\/ring\.gds and b\/ring\.gds differ/);
	});

	test('--global: every repository of the user; outside a repository without it: a clear error', async () => {
		const {repo, home, env} = await repository();
		const outside = await runCli(['git-setup'], {cwd: home, env}, LYIPC_CLI);
		expect(outside.exitCode).toBe(2);
		expect(outside.stderr).toMatch(/git rev-parse --show-toplevel: .*not a git repository/);
		expect(outside.stderr).toContain('Run it inside a git repository (or use --global)');

		const setup = await runCli(['git-setup', '--global'], {cwd: home, env}, LYIPC_CLI);
		expect(setup.exitCode, setup.stderr).toBe(0);
		expect(await readFile(path.join(home, '.config', 'git', 'attributes'), 'utf8')).toContain('*.oas diff=lyipc');
		await copyFile(fixture('one_shape.gds'), path.join(repo, 'ring.gds'));
		expect(await gitDiff(repo, env)).toMatch(/^1\/0 +4 +5 +1 +6 +2 µm +x 20 \.\. 22, y 20 \.\. 23 +different$/m);
		expect((await runCli(['git-setup', '--global', '--uninstall'], {cwd: home, env}, LYIPC_CLI)).exitCode).toBe(0);
		expect(await gitDiff(repo, env)).toContain('Binary files');
	});
});

describeKLayout('git log -p through the driver, cut short', () => {
	test('git log -p --ext-diff | head: the closed pipe ends the driver quietly, no EPIPE trace', async () => {
		const {repo, env} = await repository();
		expect((await runCli(['git-setup'], {cwd: repo, env}, LYIPC_CLI)).exitCode).toBe(0);
		for (const [index, name] of ['one_shape.gds', 'via_changed.gds', 'base_flat.gds', 'extra_layer.gds'].entries()) {
			await copyFile(fixture(name), path.join(repo, 'ring.gds'));
			await execa('git', ['commit', '-qam', `change ${index}`], {cwd: repo, env});
		}

		// head -n 3 closes the pipe while git still runs the driver for older commits.
		const run = await execa('sh', ['-c', 'git --no-pager log -p --ext-diff | head -n 3'], {cwd: repo, env, reject: false});
		expect(run.stdout.split('\n')).toHaveLength(3);
		expect(run.stderr).not.toMatch(/EPIPE|Error|at .*\.js/);
	}, 60_000);
});

test('git-diff called wrongly says how it is meant to be used', async () => {
	const run = await runCli(['git-diff', 'only-one'], {}, LYIPC_CLI);
	expect(run.exitCode).toBe(2);
	expect(run.stdout).toContain("expected the 7 arguments git gives a diff driver, got 1 (set it up with 'lyipc git-setup')");
});
