import {readdir} from 'node:fs/promises';
import path from 'node:path';
import {expect, test} from 'vitest';
import {currentView, useGuiViewer, viewerStatus} from '../helpers/gui.js';
import {describeKLayout, fixture, runCli, useTempDirs} from '../helpers/run.js';
import {describeSsh, useSshd} from '../helpers/sshd.js';

const tempDir = useTempDirs('lyipc-remote-cli-');

describeKLayout('lyipc-diff --remote', () => {
	describeSsh('against a real sshd', () => {
		const sshd = useSshd();
		const gui = useGuiViewer();

		test('exit codes and --json as for a local comparison; the differences open in the local viewer', async () => {
			const outDir = await tempDir();
			const env = {...sshd.host.env, LYIPC_PORT: String(gui.viewer.port), CI: 'false'};
			const remote = `${sshd.host.alias}:${path.join(sshd.host.dir, 'home')}`;
			const different = await runCli([fixture('base.gds'), fixture('one_shape.gds'), '--remote', remote, '--json', '--out-dir', outDir, '--view'], {env});
			expect(different.exitCode, different.stderr).toBe(1);
			const result = JSON.parse(different.stdout) as {status: string; klayout: {path: string}; artifacts: {xor: string}};
			expect(result).toMatchObject({status: 'different', klayout: {path: `${sshd.host.alias}:klayout`}});
			expect((await readdir(outDir)).sort()).toEqual(['base_vs_one_shape.xor.gds', 'base_vs_one_shape.xor.lyrdb']);
			const view = currentView(await viewerStatus(gui.viewer.port));
			expect(view.cellviews.map(cellview => cellview.file)).toEqual([fixture('base.gds'), fixture('one_shape.gds'), result.artifacts.xor]);

			const same = await runCli([fixture('base.gds'), fixture('base_flat.gds'), '--remote', remote, '--no-view'], {env});
			expect(same.exitCode, same.stderr).toBe(0);
			expect(same.stdout).toContain('identical: 4 layers compared');

			// --remote-paths: A and B stay on the host; the viewer gets the XOR layout that came back.
			const xorOnly = await runCli([fixture('base.gds'), fixture('via_changed.gds'), '--remote', remote, '--remote-paths', '--json', '--out-dir', outDir, '--view'], {env});
			expect(xorOnly.exitCode, xorOnly.stderr).toBe(1);
			const remoteResult = JSON.parse(xorOnly.stdout) as {artifacts: {xor: string}};
			expect(currentView(await viewerStatus(gui.viewer.port)).cellviews.map(cellview => cellview.file)).toEqual([remoteResult.artifacts.xor]);

			const missing = await runCli([path.join(sshd.host.dir, 'nope.gds'), fixture('base.gds'), '--remote', remote, '--remote-paths'], {env});
			expect(missing.exitCode).toBe(2);
			expect(missing.stderr).toContain(`lyipc-diff: ${sshd.host.alias}:${path.join(sshd.host.dir, 'nope.gds')} (A): no such file on the host`);
			expect((await readdir(path.join(sshd.host.dir, 'home'))).filter(name => name.startsWith('lyipc-'))).toEqual([]);
		});
	});
});

test('--remote-paths with two directories is refused, clearly', async () => {
	const dir = await tempDir();
	const run = await runCli([dir, dir, '--remote', 'somehost', '--remote-paths']);
	expect(run.exitCode).toBe(2);
	expect(run.stderr).toContain('--remote-paths is for two files on the host; two directories are sent to the hosts');
});
