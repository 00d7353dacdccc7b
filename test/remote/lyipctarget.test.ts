import {copyFile, mkdir, readFile} from 'node:fs/promises';
import {userInfo} from 'node:os';
import path from 'node:path';
import {beforeAll, expect, test} from 'vitest';
import {externalAddress, useGuiViewer, viewerStatus} from '../helpers/gui.js';
import {describeKLayout, fixture, LYIPC_CLI, runCli, useTempDirs} from '../helpers/run.js';
import {describeSsh, useSshd} from '../helpers/sshd.js';

const tempDir = useTempDirs('lyipc-lyipctarget-');

describeKLayout("the old LYIPCTARGET=user@laptop: files go to the viewer's machine with rsync, then load", () => {
	describeSsh('a viewer on "another machine" reached over ssh', () => {
		// The laptop: a viewer listening beyond loopback (token), and an sshd that answers for
		// this machine's non-loopback address, as the laptop's would.
		const gui = useGuiViewer({installArgs: ['--host', '0.0.0.0']});
		const sshd = useSshd({alias: externalAddress()});
		let token: string;
		beforeAll(async () => {
			token = (JSON.parse(await readFile(path.join(gui.viewer.home, 'lyipc.json'), 'utf8')) as {token: string}).token;
		});

		test('two files with the same name do not overwrite each other there; reload sends the new bytes', async () => {
			const dir = await tempDir();
			for (const [folder, source] of [
				['v1', 'base.gds'],
				['v2', 'one_shape.gds'],
			] as const) {
				await mkdir(path.join(dir, folder));
				await copyFile(fixture(source), path.join(dir, folder, 'ring.gds'));
			}

			const env = {...sshd.host.env, LYIPCTARGET: `${userInfo().username}@${externalAddress()}`, LYIPC_PORT: String(gui.viewer.port), LYIPC_TOKEN: token};
			for (const folder of ['v1', 'v2']) {
				const load = await runCli(['load', path.join(dir, folder, 'ring.gds'), '--new'], {env}, LYIPC_CLI);
				expect(load.exitCode, load.stderr).toBe(0);
			}

			const views = (await viewerStatus(gui.viewer.port)).views.slice(-2);
			const copies = views.map(view => view.cellviews[0]!.file);
			const sent = path.join(sshd.host.dir, 'home', '.cache', 'lyipc', 'sent');
			expect(copies.every(copy => copy.startsWith(sent + path.sep) && copy.endsWith(`${path.sep}ring.gds`))).toBe(true);
			expect(new Set(copies).size).toBe(2);
			expect(await readFile(copies[0]!)).toEqual(await readFile(fixture('base.gds')));
			expect(await readFile(copies[1]!)).toEqual(await readFile(fixture('one_shape.gds')));

			// The first file changes here; reload puts the new bytes in its copy and reloads it there.
			await copyFile(fixture('via_changed.gds'), path.join(dir, 'v1', 'ring.gds'));
			const viewCount = (await viewerStatus(gui.viewer.port)).views.length;
			const reload = await runCli(['reload', path.join(dir, 'v1', 'ring.gds')], {env}, LYIPC_CLI);
			expect(reload.exitCode, reload.stderr).toBe(0);
			expect(await readFile(copies[0]!)).toEqual(await readFile(fixture('via_changed.gds')));
			expect((await viewerStatus(gui.viewer.port)).views).toHaveLength(viewCount); // in place, no new view
		});
	});
});
