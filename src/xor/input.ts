import {open, readdir, stat} from 'node:fs/promises';
import {isUtf8} from 'node:buffer';
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
	['a PNG image', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
	['a JPEG image', [0xff, 0xd8, 0xff]],
	['a GIF image', 'GIF8'],
	['a PDF document', '%PDF-'],
	['a ZIP archive (or an Office document)', [0x50, 0x4b, 0x03, 0x04]],
	['a bzip2 file', 'BZh'],
	['an xz file', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
	['a zstd file', [0x28, 0xb5, 0x2f, 0xfd]],
	['a 7-Zip archive', [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]],
	['an SQLite database', 'SQLite format 3\0'],
	['an ELF program', [0x7f, 0x45, 0x4c, 0x46]],
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

/** What lies at an input's path, found here (stat) or on a remote host (a shell script). */
export type FoundInput = {problem: 'missing' | 'parent-not-directory' | 'directory' | 'not-file' | 'unreadable'; reason?: string | undefined; cause?: unknown} | {size: number; head: Buffer};

/**
 * The one judgement of an input, wherever it was looked at: exists, is a file, is readable, is
 * not empty, starts like GDSII or OASIS (gzipped or not). `label` names it in messages
 * ("ring.gds (A)", "host:/p/ring.gds (A)"); `where` says where a missing file was looked for.
 */
export function judgeInput(found: FoundInput, label: string, file: string, where = ''): {size: number; format: LayoutFormat; gzip: boolean} {
	if ('problem' in found) {
		const problems = {
			missing: ['INPUT_NOT_FOUND', `no such file${where}`],
			'parent-not-directory': ['INPUT_NOT_FOUND', 'a parent of this path is not a directory'],
			directory: ['INPUT_NOT_FILE', 'is a directory, expected a GDSII or OASIS file'],
			'not-file': ['INPUT_NOT_FILE', 'not a regular file'],
			unreadable: ['INPUT_UNREADABLE', found.reason ? `cannot read (${found.reason})` : 'permission denied'],
		} as const;
		const [code, text] = problems[found.problem];
		throw new LyipcError(code, `${label}: ${text}`, {path: file, cause: found.cause});
	}

	if (found.size === 0) {
		throw new LyipcError('INPUT_EMPTY', `${label}: file is empty (0 bytes)`, {path: file});
	}

	const sniffed = sniffFormat(found.head);
	if (sniffed.format === undefined) {
		throw new LyipcError('INPUT_NOT_LAYOUT', `${label}: not a GDSII or OASIS file: ${sniffed.reason}`, {path: file});
	}

	return {size: found.size, format: sniffed.format, gzip: sniffed.gzip};
}

/** Checks a file on this machine before any KLayout is started ({@link judgeInput}). */
export async function checkLayoutFile(file: string, side: Side): Promise<LayoutInput> {
	const absolute = path.resolve(file);
	return {path: absolute, given: file, ...judgeInput(await lookAt(absolute), `${file} (${side})`, file)};
}

async function lookAt(absolute: string): Promise<FoundInput> {
	try {
		const info = await stat(absolute);
		if (info.isDirectory()) {
			return {problem: 'directory'};
		}

		if (!info.isFile()) {
			return {problem: 'not-file'};
		}

		if (info.size === 0) {
			return {size: 0, head: Buffer.alloc(0)};
		}

		const handle = await open(absolute, 'r');
		try {
			const buffer = Buffer.alloc(Math.min(SNIFF_BYTES, info.size));
			const {bytesRead} = await handle.read(buffer, 0, buffer.length, 0);
			return {size: info.size, head: buffer.subarray(0, bytesRead)};
		} finally {
			await handle.close();
		}
	} catch (error) {
		return (await undecodableName(absolute, error)) ?? problemOf(error);
	}
}

/**
 * A file whose name is not valid UTF-8 reaches Node.js (argv, directory listings) with U+FFFD in
 * place of the bytes, and that name opens nothing: say so instead of "no such file" when a file or
 * folder of such a name is there.
 */
async function undecodableName(absolute: string, error: unknown): Promise<FoundInput | undefined> {
	if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !absolute.includes('\uFFFD')) {
		return undefined;
	}

	const parts = absolute.split(path.sep);
	const index = parts.findIndex(part => part.includes('\uFFFD'));
	const entries = await readdir(parts.slice(0, index).join(path.sep) || path.sep, {encoding: 'buffer'}).catch(() => []);
	if (!entries.some(entry => !isUtf8(entry) && entry.toString('utf8') === parts[index])) {
		return undefined;
	}

	const which = index === parts.length - 1 ? 'its name' : `the folder name ${parts[index]} on its path`;
	return {problem: 'unreadable', reason: `${which} is not valid UTF-8 (shown with \uFFFD), and lyipc-diff cannot open such names; rename it`, cause: error};
}

function problemOf(error: unknown): FoundInput {
	switch ((error as NodeJS.ErrnoException).code) {
		case 'ENOENT': {
			return {problem: 'missing', cause: error};
		}

		case 'EACCES':
		case 'EPERM': {
			return {problem: 'unreadable', cause: error};
		}

		case 'ENOTDIR': {
			return {problem: 'parent-not-directory', cause: error};
		}

		default: {
			return {problem: 'unreadable', reason: (error as Error).message, cause: error};
		}
	}
}
