// Files that once held the viewer's window for seconds or minutes (issue 28), written fast and
// with bounded memory: for the viewer tests and bench/fuzz/viewer.mjs.
import {execFileSync} from 'node:child_process';
import {createWriteStream} from 'node:fs';
import {once} from 'node:events';
import {createGzip} from 'node:zlib';
import {boxRecords, CELL_END, cellHead, libraryHead, LIBRARY_END} from './gds-records.mjs';

const GDS_HEAD = Buffer.concat([libraryHead(), cellHead('TOP')]);
const GDS_TAIL = Buffer.concat([CELL_END, LIBRARY_END]);

/** Writes `chunks()` (an iterable of Buffers) to `file`, gzip-compressed when `gzip`. */
async function write(file, chunks, gzip) {
	const out = createWriteStream(file);
	const sink = gzip ? createGzip({level: 6}) : out;
	if (gzip) {
		sink.pipe(out);
	}

	for (const chunk of chunks) {
		if (!sink.write(chunk)) {
			await once(sink, 'drain');
		}
	}

	sink.end();
	await once(out, 'close');
}

/**
 * `count` copies of one 100 x 100 µm box: small when compressed, a few hundred KB for a million,
 * and each copy covers every pixel of a picture of the cell (KLayout draws them one by one).
 */
export async function overlappingBoxes(file, count, gzip = true) {
	const block = Buffer.concat(Array.from({length: 1000}, () => boxRecords(1, 0, 0, 100_000, 100_000)));
	function* chunks() {
		yield GDS_HEAD;
		for (let i = 0; i < Math.floor(count / 1000); i++) {
			yield block;
		}

		yield GDS_TAIL;
	}

	await write(file, chunks(), gzip);
}

/** `n` x `n` separate 1 µm squares at a 2 µm pitch: many shapes, each small in a picture of the whole. */
export async function squareGrid(file, n, gzip = true) {
	function* chunks() {
		yield GDS_HEAD;
		for (let i = 0; i < n; i++) {
			yield Buffer.concat(Array.from({length: n}, (_, j) => boxRecords(1, i * 2000, j * 2000, i * 2000 + 1000, j * 2000 + 1000)));
		}

		yield GDS_TAIL;
	}

	await write(file, chunks(), gzip);
}

/** `bytes` of zeros, gzip-compressed (1000:1: 2 GB fit into 2 MB). */
export async function gzippedZeros(file, bytes) {
	const chunk = Buffer.alloc(16 * 1024 * 1024);
	function* chunks() {
		for (let left = bytes; left > 0; left -= chunk.length) {
			yield left >= chunk.length ? chunk : chunk.subarray(0, left);
		}
	}

	await write(file, chunks(), true);
}

/** What makes KLayout read the pieces between them as a marker database or a layer properties file. */
export const MARKERS_HEAD =
	'<?xml version="1.0" encoding="utf-8"?>\n<report-database>\n <categories><category><name>c</name></category></categories>\n <cells><cell><name>TOP</name></cell></cells>\n <items>\n';
export const MARKERS_TAIL = ' </items>\n</report-database>\n';
export const LAYERS_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n<layer-properties>\n';
export const LAYERS_TAIL = '</layer-properties>\n';

/**
 * A file of `pieces`, each a string or [string, times] (written that many times over): a dense
 * side file of any kind in one line, e.g. [MARKERS_HEAD, ['<item/>', 4_000_000], MARKERS_TAIL].
 */
export async function repeated(file, pieces, gzip = false) {
	function* chunks() {
		for (const piece of pieces) {
			const [text, times] = typeof piece === 'string' ? [piece, 1] : piece;
			const unit = Buffer.from(text);
			const perBlock = Math.max(1, Math.min(times, Math.floor(65_536 / unit.length)));
			const block = Buffer.concat(Array.from({length: perBlock}, () => unit));
			let left = times;
			for (; left >= perBlock; left -= perBlock) {
				yield block;
			}

			if (left > 0) {
				yield block.subarray(0, left * unit.length);
			}
		}
	}

	await write(file, chunks(), gzip);
}

/** A marker database (.lyrdb) of `items` minimal items. */
export async function markerDatabase(file, items, gzip = false) {
	await repeated(file, [MARKERS_HEAD, ['<item><category>c</category><cell>TOP</cell></item>\n', items], MARKERS_TAIL], gzip);
}

/** A layer properties file (.lyp) with `entries` layers. */
export async function layerProperties(file, entries, gzip = false) {
	function* chunks() {
		yield Buffer.from(LAYERS_HEAD);
		for (let i = 0; i < entries; i += 1000) {
			yield Buffer.from(Array.from({length: Math.min(1000, entries - i)}, (_, j) => ` <properties><source>${i + j}/0@1</source></properties>\n`).join(''));
		}

		yield Buffer.from(LAYERS_TAIL);
	}

	await write(file, chunks(), gzip);
}

/** A named pipe: opening it blocks until a writer comes. */
export function fifo(file) {
	execFileSync('mkfifo', [file]);
	return file;
}
