import {open, stat} from 'node:fs/promises';
import path from 'node:path';
import {constants as zlibConstants, gunzipSync} from 'node:zlib';
import {LyipcError} from '../errors.js';

export type LayoutFormat = 'gds' | 'oasis';
export type Side = 'A' | 'B';

export interface LayoutInput {
	/** Absolute path. */
	path: string;
	/** As the user gave it, for messages. */
	given: string;
	size: number;
	format: LayoutFormat;
	gzip: boolean;
}

const SNIFF_BYTES = 64 * 1024;
const OASIS_MAGIC = Buffer.from('%SEMI-OASIS\r\n', 'latin1');

/** What the first bytes of a file say it is. Exported for unit tests. */
export function sniffFormat(head: Buffer): {format: LayoutFormat; gzip: boolean} | {format: undefined; gzip: boolean; reason: string} {
	let bytes = head;
	const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
	if (gzip) {
		try {
			// The head of a gzip stream inflates on its own with a sync flush.
			bytes = gunzipSync(head, {finishFlush: zlibConstants.Z_SYNC_FLUSH});
		} catch (error) {
			return {format: undefined, gzip, reason: `gzip data is corrupt (${(error as Error).message})`};
		}
	}

	if (bytes.subarray(0, OASIS_MAGIC.length).equals(OASIS_MAGIC)) {
		return {format: 'oasis', gzip};
	}

	// A GDSII stream starts with a HEADER record: 2 bytes length, record type 0x00, data type 0x02.
	if (bytes.length >= 4 && bytes[2] === 0x00 && bytes[3] === 0x02 && bytes.readUInt16BE(0) >= 4) {
		return {format: 'gds', gzip};
	}

	return {format: undefined, gzip, reason: describeContent(bytes, gzip)};
}

/** Common files that end up where a layout was expected, by their first bytes. */
const KNOWN_TYPES: Array<[string, number[] | string]> = [
	['a PNG image', [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]],
	['a JPEG image', [0xFF, 0xD8, 0xFF]],
	['a GIF image', 'GIF8'],
	['a PDF document', '%PDF-'],
	['a ZIP archive (or an Office document)', [0x50, 0x4B, 0x03, 0x04]],
	['a bzip2 file', 'BZh'],
	['an xz file', [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]],
	['a zstd file', [0x28, 0xB5, 0x2F, 0xFD]],
	['a 7-Zip archive', [0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]],
	['an SQLite database', 'SQLite format 3\0'],
	['an ELF program', [0x7F, 0x45, 0x4C, 0x46]],
	['a KLayout marker database or other XML', '<?xml'],
];

function knownType(bytes: Buffer): string | undefined {
	for (const [name, magic] of KNOWN_TYPES) {
		const expected = typeof magic === 'string' ? Buffer.from(magic, 'latin1') : Buffer.from(magic);
		if (bytes.subarray(0, expected.length).equals(expected)) {
			return name;
		}
	}

	return undefined;
}

function describeContent(bytes: Buffer, gzip: boolean): string {
	if (bytes.length === 0) {
		return gzip ? 'gzip data that is empty or cut short' : 'holds no data';
	}

	const prefix = gzip ? 'gzip data that ' : '';
	const known = knownType(bytes);
	if (known) {
		return `${prefix}is ${known}`;
	}

	const sample = bytes.subarray(0, 32);
	const printable = sample.every(byte => byte === 0x09 || byte === 0x0a || byte === 0x0d || (byte >= 0x20 && byte < 0x7f));
	if (printable) {
		const text = sample.toString('latin1').replaceAll(/\s+/g, ' ').trim();
		return `${prefix}is text starting with "${text}"`;
	}

	return `${prefix}starts with bytes ${sample.subarray(0, 8).toString('hex').replaceAll(/(..)/g, '$1 ').trim()}`;
}

/**
 * Checks that a file can be compared before any KLayout is started: it exists, is a file,
 * is readable, is not empty, and starts like GDSII or OASIS (gzipped or not).
 */
export async function checkLayoutFile(file: string, side: Side): Promise<LayoutInput> {
	const absolute = path.resolve(file);
	const label = `${file} (${side})`;
	let info;
	try {
		info = await stat(absolute);
	} catch (error) {
		throw fileError(error, label, file);
	}

	if (info.isDirectory()) {
		throw new LyipcError('INPUT_NOT_FILE', `${label}: is a directory, expected a GDSII or OASIS file`, {path: file});
	}

	if (!info.isFile()) {
		throw new LyipcError('INPUT_NOT_FILE', `${label}: not a regular file`, {path: file});
	}

	if (info.size === 0) {
		throw new LyipcError('INPUT_EMPTY', `${label}: file is empty (0 bytes)`, {path: file});
	}

	let head: Buffer;
	try {
		const handle = await open(absolute, 'r');
		try {
			const buffer = Buffer.alloc(Math.min(SNIFF_BYTES, info.size));
			const {bytesRead} = await handle.read(buffer, 0, buffer.length, 0);
			head = buffer.subarray(0, bytesRead);
		} finally {
			await handle.close();
		}
	} catch (error) {
		throw fileError(error, label, file);
	}

	const sniffed = sniffFormat(head);
	if (sniffed.format === undefined) {
		throw new LyipcError('INPUT_NOT_LAYOUT', `${label}: not a GDSII or OASIS file: ${sniffed.reason}`, {path: file});
	}

	return {path: absolute, given: file, size: info.size, format: sniffed.format, gzip: sniffed.gzip};
}

function fileError(error: unknown, label: string, file: string): LyipcError {
	const code = (error as NodeJS.ErrnoException).code;
	switch (code) {
		case 'ENOENT': {
			return new LyipcError('INPUT_NOT_FOUND', `${label}: no such file`, {path: file, cause: error});
		}

		case 'EACCES':
		case 'EPERM': {
			return new LyipcError('INPUT_UNREADABLE', `${label}: permission denied`, {path: file, cause: error});
		}

		case 'ENOTDIR': {
			return new LyipcError('INPUT_NOT_FOUND', `${label}: a parent of this path is not a directory`, {path: file, cause: error});
		}

		default: {
			return new LyipcError('INPUT_UNREADABLE', `${label}: cannot read (${(error as Error).message})`, {path: file, cause: error});
		}
	}
}
