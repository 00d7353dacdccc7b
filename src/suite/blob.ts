import {access, copyFile, mkdir, readFile} from 'node:fs/promises';
import pLimit from 'p-limit';
import path from 'node:path';
import {LyipcError} from '../errors.js';
import {isWithin} from '../paths.js';
import {writeFileAtomically} from '../write-file-atomically.js';
import {prepareReportDir} from './report-dir.js';
import {countOutcomes, noMatchHint, statusOf, SUITE_FORMAT_VERSION, type PairOutcome, type SuiteResult} from './run-suite.js';

/**
 * A shard's results kept for merging (`--reporter blob=DIR`, `lyipc-diff merge-reports`): the
 * SuiteResult in lyipc-blob.json, with the artifacts and pictures it points to copied beside it
 * under files/ and named relative to the folder, so the folder can travel (a CI artifact).
 */
export const BLOB_FILE = 'lyipc-blob.json';
/** Bumped when the blob's layout changes; a merge refuses another version. */
export const BLOB_FORMAT = 1;

interface BlobFile {
	blobFormat: number;
	result: SuiteResult;
}

/** The result with every artifact and picture path passed through `map` (null stays null). */
function mapFiles(result: SuiteResult, map: (file: string) => string): SuiteResult {
	const one = (file: string | null) => (file === null ? null : map(file));
	const pairs = result.pairs.map(
		(pair): PairOutcome => ({
			...pair,
			result: pair.result && {...pair.result, artifacts: {xor: one(pair.result.artifacts.xor), rdb: one(pair.result.artifacts.rdb)}},
			pictures: pair.pictures && {
				...pair.pictures,
				a: one(pair.pictures.a),
				b: one(pair.pictures.b),
				xor: one(pair.pictures.xor),
				overview: one(pair.pictures.overview),
				closeups: pair.pictures.closeups.map(map),
			},
		}),
	);
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

/** Copies each file to its place; `what` names the destination in the error. */
async function copyAll(copies: ReadonlyArray<{from: string; to: string}>, what: string): Promise<void> {
	try {
		await Promise.all(
			copies.map(async ({from, to}) =>
				copying(async () => {
					await mkdir(path.dirname(to), {recursive: true});
					await copyFile(from, to);
				}),
			),
		);
	} catch (error) {
		throw new LyipcError('WRITE_ERROR', `${what}: cannot copy the run's files (${(error as Error).message})`, {path: what, cause: error});
	}
}

/** The blob folder must lie apart from the run's report folder: each is emptied by a run. */
export function checkBlobPlace(dir: string, outDir: string): void {
	if (isWithin(dir, outDir) || isWithin(outDir, dir)) {
		throw new LyipcError('USAGE', `--reporter blob=${dir}: the blob folder and the report folder ${outDir} must be apart (each is emptied by a run)`, {path: dir});
	}
}

/** Writes `result` as a blob into `dir` (a new folder, or one lyipc-diff wrote before: emptied). */
export async function writeBlob(result: SuiteResult, dir: string): Promise<string> {
	checkBlobPlace(dir, result.outDir);
	const target = path.resolve(dir);
	await prepareReportDir(target, [result.referenceDir, result.outputDir]);
	const copies: Array<{from: string; to: string}> = [];
	const blob = mapFiles(result, file => {
		const relative = path.join('files', placeOf(file, result.outDir));
		copies.push({from: file, to: path.join(target, relative)});
		return relative.split(path.sep).join('/');
	});
	await copyAll(copies, `--reporter blob=${dir}`);

	const file = path.join(target, BLOB_FILE);
	await writeFileAtomically(file, JSON.stringify({blobFormat: BLOB_FORMAT, result: blob} satisfies BlobFile, null, 2) + '\n', 'the blob');
	return file;
}

/** A blob's result with its file paths absolute in `dir`. */
export async function readBlob(dir: string): Promise<SuiteResult> {
	const file = path.join(dir, BLOB_FILE);
	const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
		throw new LyipcError(
			error.code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE',
			`${dir}: no shard results here (${BLOB_FILE}: ${error.code ?? error.message}); write them with --reporter blob=${dir}`,
			{
				path: dir,
				cause: error,
			},
		);
	});
	let blob: Partial<BlobFile>;
	try {
		blob = JSON.parse(text) as Partial<BlobFile>;
	} catch (error) {
		throw new LyipcError('INPUT_UNREADABLE', `${file}: not JSON (${(error as Error).message})`, {path: file, cause: error});
	}

	if (blob.blobFormat !== BLOB_FORMAT || !Array.isArray(blob.result?.pairs)) {
		throw new LyipcError('INPUT_UNREADABLE', `${file}: a blob of format ${String(blob.blobFormat)}; this lyipc-diff reads format ${BLOB_FORMAT} (write and merge with one version)`, {path: file});
	}

	return mapFiles(blob.result, relative => path.resolve(dir, relative));
}

/** Checks that the blobs are the shards of one split, each once and none missing. */
function checkShards(results: ReadonlyArray<{dir: string; result: SuiteResult}>): void {
	const counts = new Set(results.map(({result}) => result.shard?.count ?? 1));
	if (counts.size > 1) {
		throw new LyipcError('USAGE', `merge-reports: the blobs come from different splits (${[...counts].map(count => `--shard i/${count}`).join(', ')})`);
	}

	const [count = 1] = counts;
	const seen = new Map<number, string>();
	for (const {dir, result} of results) {
		const index = result.shard?.index ?? 1;
		const other = seen.get(index);
		if (other !== undefined) {
			throw new LyipcError('USAGE', `merge-reports: ${other} and ${dir} both hold shard ${index}/${count}`);
		}

		seen.set(index, dir);
	}

	const missing = Array.from({length: count}, (_, index) => index + 1).filter(index => !seen.has(index));
	if (missing.length > 0) {
		throw new LyipcError('USAGE', `merge-reports: shard ${missing.map(index => `${index}/${count}`).join(', ')} missing; give every shard's blob folder`);
	}
}

/**
 * One result from the blobs of every shard: the pairs of all, sorted by path, counted again;
 * their artifacts and pictures copied into `outDir` (as a run puts them).
 */
export async function mergeBlobs(dirs: readonly string[], outDir: string): Promise<SuiteResult> {
	if (dirs.length === 0) {
		throw new LyipcError('USAGE', 'merge-reports: expected the blob folders of the shards (--reporter blob=DIR)');
	}

	const results = await Promise.all(dirs.map(async dir => ({dir, result: await readBlob(dir)})));
	checkShards(results);
	const target = path.resolve(outDir);
	const copies: Array<{from: string; to: string; dir: string}> = [];
	const pairs = results.flatMap(
		({dir, result}) =>
			mapFiles(result, file => {
				const copy = path.join(target, placeOf(file, path.join(path.resolve(dir), 'files')));
				copies.push({from: file, to: copy, dir});
				return copy;
			}).pairs,
	);
	// Every file checked before the report folder is emptied: an incomplete blob (a CI artifact
	// cut short) is the caller's to fix, and must not leave half a report behind.
	await Promise.all(
		copies.map(async ({from, dir}) =>
			access(from).catch((error: unknown) => {
				throw new LyipcError('INPUT_NOT_FOUND', `${dir}: the blob lacks ${path.relative(dir, from)}; give the whole folder --reporter blob wrote`, {path: from, cause: error});
			}),
		),
	);

	await prepareReportDir(target, dirs);
	await copyAll(copies, `merge-reports --out-dir ${outDir}`);
	pairs.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
	const twice = pairs.find((pair, index) => index > 0 && pairs[index - 1]!.path === pair.path);
	if (twice) {
		throw new LyipcError('USAGE', `merge-reports: ${twice.path} is in more than one blob`);
	}

	const counts = countOutcomes(pairs);
	const [first] = results;
	return {
		formatVersion: SUITE_FORMAT_VERSION,
		status: statusOf(counts),
		referenceDir: first!.result.referenceDir,
		outputDir: first!.result.outputDir,
		outDir: target,
		counts,
		pairs,
		hint: noMatchHint(pairs),
		workers: results.reduce((sum, {result}) => ({size: sum.size + result.workers.size, started: sum.started + result.workers.started, warm: sum.warm && result.workers.warm}), {
			size: 0,
			started: 0,
			warm: true,
		} as SuiteResult['workers']),
		// The shards ran side by side: the merged run took as long as the longest.
		timings: {totalMs: Math.max(...results.map(({result}) => result.timings.totalMs))},
		shard: null,
	};
}
