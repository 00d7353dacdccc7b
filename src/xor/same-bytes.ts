import {open, realpath} from 'node:fs/promises';

const CHUNK = 1 << 20;

/**
 * True when two files hold the same bytes. Cheap enough to run before every comparison:
 * different sizes answer at once, and different files usually differ in the first chunk.
 */
export async function sameBytes(a: string, b: string, sizeA: number, sizeB: number): Promise<boolean> {
	if (sizeA !== sizeB) {
		return false;
	}

	if (await realpath(a) === await realpath(b)) {
		return true;
	}

	const [fileA, fileB] = await Promise.all([open(a, 'r'), open(b, 'r')]);
	try {
		const bufferA = Buffer.allocUnsafe(CHUNK);
		const bufferB = Buffer.allocUnsafe(CHUNK);
		for (let position = 0; position < sizeA; position += CHUNK) {
			const [readA, readB] = await Promise.all([
				fileA.read(bufferA, 0, CHUNK, position),
				fileB.read(bufferB, 0, CHUNK, position),
			]);
			if (readA.bytesRead !== readB.bytesRead || !bufferA.subarray(0, readA.bytesRead).equals(bufferB.subarray(0, readB.bytesRead))) {
				return false;
			}

			if (readA.bytesRead === 0) {
				break;
			}
		}

		return true;
	} finally {
		await Promise.all([fileA.close(), fileB.close()]);
	}
}
