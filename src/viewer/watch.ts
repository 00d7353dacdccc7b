import {watch, type FSWatcher} from 'node:fs';
import {open, stat} from 'node:fs/promises';
import path from 'node:path';
import type {ViewerClient} from './client.js';

/** A write is taken as finished when size and mtime hold still this long, and the file ends like a whole layout. */
const SETTLE_MS = 300;

/** Whether a layout file looks complete: a GDSII file ends with ENDLIB; other formats need only hold still. */
async function looksComplete(file: string): Promise<boolean> {
	const handle = await open(file, 'r');
	try {
		const {size} = await handle.stat();
		if (size < 4) {
			return false;
		}

		const head = Buffer.alloc(4);
		await handle.read(head, 0, 4, 0);
		if (head[2] !== 0x00 || head[3] !== 0x02) {
			return true; // not GDSII (its first record is HEADER, type 0x0002)
		}

		// ENDLIB (00 04 04 00), then possibly zero padding up to a 2048-byte block. Its last byte
		// is a zero, so it goes with the padding.
		const tail = Buffer.alloc(Math.min(size, 4096));
		await handle.read(tail, 0, tail.length, size - tail.length);
		let end = tail.length;
		while (end > 0 && tail[end - 1] === 0) {
			end--;
		}

		return end >= 3 && end < tail.length && tail[end - 3] === 0x00 && tail[end - 2] === 0x04 && tail[end - 1] === 0x04;
	} finally {
		await handle.close();
	}
}

async function signature(file: string): Promise<string | undefined> {
	try {
		const info = await stat(file);
		return `${info.size}:${info.mtimeMs}:${info.ino}`;
	} catch {
		return undefined;
	}
}

export interface WatchOptions {
	/** Called after each reload (or failed reload) of a file. */
	onReload?: (file: string, error?: Error) => void;
	signal?: AbortSignal | undefined;
}

/**
 * Reloads a file in the viewer each time it is rewritten, once the write is complete: when it
 * holds still and, for GDSII, ends with ENDLIB. Watches the folders, so files replaced by
 * rename are followed too. Resolves when `signal` aborts.
 */
export async function watchAndReload(client: ViewerClient, files: string[], options: WatchOptions = {}): Promise<void> {
	const watchers: FSWatcher[] = [];
	const last = new Map<string, string | undefined>();
	const timers = new Map<string, NodeJS.Timeout>();
	for (const file of files) {
		last.set(file, await signature(file));
	}

	const check = async (file: string, seen: string | undefined) => {
		const now = await signature(file);
		if (now === undefined || now !== seen) {
			schedule(file); // still changing, or gone for a moment during a replace
			return;
		}

		if (now === last.get(file) || !(await looksComplete(file))) {
			return;
		}

		last.set(file, now);
		try {
			await client.reload(file); // a viewer elsewhere gets the new bytes
			options.onReload?.(file);
		} catch (error) {
			options.onReload?.(file, error as Error);
		}
	};

	function schedule(file: string): void {
		clearTimeout(timers.get(file));
		timers.set(
			file,
			setTimeout(() => {
				void signature(file).then(async seen => {
					await new Promise(resolve => {
						setTimeout(resolve, SETTLE_MS);
					});
					await check(file, seen);
				});
			}, SETTLE_MS),
		);
	}

	for (const folder of new Set(files.map(file => path.dirname(file)))) {
		watchers.push(
			watch(folder, (_event, name) => {
				const file = files.find(candidate => path.dirname(candidate) === folder && path.basename(candidate) === String(name));
				if (file) {
					schedule(file);
				}
			}),
		);
	}

	await new Promise<void>(resolve => {
		if (options.signal?.aborted) {
			resolve();
		}

		options.signal?.addEventListener('abort', () => {
			resolve();
		});
	});
	for (const watcher of watchers) {
		watcher.close();
	}

	for (const timer of timers.values()) {
		clearTimeout(timer);
	}
}
