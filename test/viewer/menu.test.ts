import {execa} from 'execa';
import {expect, test} from 'vitest';
import {useGuiViewer, viewerStatus} from '../helpers/gui.js';
import {describeKLayout} from '../helpers/run.js';
import {listening, waitFor} from '../helpers/poll.js';

/**
 * Installed with --no-autostart, the server starts and stops from Tools > Inter-process
 * communication server: the test presses its shortcut, Ctrl+I, in the real GUI (xdotool).
 */
describeKLayout('the Tools menu item and its shortcut (installed with --no-autostart)', () => {
	const gui = useGuiViewer({installArgs: ['--no-autostart'], ready: false});
	const xdotool = async (...args: string[]) => execa('xdotool', args, {env: {DISPLAY: gui.viewer.display}, timeout: 30_000});
	const window = async (name: string) => (await xdotool('search', '--sync', '--onlyvisible', '--name', name)).stdout.split('\n')[0]!;

	test('Ctrl+I starts the server, Ctrl+I again stops it', async () => {
		let output = '';
		(gui.viewer.klayout as unknown as {stdout: NodeJS.ReadableStream}).stdout.on('data', (chunk: Buffer) => {
			output += chunk.toString();
		});
		// A fresh configuration and no server yet: KLayout shows its start-up tip; a user closes it.
		await xdotool('windowfocus', '--sync', await window('^Tip$'), 'key', 'Escape');
		const main = await window('^KLayout');
		expect(await listening(gui.viewer.port)).toBe(false);

		await xdotool('windowfocus', '--sync', main, 'key', 'ctrl+i');
		await waitFor('the server to listen after Ctrl+I', async () => listening(gui.viewer.port));
		const status = await viewerStatus(gui.viewer.port);
		expect(status.modal).toBeNull();
		await waitFor('the start message', async () => output.includes(`lyipc server listening on 127.0.0.1:${gui.viewer.port}`));

		await xdotool('windowfocus', '--sync', main, 'key', 'ctrl+i');
		await waitFor('the server to stop after Ctrl+I', async () => !(await listening(gui.viewer.port)));
		await waitFor('the stop message', async () => output.includes('lyipc server stopped'));
	});
});
