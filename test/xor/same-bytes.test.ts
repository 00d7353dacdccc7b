import {copyFile, readFile, stat, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {sameBytes} from '../../src/xor/same-bytes.js';
import {fixture, useTempDirs} from '../helpers/run.js';

describe('sameBytes', () => {
	const tempDir = useTempDirs();

	async function compare(a: string, b: string): Promise<boolean> {
		const [sizeA, sizeB] = await Promise.all([stat(a), stat(b)]);
		return sameBytes(a, b, sizeA.size, sizeB.size);
	}

	test('a copy, the same path, and a large file differing only in its last byte', async () => {
		const dir = await tempDir();
		await copyFile(fixture('base.gds'), path.join(dir, 'copy.gds'));
		expect(await compare(fixture('base.gds'), path.join(dir, 'copy.gds'))).toBe(true);
		expect(await compare(fixture('base.gds'), fixture('base.gds'))).toBe(true);

		const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
		await writeFile(path.join(dir, 'a.bin'), big);
		big[big.length - 1] = 8;
		await writeFile(path.join(dir, 'b.bin'), big);
		expect(await compare(path.join(dir, 'a.bin'), path.join(dir, 'b.bin'))).toBe(false);
	});

	test('same geometry in other bytes is not byte-identical', async () => {
		expect((await readFile(fixture('identical_a.gds'))).length).toBe((await readFile(fixture('identical_b.gds'))).length);
		expect(await compare(fixture('identical_a.gds'), fixture('identical_b.gds'))).toBe(false);
	});
});
