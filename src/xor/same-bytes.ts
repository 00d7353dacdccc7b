import {closeSync, openSync, readSync} from 'node:fs';
import {realpath} from 'node:fs/promises';
import {setImmediate as yieldToEventLoop} from 'node:timers/promises';

const CHUNK = 1 << 20;
/** Let timers and I/O run after this many bytes, so a huge file on a slow disk cannot stall them. */
const YIELD_EVERY = 64 * CHUNK;

/**
 * True when two files hold the same bytes. Cheap enough to run before every comparison:
 * different sizes answer at once, and different files usually differ in the first chunk.
 * Reads are synchronous: from the page cache that is three times faster than the thread-pool
 * round trips of async reads (5 ms instead of 15 ms for two 29 MB files).
 */
export async function sameBytes(a: string, b: string, sizeA: number, sizeB: number): Promise<boolean> {
	if (sizeA !== sizeB) {
		return false;
	}

	if ((await realpath(a)) === (await realpath(b))) {
		return true;
	}

	const fileA = openSync(a, 'r');
	let fileB: number | undefined;
	try {
		fileB = openSync(b, 'r');
		// No bigger than the files: a run of small pairs would otherwise allocate 2 MB per pair.
		const size = Math.max(1, Math.min(CHUNK, sizeA));
		const bufferA = Buffer.allocUnsafe(size);
		const bufferB = Buffer.allocUnsafe(size);
		for (let position = 0; position < sizeA; position += size) {
			const readA = readSync(fileA, bufferA, 0, size, position);
			const readB = readSync(fileB, bufferB, 0, size, position);
			if (readA !== readB || !bufferA.subarray(0, readA).equals(bufferB.subarray(0, readB))) {
				return false;
			}

			if (readA === 0) {
				break;
			}

			if ((position + size) % YIELD_EVERY === 0) {
				await yieldToEventLoop();
			}
		}

		return true;
	} finally {
		closeSync(fileA);
		if (fileB !== undefined) {
			closeSync(fileB);
		}
	}
}
