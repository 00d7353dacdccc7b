// The reports, pictures and blob paths over many pairs at once, at the cost of a real directory
// run: a chunk of pairs goes into one tree (ref/ID/NAME and run/ID/NAME, ID the pair's id, NAME
// its file's path in its history), one `lyipc-diff ref run` writes every report of the chunk,
// and `lyipc-diff merge-reports` merges its blob. Each pair is then checked in those reports.
//
// The limits stay per pair: lyipc's own --timeout stops any one comparison (and, where the
// build has it, --picture-budget any one pair's pictures), and a pair's time is its `ms` in the
// JSON report (its checks, comparison and pictures, without the wait for a worker). A KLayout
// worker handles one pair at a time, so the largest resident size of any one process of the
// run bounds every pair's memory; past --memory the run is killed, and the chunk is run again
// in halves until the pair over the limit is alone.
import {copyFileSync, linkSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import {availableParallelism} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {artifactsReason, caseReason, exitOf, htmlNamesReason, junitCases, markdownCountsReason, markdownListsReason, picturesReason, picturesSkipped, readText} from './checks.mjs';
import {runLimited} from './limits.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIFF_CLI = path.join(ROOT, 'dist', 'src', 'cli', 'lyipc-diff.js');
export const BATCH_PATHS = ['reports', 'pictures', 'blob'];

/** `list` in chunks of `size`, each of one source. */
export function chunksOf(pairs, size) {
	const bySource = new Map();
	for (const pair of pairs) {
		bySource.set(pair.source, [...(bySource.get(pair.source) ?? []), pair]);
	}

	const chunks = [];
	for (const list of bySource.values()) {
		for (let start = 0; start < list.length; start += size) {
			chunks.push(list.slice(start, start + size));
		}
	}

	return chunks;
}

/**
 * The chunk's tree in a new folder under `workDir`. A is a hard link to the cache where it can
 * be (a copy across file systems); B is always a copy: a byte-identical pair shares one cache
 * file, and a file of the run tree that is also a file of the reference tree (one pair's B is
 * the next pair's A) would be an output onto an input.
 */
export function makeChunkTree(cache, pairs, workDir) {
	const dir = mkdtempSync(path.join(workDir, 'chunk-'));
	const reference = path.join(dir, 'ref');
	const output = path.join(dir, 'run');
	for (const pair of pairs) {
		const name = `${pair.id}/${pair.bPath}`;
		const a = path.join(reference, name);
		const b = path.join(output, name);
		mkdirSync(path.dirname(a), {recursive: true});
		mkdirSync(path.dirname(b), {recursive: true});
		try {
			linkSync(path.join(cache, pair.a), a);
		} catch {
			copyFileSync(path.join(cache, pair.a), a);
		}

		copyFileSync(path.join(cache, pair.b), b);
	}

	return {dir, reference, output};
}

/** Whether the built lyipc-diff has --picture-budget. */
export function hasPictureBudget() {
	return readText(path.join(ROOT, 'dist', 'src', 'cli', 'diff-help.js')).includes('--picture-budget');
}

/**
 * Runs `paths` (of BATCH_PATHS) on `pairs` in chunks of `chunkSize`; `onRecord(record)` gets
 * each pair's record ({id, source, aPath, bPath, paths, batch}) and `onChunk(summary)` each
 * chunk's run.
 */
export async function runBatch({pairs, paths, cache, workDir, timeoutMs, memoryMb, pictureBudget, chunkSize, env, onRecord, onChunk}) {
	const workers = availableParallelism();
	const budget = pictureBudget && hasPictureBudget() ? ['--picture-budget', String(pictureBudget)] : [];
	const {LYIPC_WARM_WORKER: _warm, CI: _ci, ...rest} = env;
	const runEnv = {...rest, NO_COLOR: '1'};
	const limited = (args, cwd, leftMs) => runLimited(process.execPath, [DIFF_CLI, ...args], {cwd, env: runEnv, timeoutMs: leftMs, memoryMb, memoryOf: 'largest'});

	const runChunk = async (chunk, label) => {
		const tree = makeChunkTree(cache, chunk, workDir);
		try {
			const out = path.join(tree.dir, 'out');
			const files = {
				json: path.join(out, 'report.json'),
				junit: path.join(out, 'junit.xml'),
				markdown: path.join(out, 'summary.md'),
				html: path.join(out, 'index.html'),
				blob: path.join(out, 'blob'),
				merged: path.join(out, 'merged.json'),
				mergedJunit: path.join(out, 'merged.xml'),
				mergedMarkdown: path.join(out, 'merged.md'),
				mergedHtml: path.join(out, 'merged', 'index.html'),
			};
			const reporters = [`json=${files.json}`];
			if (paths.includes('reports')) {
				reporters.push(`junit=${files.junit}`, `markdown=${files.markdown}`);
			}

			if (paths.includes('pictures')) {
				reporters.push(`html=${files.html}`);
			}

			if (paths.includes('blob')) {
				reporters.push(`blob=${files.blob}`);
			}

			// lyipc's limit is per comparison; this one only keeps a run from hanging.
			const guardMs = 2 * timeoutMs * Math.ceil(chunk.length / workers) + 60_000;
			const timeoutS = String(timeoutMs / 1000);
			const args = [
				tree.reference,
				tree.output,
				'--workers',
				String(workers),
				'--timeout',
				timeoutS,
				...budget,
				...reporters.flatMap(r => ['--reporter', r]),
				'--out-dir',
				path.join(out, 'artifacts'),
				'-q',
			];
			const run = await limited(args, tree.dir, guardMs);
			if (run.over) {
				onChunk?.({label, pairs: chunk.length, source: chunk[0].source, ms: run.ms, largest: run.largest, over: run.over});
				if (chunk.length > 1) {
					// The pair over the limit is in one half or the other.
					const half = Math.ceil(chunk.length / 2);
					rmSync(tree.dir, {recursive: true, force: true});
					await runChunk(chunk.slice(0, half), `${label}a`);
					await runChunk(chunk.slice(half), `${label}b`);
					return;
				}

				const reason = run.over === 'time' ? `run killed after ${(run.ms / 1000).toFixed(1)} s` : `a process of the run (${run.largest.command}) at ${run.largest.mb} MB`;
				const result = {status: `over ${run.over}`, reason, ms: Math.round(run.ms), peakMb: run.largest.mb, verdict: null, chunk: label};
				const [pair] = chunk;
				onRecord({id: pair.id, source: pair.source, aPath: pair.aPath, bPath: pair.bPath, paths: Object.fromEntries(paths.map(name => [name, result])), batch: {chunk: label, pairs: 1}});
				return;
			}

			let merge = null;
			if (paths.includes('blob')) {
				const mergeArgs = [
					'merge-reports',
					files.blob,
					'--reporter',
					`json=${files.merged}`,
					'--reporter',
					`html=${files.mergedHtml}`,
					'--reporter',
					`junit=${files.mergedJunit}`,
					'--reporter',
					`markdown=${files.mergedMarkdown}`,
					'--out-dir',
					path.join(out, 'merged'),
					'-q',
				];
				merge = await limited(mergeArgs, tree.dir, guardMs);
			}

			const summary = {
				label,
				pairs: chunk.length,
				source: chunk[0].source,
				ms: run.ms,
				mergeMs: merge?.ms ?? null,
				largest: run.largest,
				code: run.code,
				over: merge?.over ? `merge over ${merge.over}` : null,
			};
			onChunk?.(summary);
			for (const record of judgeChunk({chunk, paths, files, run, merge, timeoutMs, label})) {
				onRecord(record);
			}
		} finally {
			rmSync(tree.dir, {recursive: true, force: true});
		}
	};

	for (const [index, chunk] of chunksOf(pairs, chunkSize).entries()) {
		await runChunk(chunk, String(index + 1));
	}
}

/** Reads a report, or the reason it cannot be read. */
function attempt(read) {
	try {
		return {value: read(), reason: null};
	} catch (error) {
		return {value: null, reason: error.message};
	}
}

/** Each pair's results in the chunk's reports: a record per pair. */
export function judgeChunk({chunk, paths, files, run, merge, timeoutMs, label}) {
	const count = chunk.length;
	const said = run.stderr.trim().split('\n').at(-1);
	const json = attempt(() => JSON.parse(readText(files.json)));
	const report = json.value;
	// What is wrong with the run as a whole fails every pair of it.
	let runReason = json.reason;
	if (!runReason && report.counts?.total !== count) {
		runReason = `${files.json}: ${report.counts?.total} pairs for ${count}`;
	} else if (!runReason && exitOf(report.counts) !== run.code) {
		runReason = `exit ${run.code} for counts ${JSON.stringify(report.counts)}${said ? ` (stderr: ${said})` : ''}`;
	}

	const byName = new Map((report?.pairs ?? []).map(pair => [pair.path, pair]));
	const junit = paths.includes('reports') ? attempt(() => junitCases(files.junit, count)) : null;
	const markdown = paths.includes('reports') ? attempt(() => readText(files.markdown)) : null;
	const html = paths.includes('pictures') ? attempt(() => readText(files.html)) : null;
	const reportsReason = junit && (junit.reason ?? junit.value.reason ?? markdown.reason ?? markdownCountsReason(files.markdown, markdown.value, count));

	let blobReason = null;
	let merged = null;
	if (paths.includes('blob')) {
		const m = attempt(() => JSON.parse(readText(files.merged)));
		merged = {
			report: m.value,
			byName: new Map((m.value?.pairs ?? []).map(pair => [pair.path, pair])),
			junit: attempt(() => junitCases(files.mergedJunit, count)),
			markdown: attempt(() => readText(files.mergedMarkdown)),
			html: attempt(() => readText(files.mergedHtml)),
		};
		blobReason = merge.over
			? `merge-reports over ${merge.over}`
			: (m.reason ??
				(JSON.stringify(m.value.counts) === JSON.stringify(report?.counts) ? null : `merged counts ${JSON.stringify(m.value.counts)}, run ${JSON.stringify(report?.counts)}`) ??
				(merge.code === run.code ? null : `merge-reports exit ${merge.code}, run ${run.code}`) ??
				merged.junit.reason ??
				merged.junit.value.reason ??
				merged.markdown.reason ??
				markdownCountsReason(files.mergedMarkdown, merged.markdown.value, count) ??
				merged.html.reason);
	}

	const records = [];
	for (const pair of chunk) {
		const name = `${pair.id}/${pair.bPath}`;
		const mine = byName.get(name);
		const peakMb = run.largest.mb;
		const ms = mine?.ms ?? 0;
		// The comparison's own time as its worker measured it; the rest of the pair's time is
		// its pictures (and the messages to and from the worker).
		const timings = mine?.result?.timings;
		const compareMs = timings ? timings.readMs + timings.structureMs + timings.xorMs + timings.writeMs : ms;
		const picturesMs = timings ? Math.max(0, ms - compareMs) : null;
		const base = {ms, queueMs: mine?.queueMs ?? null, peakMb, verdict: mine?.status ?? null, chunk: label};
		const result = (reason, extra = {}) => {
			const own = {...base, ...extra};
			if (reason) {
				return {...own, status: 'failed', reason};
			}

			const overTime = mine && (mine.error?.code === 'TIMEOUT' || own.ms > timeoutMs);
			return overTime ? {...own, status: 'over time', reason: mine.error?.message ?? `${(own.ms / 1000).toFixed(1)} s`} : {...own, status: 'ok', reason: null};
		};

		const missing = mine ? null : `${files.json}: no pair ${name}`;
		const record = {id: pair.id, source: pair.source, aPath: pair.aPath, bPath: pair.bPath, paths: {}, batch: {chunk: label, pairs: count}};
		const status = mine?.status;
		if (paths.includes('reports')) {
			record.paths.reports = result(
				runReason ?? missing ?? reportsReason ?? caseReason(junit.value.cases, files.junit, name, status) ?? markdownListsReason(files.markdown, markdown.value, name, status) ?? artifactsReason(mine),
				{ms: compareMs},
			);
		}

		const skipped = picturesSkipped(mine);
		if (paths.includes('pictures')) {
			const drawn = skipped ? null : picturesOver(mine);
			const reason = runReason ?? missing ?? html.reason ?? htmlNamesReason(files.html, html.value, name) ?? (skipped || drawn?.overTime ? null : picturesReason(mine));
			record.paths.pictures = drawn?.overTime && !reason ? {...base, picturesMs, status: 'over time', reason: drawn.overTime} : result(reason, {picturesMs, picturesSkipped: skipped});
		}

		if (paths.includes('blob')) {
			const theirs = merged.byName.get(name);
			const reason =
				runReason ??
				missing ??
				blobReason ??
				(theirs?.status === status ? null : `merged status ${theirs?.status}, run ${status}`) ??
				caseReason(merged.junit.value.cases, files.mergedJunit, name, status) ??
				markdownListsReason(files.mergedMarkdown, merged.markdown.value, name, status) ??
				htmlNamesReason(files.mergedHtml, merged.html.value, name) ??
				(picturesSkipped(theirs) || picturesOver(theirs)?.overTime ? null : picturesReason(theirs));
			// merge-reports' time shared out over the chunk's pairs.
			const blobMs = ms + Math.round((merge?.ms ?? 0) / count);
			const drawn = picturesSkipped(theirs) ? null : picturesOver(theirs);
			record.paths.blob = drawn?.overTime && !reason ? {...base, ms: blobMs, status: 'over time', reason: drawn.overTime} : result(reason, {ms: blobMs, picturesSkipped: picturesSkipped(theirs)});
		}

		records.push(record);
	}

	return records;
}

/**
 * Pictures of this pair stopped by lyipc's --timeout (a build without a picture budget):
 * {overTime: reason} or null. A pair whose pictures were lost with a worker stopped for another
 * pair is not over time: that is a failure.
 */
function picturesOver(pair) {
	const error = pair?.pictures?.error;
	return error && /^no pictures: \S+ took longer than/.test(error) ? {overTime: error} : null;
}
