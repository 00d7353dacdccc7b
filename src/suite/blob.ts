import {copyFile, mkdir, realpath} from 'node:fs/promises';
import pLimit from 'p-limit';
import path from 'node:path';
import {isLyipcError, LyipcError} from '../errors.js';
import {isWithin, realPathOf} from '../paths.js';
import {guardOutputs, type PlannedOutput} from '../output-guard.js';
import {writeFileAtomically} from '../write-file-atomically.js';
import {checkBlobResult, shown} from './blob-check.js';
import {checkBlobFile, copyRegularFile, openRegularFile} from './blob-files.js';
import {prepareReportDir, recordWritten} from './report-dir.js';
import {countOutcomes, noMatchHint, statusOf, SUITE_FORMAT_VERSION, type PairOutcome, type SuiteResult} from './run-suite.js';

/**
 * A shard's results kept for merging (`--reporter blob=DIR`, `lyipc-diff merge-reports`): the
 * SuiteResult in lyipc-blob.json, with the artifacts and pictures it points to copied beside it
 * under files/ and named relative to the folder, so the folder can travel (a CI artifact).
 */
export const BLOB_FILE = 'lyipc-blob.json';
/** lyipc-blob.json's largest size: Node.js holds no longer string (a pair's result takes 1-50 KB). */
const MAX_BLOB_BYTES = 512 * 2 ** 20;
/** Bumped when the blob's layout changes; a merge refuses another version. */
export const BLOB_FORMAT = 1;

interface BlobFile {
	blobFormat: number;
	result: SuiteResult;
}

/** The result with every artifact and picture path passed through `map` with the field it is in (null stays null). */
function mapFiles(result: SuiteResult, map: (file: string, at: string) => string): SuiteResult {
	const pairs = result.pairs.map((pair, index): PairOutcome => {
		const at = `pairs[${index}]`;
		const one = (file: string | null, field: string) => (file === null ? null : map(file, `${at}.${field}`));
		return {
			...pair,
			result: pair.result && {...pair.result, artifacts: {xor: one(pair.result.artifacts.xor, 'result.artifacts.xor'), rdb: one(pair.result.artifacts.rdb, 'result.artifacts.rdb')}},
			pictures: pair.pictures && {
				...pair.pictures,
				a: one(pair.pictures.a, 'pictures.a'),
				b: one(pair.pictures.b, 'pictures.b'),
				xor: one(pair.pictures.xor, 'pictures.xor'),
				overview: one(pair.pictures.overview, 'pictures.overview'),
				closeups: pair.pictures.closeups.map((file, closeup) => map(file, `${at}.pictures.closeups[${closeup}]`)),
			},
		};
	});
	return {...result, pairs};
}

/** Where a file of the run goes in a folder: its place under the run's outDir (they all lie there). */
function placeOf(file: string, outDir: string): string {
	if (!isWithin(file, outDir)) {
		throw new LyipcError('INTERNAL', `${file} is not in the run's folder ${outDir}`);
	}

	return path.relative(outDir, file);
}

/** A few copies at a time: a large report has thousands of pictures. */
const copying = pLimit(16);

interface Copy {
	from: string;
	to: string;
	/** Names the file in an error: "blob-2: pairs[3].pictures.xor". */
	name: string;
}

/** Copies each file to its place; `what` names the destination in the error. */
async function copyAll(copies: readonly Copy[], what: string, copy: (from: string, to: string, name: string) => Promise<void>): Promise<void> {
	try {
		await Promise.all(
			copies.map(async ({from, to, name}) =>
				copying(async () => {
					await mkdir(path.dirname(to), {recursive: true});
					await copy(from, to, name);
				}),
			),
		);
	} catch (error) {
		if (isLyipcError(error)) {
			throw error;
		}

		throw new LyipcError('WRITE_ERROR', `${what}: cannot copy the run's files (${(error as Error).message})`, {path: what, cause: error});
	}
}

/** The blob folder must lie apart from the run's report folder: each is emptied by a run. */
export async function checkBlobPlace(dir: string, outDir: string): Promise<void> {
	const [blob, report] = await Promise.all([realPathOf(dir), realPathOf(outDir)]);
	if (isWithin(blob, report) || isWithin(report, blob)) {
		throw new LyipcError('USAGE', `--reporter blob=${dir}: the blob folder and the report folder ${outDir} must be apart (each is emptied by a run)`, {path: dir});
	}
}

/** Writes `result` as a blob into `dir` (a new folder, or one lyipc-diff wrote before: what it wrote there removed first). */
export async function writeBlob(result: SuiteResult, dir: string): Promise<string> {
	await checkBlobPlace(dir, result.outDir);
	const target = path.resolve(dir);
	await prepareReportDir(target, [result.referenceDir, result.outputDir]);
	const copies: Copy[] = [];
	const blob = mapFiles(result, (file, at) => {
		const relative = path.join('files', placeOf(file, result.outDir));
		copies.push({from: file, to: path.join(target, relative), name: at});
		return relative.split(path.sep).join('/');
	});
	await copyAll(copies, `--reporter blob=${dir}`, async (from, to) => copyFile(from, to));

	const file = path.join(target, BLOB_FILE);
	await writeFileAtomically(file, JSON.stringify({blobFormat: BLOB_FORMAT, result: blob} satisfies BlobFile, null, 2) + '\n', 'the blob');
	await recordWritten(target, [...copies.map(copy => copy.to), file]);
	return file;
}

/** A blob as read: the folder as given, its real path, and its checked result (file paths relative to it). */
export interface ShardBlob {
	dir: string;
	real: string;
	result: SuiteResult;
}

/** The blob in `dir`: lyipc-blob.json, a regular file, of this format, every field of its type (BAD_BLOB naming the field). */
export async function readBlob(dir: string): Promise<ShardBlob> {
	const file = path.join(dir, BLOB_FILE);
	const notHere = (error: NodeJS.ErrnoException) =>
		new LyipcError(
			error.code === 'ENOENT' || error.code === 'ENOTDIR' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE',
			`${dir}: no shard results here (${BLOB_FILE}: ${error.code ?? error.message}); write them with --reporter blob=${dir}`,
			{path: dir, cause: error},
		);
	const real = await realpath(dir).catch((error: NodeJS.ErrnoException) => {
		throw notHere(error);
	});
	const handle = await openRegularFile(path.join(real, BLOB_FILE), `${dir}: ${BLOB_FILE}`).catch((error: unknown) => {
		throw isLyipcError(error) ? error : notHere(error as NodeJS.ErrnoException);
	});
	let text: string;
	try {
		// A blob from elsewhere may be any size: read no more than a result can be.
		const {size} = await handle.stat();
		if (size > MAX_BLOB_BYTES) {
			throw new LyipcError('BAD_BLOB', `${file}: ${Math.round(size / 2 ** 20)} MB; a blob's result is at most ${MAX_BLOB_BYTES / 2 ** 20} MB`, {path: file});
		}

		text = await handle.readFile('utf8');
	} catch (error) {
		throw isLyipcError(error) ? error : notHere(error as NodeJS.ErrnoException);
	} finally {
		await handle.close();
	}

	let blob: unknown;
	try {
		blob = JSON.parse(text);
	} catch (error) {
		throw new LyipcError('BAD_BLOB', `${file}: not JSON (${(error as Error).message})`, {path: file, cause: error});
	}

	const format = (blob as Partial<BlobFile> | null)?.blobFormat;
	if (typeof blob !== 'object' || blob === null || format !== BLOB_FORMAT) {
		throw new LyipcError(
			'BAD_BLOB',
			`${file}: a blob ${format === undefined ? 'without blobFormat' : `of format ${shown(format)}`}; this lyipc-diff reads format ${BLOB_FORMAT} (write and merge with one version)`,
			{path: file},
		);
	}

	return {dir, real, result: checkBlobResult((blob as BlobFile).result, dir, file)};
}

/** Checks that the blobs are the shards of one split, each once and none missing. */
function checkShards(blobs: readonly ShardBlob[]): void {
	// Which blob holds which shard, for the messages (a few: a matrix may have hundreds).
	const given = () => {
		const shown = blobs.slice(0, 6).map(({dir, result}) => `${dir} holds ${result.shard?.index ?? 1}/${result.shard?.count ?? 1}`);
		return `given: ${shown.join(', ')}${blobs.length > shown.length ? ', ...' : ''}`;
	};

	const counts = new Set(blobs.map(({result}) => result.shard?.count ?? 1));
	if (counts.size > 1) {
		throw new LyipcError('USAGE', `merge-reports: the blobs come from different splits (${given()})`);
	}

	const [count = 1] = counts;
	const seen = new Map<number, string>();
	for (const {dir, result} of blobs) {
		const index = result.shard?.index ?? 1;
		const other = seen.get(index);
		if (other !== undefined) {
			throw new LyipcError('USAGE', `merge-reports: ${other} and ${dir} both hold shard ${index}/${count}`);
		}

		seen.set(index, dir);
	}

	// The count comes from the blob: list a few missing shards, never walk a huge count.
	const missing: number[] = [];
	for (let index = 1; index <= count && missing.length < 10; index++) {
		if (!seen.has(index)) {
			missing.push(index);
		}
	}

	if (missing.length > 0) {
		const more = count - seen.size > missing.length ? ', ...' : '';
		throw new LyipcError('USAGE', `merge-reports: shard ${missing.map(index => `${index}/${count}`).join(', ')}${more} missing; give every shard's blob folder (${given()})`);
	}
}

/** Each relative path once over all blobs: a pair in two blobs means blobs of different runs. */
function checkPairsOnce(blobs: readonly ShardBlob[]): void {
	const holder = new Map<string, {dir: string; index: number}>();
	for (const {dir, result} of blobs) {
		for (const [index, pair] of result.pairs.entries()) {
			const other = holder.get(pair.path);
			if (other?.dir === dir) {
				throw new LyipcError('BAD_BLOB', `${dir}: pairs[${index}].path: ${JSON.stringify(pair.path)} is also pairs[${other.index}].path`);
			}

			if (other) {
				throw new LyipcError('USAGE', `merge-reports: ${pair.path} is in more than one blob (${other.dir} and ${dir})`);
			}

			holder.set(pair.path, {dir, index});
		}
	}
}

/** No file is copied to where another one needs a folder (x.png from one blob, x.png/y.png from another). */
function checkNoFileInFile(copies: ReadonlyMap<string, Copy>): void {
	for (const {to, name} of copies.values()) {
		for (let folder = path.dirname(to); folder !== path.dirname(folder); folder = path.dirname(folder)) {
			const other = copies.get(folder);
			if (other) {
				throw new LyipcError('USAGE', `merge-reports: ${name} and ${other.name} would both be copied to ${folder}, as a folder and as a file`, {path: folder});
			}
		}
	}
}

/**
 * One result from the blobs of every shard: the pairs of all, sorted by path, counted again;
 * their artifacts and pictures copied into `outDir` (as a run puts them). Everything is checked
 * before the report folder is emptied: each blob (readable, every field of its type, its files
 * regular and inside it), the shards (one split, each once), each pair once, and the places
 * (the report folder and the caller's `outputs`, its report files, in no blob and holding none:
 * {@link guardOutputs}). A refused merge leaves the last report as it was.
 */
export async function mergeBlobs(dirs: readonly string[], outDir: string, options: {outputs?: readonly PlannedOutput[]} = {}): Promise<SuiteResult> {
	if (dirs.length === 0) {
		throw new LyipcError('USAGE', 'merge-reports: expected the blob folders of the shards (--reporter blob=DIR)');
	}

	const blobs = await Promise.all(dirs.map(readBlob));
	const target = path.resolve(outDir);
	// The report folder is emptied before the blobs' files are copied, and no report may land in a blob.
	await guardOutputs(
		[{flag: '--out-dir', path: target, kind: 'folder'}, ...(options.outputs ?? [])],
		blobs.map(({dir, real}) => ({real, name: `the blob ${dir}`})),
		[],
	);
	checkShards(blobs);
	checkPairsOnce(blobs);

	// Each destination once. A run names every pair's files apart, so two files for one place
	// mean a blob that was edited (or two blobs that claim one file): the report would show one
	// pair's picture for another.
	const copies = new Map<string, Copy & {relative: string; real: string; dir: string; at: string}>();
	const pairs = blobs.flatMap(
		({dir, real, result}) =>
			mapFiles(result, (relative, at) => {
				const to = path.join(target, relative.slice('files/'.length));
				const from = path.join(real, relative);
				const other = copies.get(to);
				if (other && other.from !== from) {
					throw new LyipcError('BAD_BLOB', `${dir}: ${at} names ${relative}, which ${other.name} names too; each pair's files are its own`, {path: dir});
				}

				copies.set(to, {from, to, name: `${dir}: ${at}`, relative, real, dir, at});
				return to;
			}).pairs,
	);
	checkNoFileInFile(copies);
	await Promise.all([...copies.values()].map(async ({real, relative, dir, at}) => copying(async () => checkBlobFile(real, relative, dir, at))));

	await prepareReportDir(
		target,
		blobs.map(({real}) => real),
	);
	await copyAll([...copies.values()], `merge-reports --out-dir ${outDir}`, copyRegularFile);
	await recordWritten(target, copies.keys());
	pairs.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
	const counts = countOutcomes(pairs);
	return {
		formatVersion: SUITE_FORMAT_VERSION,
		status: statusOf(counts),
		referenceDir: blobs[0]!.result.referenceDir,
		outputDir: blobs[0]!.result.outputDir,
		outDir: target,
		counts,
		pairs,
		hint: noMatchHint(pairs),
		workers: blobs.reduce((sum, {result}) => ({size: sum.size + result.workers.size, started: sum.started + result.workers.started, warm: sum.warm && result.workers.warm}), {
			size: 0,
			started: 0,
			warm: true,
		} as SuiteResult['workers']),
		// The shards ran side by side: the merged run took as long as the longest.
		timings: {totalMs: Math.max(...blobs.map(({result}) => result.timings.totalMs)), startupMs: Math.max(...blobs.map(({result}) => result.timings.startupMs))},
		shard: null,
	};
}
