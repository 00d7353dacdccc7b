import path from 'node:path';
import {execa} from 'execa';
import {expect, test} from 'vitest';
import {currentView, freePort, pngColours, useGuiViewer, v2Session, viewerStatus} from '../helpers/gui.js';
import {describeKLayout, fixture, LYIPC_CLI} from '../helpers/run.js';
import {describeSsh, useSshd} from '../helpers/sshd.js';

describeKLayout('a script on a remote machine shows a layout in the viewer on the laptop', () => {
	describeSsh('over an ssh reverse tunnel (the recommended way)', () => {
		const sshd = useSshd();
		const gui = useGuiViewer();

		test('ssh -R: the remote lyipc reaches the laptop viewer, which cannot see the file: its bytes are sent', async () => {
			const tunnelPort = await freePort();
			// The remote side runs in its own mount namespace with a private tmpfs: the layout it
			// writes there does not exist for the viewer, as on another machine.
			const remoteDir = path.join(sshd.host.dir, 'private');
			const script = ['set -e', `mkdir -p "$1"`, `mount -t tmpfs none "$1"`, `cp "$2" "$1/ring.gds"`, `LYIPC_PORT="$3" "$4" "$5" load "$1/ring.gds"`].join('; ');
			const run = await execa(
				'ssh',
				[
					...sshd.host.env.LYIPC_SSH.split(' ').slice(1),
					'-o',
					'ExitOnForwardFailure=yes',
					'-R',
					`${tunnelPort}:127.0.0.1:${gui.viewer.port}`,
					sshd.host.alias,
					'--',
					'unshare',
					'-rm',
					'sh',
					'-c',
					`'${script}'`,
					'remote-script',
					remoteDir,
					fixture('base.gds'),
					String(tunnelPort),
					process.execPath,
					LYIPC_CLI,
				],
				{reject: false, timeout: 60_000},
			);
			expect(run.exitCode, String(run.stderr)).toBe(0);
			expect(String(run.stderr)).toContain(`lyipc: the viewer cannot read ${remoteDir}/ring.gds where it runs; sent its bytes instead`);

			const view = currentView(await viewerStatus(gui.viewer.port));
			const [file] = view.cellviews.map(cellview => cellview.file);
			expect(file).not.toBe(path.join(remoteDir, 'ring.gds'));
			expect(path.basename(file!)).toMatch(/ring\.gds$/); // the viewer's cached copy
			expect(view.cellviews[0]?.cell).toBe('CHIP');
			const shot = path.join(sshd.host.dir, 'tunnel.png');
			const [reply] = await v2Session(gui.viewer.port, [{id: 1, method: 'screenshot', params: {width: 400, height: 300, path: shot}}]);
			expect(reply?.ok).toBe(true);
			const {colours, width, height} = await pngColours(shot);
			const background = Math.max(...colours.values());
			expect(1 - background / (width * height)).toBeGreaterThan(0.02); // the layout is drawn, not an empty view
		});
	});
});
