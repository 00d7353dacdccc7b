import {existsSync} from 'node:fs';
import {mkdir, readdir, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {expect, test} from 'vitest';
import {currentView, useGuiViewer, viewerStatus} from '../helpers/gui.js';
import {describeKLayout, LYIPC_CLI, runCli, useTempDirs} from '../helpers/run.js';
import {describeSsh, useSshd} from '../helpers/sshd.js';

const tempDir = useTempDirs('lyipc-job-');

describeKLayout('lyipc job --remote HOST -- COMMAND', () => {
	describeSsh('against a real sshd', () => {
		const sshd = useSshd();
		const gui = useGuiViewer();

		test('the folder goes up, the command runs there, declared outputs come back and open in the viewer', async () => {
			const project = await tempDir();
			await mkdir(path.join(project, 'scripts'));
			await mkdir(path.join(project, '.git'));
			await writeFile(path.join(project, '.git', 'HEAD'), 'ref: refs/heads/main\n');
			// A generator: writes a layout with KLayout, a log, and a scratch file not asked for.
			await writeFile(
				path.join(project, 'scripts', 'make.py'),
				[
					'import os, sys, pya',
					'layout = pya.Layout(); top = layout.create_cell("RING"); layer = layout.layer(1, 0)',
					'top.shapes(layer).insert(pya.Box(0, 0, 10000, 10000))',
					'os.makedirs("out/gds", exist_ok=True); layout.write("out/gds/ring.gds")',
					'open("out/log.txt", "w").write("made in " + os.getcwd() + "\\n"); open("scratch.tmp", "w").write("x")',
					'print("generated; .git sent:", os.path.exists(".git"))',
				].join('\n') + '\n',
			);
			const env = {...sshd.host.env, LYIPC_PORT: String(gui.viewer.port)};
			const remote = `${sshd.host.alias}:${path.join(sshd.host.dir, 'home')}`;
			const run = await runCli(
				['job', '--remote', remote, '--get', 'out/**.gds', '--get', '*.txt', '--get', 'out/log.txt', '--show', '--', 'klayout', '-b', '-r', 'scripts/make.py'],
				{cwd: project, env},
				LYIPC_CLI,
			);
			expect(run.exitCode, run.stderr).toBe(0);
			expect(run.stdout).toContain('generated; .git sent: False');
			expect(run.stderr).toContain('lyipc job: brought back 2 files');
			expect(await readFile(path.join(project, 'out', 'log.txt'), 'utf8')).toMatch(new RegExp(`^made in ${path.join(sshd.host.dir, 'home')}/lyipc-\\w+/work\\n$`));
			expect(existsSync(path.join(project, 'out', 'gds', 'ring.gds'))).toBe(true);
			expect(existsSync(path.join(project, 'scratch.tmp'))).toBe(false); // not declared
			expect(currentView(await viewerStatus(gui.viewer.port)).cellviews.map(cellview => cellview.file)).toEqual([path.join(project, 'out', 'gds', 'ring.gds')]);
			expect((await readdir(path.join(sshd.host.dir, 'home'))).filter(name => name.startsWith('lyipc-'))).toEqual([]);
		});

		test("the command's exit code is the job's; hostile words reach it as they are; usage errors are exit 2", async () => {
			const project = await tempDir();
			const remote = `${sshd.host.alias}:${path.join(sshd.host.dir, 'home')}`;
			const words = [`$(touch pwned)`, `a b; rm -rf .`, `'quoted' "twice"`, '-n'];
			const echo = await runCli(['job', '--remote', remote, '--', 'printf', '%s|', ...words], {cwd: project, env: sshd.host.env}, LYIPC_CLI);
			expect(echo.exitCode, echo.stderr).toBe(0);
			expect(echo.stdout).toBe(words.map(word => `${word}|`).join(''));
			const failing = await runCli(['job', '--remote', remote, '--', 'sh', '-c', 'exit 7'], {cwd: project, env: sshd.host.env}, LYIPC_CLI);
			expect(failing.exitCode).toBe(7);
			const noCommand = await runCli(['job', '--remote', remote], {cwd: project, env: sshd.host.env}, LYIPC_CLI);
			expect(noCommand.exitCode).toBe(2);
			expect(noCommand.stderr).toContain('job: expected job --remote HOST [--get PATTERN]... [--show] -- COMMAND...');
			expect((await readdir(path.join(sshd.host.dir, 'home'))).filter(name => name.startsWith('lyipc-'))).toEqual([]);
		});
	});
});
