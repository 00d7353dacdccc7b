import {readdir, readFile, stat, writeFile} from 'node:fs/promises';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {expect, test} from 'vitest';
import {ViewerClient, viewerCodeOf} from '../../src/viewer/client.js';
import {useGuiViewer, v1Exchange, type GuiViewer} from '../helpers/gui.js';
import {describeKLayout, fixture} from '../helpers/run.js';

interface Reply {
	id: unknown;
	ok: boolean;
	result?: {path: string};
	error?: {code: string; message: string};
}

/**
 * An upload's request line and raw bytes on one connection: the replies that came, and whether
 * the server closed the connection (looked at until 1 s after the first reply: a refusal closes
 * it after half a second).
 */
async function uploadRaw(port: number, params: Record<string, unknown>, bytes: Buffer): Promise<{replies: Reply[]; closed: boolean}> {
	const line = JSON.stringify({id: 'u', method: 'upload', params: {name: 'chip.gds', size: bytes.length, ...params}}) + '\n';
	return new Promise((resolve, reject) => {
		const socket = net.connect(port, '127.0.0.1', () => socket.write(Buffer.concat([Buffer.from(line), bytes])));
		let text = '';
		let closed = false;
		const done = () => {
			socket.destroy();
			resolve({
				replies: text
					.split('\n')
					.filter(Boolean)
					.map(reply => JSON.parse(reply) as Reply),
				closed,
			});
		};

		socket.on('data', (chunk: Buffer) => {
			text += chunk.toString('utf8');
			if (text.includes('\n')) {
				setTimeout(done, 1000);
			}
		});
		socket.on('error', () => undefined); // a reset after a refusal: its reply came first
		socket.on('close', () => {
			closed = true;
		});
		socket.setTimeout(15_000, () => {
			reject(new Error('no reply to the upload within 15 s'));
		});
	});
}

/** The files in this KLayout's upload cache folders (in the temp folder it was started with). */
async function cached(viewer: GuiViewer): Promise<Array<{file: string; size: number}>> {
	const found = [];
	for (const name of await readdir(tmpdir())) {
		if (name.startsWith(`lyipc-uploads-${viewer.klayout.pid}-`)) {
			for (const file of await readdir(path.join(tmpdir(), name))) {
				found.push({file: path.join(tmpdir(), name, file), size: (await stat(path.join(tmpdir(), name, file))).size});
			}
		}
	}

	return found;
}

describeKLayout('uploads have a quota (uploadQuota in lyipc.json), checked before the bytes are taken', () => {
	const gui = useGuiViewer({settings: {uploadQuota: 200_000}});

	test('one upload above the quota: TOO_LARGE, its bytes dropped, nothing kept', async () => {
		const {replies, closed} = await uploadRaw(gui.viewer.port, {store: true}, Buffer.alloc(300_000, 7));
		expect(replies).toHaveLength(1); // its bytes are not read as requests
		expect(closed).toBe(true);
		expect(replies[0]).toMatchObject({
			id: 'u',
			ok: false,
			error: {code: 'TOO_LARGE', message: "upload: 300000 bytes, more than the viewer's upload quota of 200000 bytes (uploadQuota in lyipc.json)"},
		});
		expect(await cached(gui.viewer)).toEqual([]);
	});

	test('uploads up to the quota are kept in a private folder; the next is QUOTA_EXCEEDED', async () => {
		const chunk = Buffer.concat([await readFile(fixture('base.gds')), Buffer.alloc(80_000 - (await readFile(fixture('base.gds'))).length)]);
		for (const n of [1, 2]) {
			const {
				replies: [stored],
			} = await uploadRaw(gui.viewer.port, {store: true, name: `part${n}.gds`}, chunk);
			expect(stored, JSON.stringify(stored)).toMatchObject({ok: true, result: {path: expect.stringMatching(new RegExp(`^${tmpdir()}/lyipc-uploads-${gui.viewer.klayout.pid}-\\w+/`))}});
			expect((await stat(path.dirname(stored!.result!.path))).mode & 0o777).toBe(0o700);
		}

		const refused = await uploadRaw(gui.viewer.port, {store: true}, chunk);
		expect(refused.closed).toBe(true);
		expect(refused.replies[0]!.error).toEqual({
			code: 'QUOTA_EXCEEDED',
			message: 'upload: the viewer keeps 160000 bytes of uploads already; 80000 more would pass its quota of 200000 (uploadQuota in lyipc.json; uploads go when KLayout ends)',
		});
		const kept = await cached(gui.viewer);
		expect(kept.map(entry => entry.size)).toEqual([80_000, 80_000]);

		// The library says so with the viewer's code.
		const file = path.join(gui.temp, 'third.gds');
		await writeFile(file, chunk);
		const client = await ViewerClient.connect({host: '127.0.0.1', port: gui.viewer.port});
		try {
			const error = await client.upload(file, {store: true}).catch((error: unknown) => error);
			expect(viewerCodeOf(error)).toBe('QUOTA_EXCEEDED');
		} finally {
			client.close();
		}
	});
});

describeKLayout('an upload that does not fit on the disk', () => {
	const gui = useGuiViewer({settings: {uploadQuota: 1e15}});

	test('NO_SPACE before a byte is taken', async () => {
		const request = JSON.stringify({id: 1, method: 'upload', params: {name: 'huge.gds', size: 1e14, store: true}}) + '\n';
		const text = (await v1Exchange(gui.viewer.port, request, 15_000)).toString('utf8');
		expect(JSON.parse(text.trim())).toMatchObject({id: 1, ok: false, error: {code: 'NO_SPACE', message: expect.stringMatching(/^upload: 100000000000000 bytes do not fit on the viewer's disk/)}});
		expect(await cached(gui.viewer)).toEqual([]);
	});
});
