import {mkdir, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {gzipSync} from 'node:zlib';
import {describe, expect, test} from 'vitest';
import {checkLayoutFile, sniffFormat} from '../../src/xor/input.js';
import {fixture, useTempDirs} from '../helpers/run.js';

describe('sniffFormat', () => {
	test('GDSII, OASIS, and both gzipped', async () => {
		const gds = await readFile(fixture('base.gds'));
		const oas = await readFile(fixture('base.oas'));
		expect(sniffFormat(gds)).toEqual({format: 'gds', gzip: false});
		expect(sniffFormat(oas)).toEqual({format: 'oasis', gzip: false});
		expect(sniffFormat(gzipSync(gds))).toEqual({format: 'gds', gzip: true});
		expect(sniffFormat(gzipSync(oas).subarray(0, 40))).toEqual({format: 'oasis', gzip: true});
	});

	test('says what a non-layout file looks like', () => {
		expect(sniffFormat(Buffer.from('hello world\n'))).toMatchObject({format: undefined, reason: 'is text starting with "hello world"'});
		expect(sniffFormat(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]))).toMatchObject({format: undefined, reason: 'starts with bytes 89 50 4e 47 00 00 00 00'});
		// Common files named by type.
		for (const [bytes, name] of [
			[Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), 'is a PNG image'],
			[Buffer.from('%PDF-1.7\n%...'), 'is a PDF document'],
			[Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0]), 'is a ZIP archive (or an Office document)'],
			[Buffer.from('<?xml version="1.0"?><report-database>'), 'is a KLayout marker database or other XML'],
			[Buffer.from('hello layout\n'), 'is text starting with "hello layout"'],
		] as const) {
			expect(sniffFormat(bytes)).toMatchObject({format: undefined, reason: name});
		}
		const corruptGzip = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
		expect(sniffFormat(corruptGzip)).toMatchObject({format: undefined, gzip: true, reason: expect.stringMatching(/gzip data is corrupt/)});
		expect(sniffFormat(Buffer.from([0x1f, 0x8b, 0x08]))).toMatchObject({format: undefined, gzip: true, reason: 'gzip data that is empty or cut short'});
		expect(sniffFormat(gzipSync(Buffer.from('plain text')))).toMatchObject({format: undefined, reason: 'gzip data that is text starting with "plain text"'});
	});
});

describe('checkLayoutFile', () => {
	const tempDir = useTempDirs();

	test('describes a good file', async () => {
		const input = await checkLayoutFile(fixture('base.gds.gz'), 'B');
		expect(input).toMatchObject({path: fixture('base.gds.gz'), format: 'gds', gzip: true});
		expect(input.size).toBeGreaterThan(0);
	});

	test.each([
		['missing.gds', 'INPUT_NOT_FOUND', /missing\.gds \(A\): no such file/],
		['empty.gds', 'INPUT_EMPTY', /empty\.gds \(A\): file is empty/],
		['not_layout.gds', 'INPUT_NOT_LAYOUT', /not_layout\.gds \(A\): not a GDSII or OASIS file: is text starting with "This is a text file/],
	])('%s: %s', async (name, code, message) => {
		const file = name === 'missing.gds' ? path.join(await tempDir(), name) : fixture(name);
		const error = await checkLayoutFile(file, 'A').catch((error_: unknown) => error_);
		expect(error).toMatchObject({code, path: file});
		expect((error as Error).message).toMatch(message);
	});

	test('a directory, and a path through a file', async () => {
		const dir = await tempDir();
		await mkdir(path.join(dir, 'sub.gds'));
		await expect(checkLayoutFile(path.join(dir, 'sub.gds'), 'B')).rejects.toMatchObject({code: 'INPUT_NOT_FILE', message: expect.stringMatching(/is a directory/)});
		await writeFile(path.join(dir, 'file'), 'x');
		await expect(checkLayoutFile(path.join(dir, 'file', 'a.gds'), 'B')).rejects.toMatchObject({code: 'INPUT_NOT_FOUND'});
	});
});
