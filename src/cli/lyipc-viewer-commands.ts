import path from 'node:path';
import {ViewerClient} from '../viewer/client.js';
import {writeFileAtomically} from '../write-file-atomically.js';
import type {CliIo} from './io.js';
import {absoluteFile, positiveNumber, usage, type LyipcArgs} from './lyipc-args.js';

/** The commands that talk to a running viewer. */
export const VIEWER_COMMANDS = ['load', 'reload', 'status', 'screenshot', 'ping', 'watch', 'animate', 'quit'];

interface StatusView {
	index: number;
	current: boolean;
	viewbox: number[];
	layers: number;
	/** readNote: set when the viewer shows a copy of the file read another way (older servers: absent). */
	cellviews: Array<{file: string; cell: string; readNote?: string | null}>;
	markerDatabases: string[];
}

function formatStatus(status: {views: StatusView[]; klayout: string}, target: string): string {
	const lines = [`viewer ${target}: KLayout ${status.klayout}, ${status.views.length} view${status.views.length === 1 ? '' : 's'}`];
	for (const view of status.views) {
		const box = view.viewbox.map(value => Number(value.toFixed(3))).join(', ');
		lines.push(`${view.current ? '*' : ' '} view ${view.index}: ${view.layers} layers, viewbox [${box}] µm`);
		for (const cellview of view.cellviews) {
			lines.push(`    ${cellview.file} (cell ${cellview.cell}${cellview.readNote ? `; ${cellview.readNote}` : ''})`);
		}

		for (const rdb of view.markerDatabases) {
			lines.push(`    markers: ${rdb}`);
		}
	}

	return lines.join('\n') + '\n';
}

/** lyipc load/reload/status/screenshot/ping/watch/animate: one connection to the viewer. */
export async function viewerClientCommand(args: LyipcArgs, io: CliIo): Promise<number> {
	const {command, rest, values, target, expectArgs} = args;
	if (values.new && values.add) {
		throw usage('--new and --add exclude each other');
	}

	if (values.window && (values.width !== undefined || values.height !== undefined)) {
		throw usage('screenshot: --window is the window at its own size; --width and --height are for the view');
	}

	// Check local arguments before connecting: a typo should not wait for a viewer.
	let file: string | undefined;
	if (command === 'load') {
		expectArgs(1, 'one layout file');
		file = await absoluteFile(rest[0]!);
	} else if (command === 'reload') {
		if (rest.length > 1) {
			throw usage('reload: expected at most one file');
		}

		file = rest[0] === undefined ? undefined : await absoluteFile(rest[0]);
	} else if (command === 'screenshot') {
		expectArgs(1, 'the PNG file to write');
	} else if (command === 'watch' || command === 'animate') {
		if (rest.length === 0) {
			throw usage(`${command}: expected one or more layout files`);
		}
	} else {
		expectArgs(0, 'no arguments');
	}

	const viewer = await ViewerClient.connect(target, {timeout: args.timeout, token: args.envToken});
	const noteUpload = ({uploaded}: {uploaded: boolean}) => {
		if (uploaded) {
			io.stderr.write(`lyipc: the viewer cannot read ${file!} where it runs; sent its bytes instead\n`);
		}
	};
	try {
		switch (command) {
			case 'load': {
				noteUpload(await viewer.show(file!, {mode: values.new ? 'new' : values.add ? 'add' : 'replace'}));
				break;
			}

			case 'reload': {
				noteUpload(await viewer.reload(file));
				break;
			}

			case 'status': {
				const status = await viewer.request<{views: StatusView[]; klayout: string}>('status');
				io.stdout.write(values.json ? JSON.stringify(status, null, 2) + '\n' : formatStatus(status, `${target.host}:${target.port}`));
				break;
			}

			case 'watch': {
				const files = await Promise.all(rest.map(async file => absoluteFile(file)));
				for (const [index, file] of files.entries()) {
					await viewer.show(file, {mode: index === 0 ? 'new' : 'add'});
				}

				const {watchAndReload} = await import('../viewer/watch.js');
				io.stdout.write(`watching ${files.length} file${files.length === 1 ? '' : 's'}; Ctrl+C to stop\n`);
				await watchAndReload(viewer, files, {
					signal: io.signal,
					onReload(file, error) {
						io.stdout.write(error ? `${file}: reload failed: ${error.message}\n` : `reloaded ${file}\n`);
					},
				});
				break;
			}

			case 'animate': {
				const frames = await Promise.all(rest.map(async file => absoluteFile(file)));
				const interval = positiveNumber('interval', values.interval, 1) * 1000;
				do {
					for (const [index, frame] of frames.entries()) {
						if (io.signal?.aborted) {
							break;
						}

						// The first frame opens a view; the others replace its layout, keeping the viewbox.
						await viewer.show(frame, index === 0 && !values.loop ? {mode: 'new'} : {mode: 'replace', keepView: true});
						io.stdout.write(`frame ${index + 1}/${frames.length}: ${frame}\n`);
						await new Promise(resolve => {
							setTimeout(resolve, index === frames.length - 1 && !values.loop ? 0 : interval);
						});
					}
				} while (values.loop && !io.signal?.aborted);

				break;
			}

			case 'quit': {
				await viewer.request('quit', values.force ? {force: true} : {});
				io.stdout.write(`viewer ${target.host}:${target.port}: KLayout is quitting\n`);
				break;
			}

			case 'screenshot': {
				const width = positiveNumber('width', values.width, 800);
				const height = positiveNumber('height', values.height, 600);
				const shot = await viewer.request<{png: string}>('screenshot', values.window ? {window: true} : {width, height});
				await writeFileAtomically(path.resolve(rest[0]!), Buffer.from(shot.png, 'base64'), 'the screenshot');
				break;
			}

			default: {
				await viewer.request('ping');
				io.stdout.write(`viewer ${target.host}:${target.port}: KLayout ${viewer.klayoutVersion}, protocol ${viewer.protocol}\n`);
			}
		}
	} finally {
		viewer.close();
	}

	return 0;
}
