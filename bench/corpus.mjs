#!/usr/bin/env node
import {appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {homedir, tmpdir} from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {findStrmxor, strmxorEnv} from '../test/helpers/strmxor.mjs';
import {BATCH_PATHS, hasPictureBudget, runBatch} from './corpus/batch.mjs';
import {killRunning} from './corpus/limits.mjs';
import {makePairTree, removePairTree} from './corpus/pair-tree.mjs';
import {pathTally} from './corpus/path-table.mjs';
import {crossCheck, PAIR_PATHS, pathRunner} from './corpus/paths.mjs';
import {runViewerSample, shuffled} from './corpus/viewer-sample.mjs';
import {runChild} from './helpers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'lyipc-diff.js');
const AREA_EPSILON = 1e-6; // µm²: areas are exact multiples of dbu², printed to 1e-9
const AREA_RELATIVE = 1e-5; // rounding of all-angle intersections, which differs between any two engines
// Cost goals of the real-layouts issue: auto's total at most 1.1x flat's; no pair over 2x its
// fastest full engine + 0.1 s.
const TOTAL_RATIO = 1.1;
const PAIR_RATIO = 2;
const PAIR_SLACK_S = 0.1;
// ... and over a design history, fresh lyipc-diff processes at most 1.2x strmxor's total.
const FRESH_RATIO = 1.2;

const {values} = parseArgs({
	options: {
		cache: {type: 'string'},
		source: {type: 'string', multiple: true, default: []},
		pair: {type: 'string', multiple: true, default: []},
		limit: {type: 'string'},
		engines: {type: 'string', default: 'auto,flat,deep,strmxor'},
		paths: {type: 'string', default: 'xor'},
		timeout: {type: 'string', default: '120'},
		memory: {type: 'string', default: '2048'},
		'viewer-sample': {type: 'string', default: '20'},
		seed: {type: 'string', default: '1'},
		fresh: {type: 'boolean', default: false},
		details: {type: 'boolean', default: false},
		results: {type: 'string'},
		resume: {type: 'boolean', default: false},
		batch: {type: 'boolean', default: false},
		'chunk-size': {type: 'string', default: '500'},
		'git-sample': {type: 'string', default: 'all'},
		'picture-budget': {type: 'string', default: '30'},
	},
});
const cache = path.resolve(values.cache ?? process.env.LYIPC_CORPUS ?? path.join(homedir(), '.cache', 'lyipc', 'corpus'));
const timeoutMs = Number(values.timeout) * 1000;
const memoryMb = Number(values.memory);
const PATH_NAMES = ['xor', ...PAIR_PATHS, 'viewer'];
const paths = values.paths === 'all' ? PATH_NAMES : values.paths.split(',');
// The XOR agreement of lyipc's engines and strmxor: only with the xor path.
const engines = paths.includes('xor') ? values.engines.split(',') : [];
const pairPaths = PAIR_PATHS.filter(name => paths.includes(name));
// --batch: reports, pictures and blob in one directory run per chunk of pairs (bench/corpus/batch.mjs), git on a sample.
const batchPaths = values.batch ? BATCH_PATHS.filter(name => paths.includes(name)) : [];

function fail(message) {
	console.error(`bench:corpus: ${message}`);
	process.exit(2);
}

for (const name of paths.filter(name => !PATH_NAMES.includes(name))) {
	fail(`unknown path ${name} in --paths: ${PATH_NAMES.join(', ')} or all`);
}

for (const [option, value] of [
	['--timeout', timeoutMs],
	['--memory', memoryMb],
	['--viewer-sample', Number(values['viewer-sample'])],
	['--chunk-size', Number(values['chunk-size'])],
	['--git-sample', values['git-sample'] === 'all' ? 1 : Number(values['git-sample'])],
	['--picture-budget', Number(values['picture-budget'])],
]) {
	if (!(value > 0)) {
		fail(`${option} must be a positive number`);
	}
}

if (values.batch && engines.length > 0) {
	fail('--batch runs the report paths: give --paths without xor (e.g. --paths all minus xor: reports,pictures,blob,git,viewer)');
}

if (values.batch && values.resume) {
	fail('--resume is per pair: run --batch by --source instead');
}

if (!existsSync(path.join(ROOT, 'dist', 'src', 'index.js'))) {
	fail('dist/ is missing: run npm run build first');
}

if (!existsSync(path.join(cache, 'manifest.json'))) {
	fail(`no corpus in ${cache}: build it with node bench/corpus/build.mjs (bench/README.md)`);
}

const {compareLayouts, WorkerPool} = await import(path.join(ROOT, 'dist', 'src', 'index.js'));
const strmxor = findStrmxor();
if (engines.includes('strmxor') && !strmxor) {
	fail('strmxor not found next to KLayout; set STRMXOR=/path/to/strmxor');
}

const manifest = JSON.parse(readFileSync(path.join(cache, 'manifest.json'), 'utf8'));
let pairs = manifest.pairs.filter(pair => (values.source.length === 0 || values.source.includes(pair.source)) && (values.pair.length === 0 || values.pair.includes(pair.id)));
if (values.limit) {
	pairs = pairs.slice(0, Number(values.limit));
}

/** A child process with the pair's time limit: {ms, code, stdout, stderr, hung}. */
function run(command, args, env) {
	return runChild(command, args, {env, timeoutMs});
}

/** strmxor's answer per layer: {ok, ms, layers: {key: 'different'}} (layers it does not list are the same). */
async function runStrmxor(a, b, extra = []) {
	const result = await run(strmxor, [...extra, a, b], strmxorEnv(strmxor));
	const answer = {engine: 'strmxor', ms: result.ms, ok: false, layers: {}, error: null};
	if (result.hung) {
		return {...answer, error: 'timeout'};
	}

	const text = result.stdout + result.stderr;
	if (/No differences found/.test(text)) {
		return {...answer, ok: true};
	}

	if (!/Result summary/.test(text)) {
		return {...answer, error: text.trim().split('\n').at(-1) ?? `exit ${result.code}`};
	}

	for (const line of text.split('\n')) {
		const match = /^ {2}(\S.*?) +(\S+) +(\d+|\(no such layer in (?:first|second) layout\))\s*$/.exec(line);
		if (!match || match[1] === 'Layer') {
			continue;
		}

		const numbers = /(\d+)\/(\d+)\)?$/.exec(match[1]);
		answer.layers[numbers ? `${numbers[1]}/${numbers[2]}` : match[1]] = match[3].startsWith('(') ? 'missing' : Number(match[3]);
	}

	return {...answer, ok: true};
}

// The warm worker of this run's lyipc-diff processes, in a folder of its own; it stops by itself when idle.
// Without NODE_EXTRA_CA_CERTS, which adds ~40 ms to every Node start on some machines (lyipc opens no TLS connection).
const {NODE_EXTRA_CA_CERTS: _certs, ...baseEnv} = process.env;
// Only with --fresh: a run without it leaves no folder behind.
const freshEnv = values.fresh ? {...baseEnv, LYIPC_WARM_WORKER: '1', LYIPC_WARM_WORKER_DIR: mkdtempSync(path.join(tmpdir(), 'lyipc-corpus-warm-')), LYIPC_WARM_WORKER_IDLE: '60'} : null;

async function freshLyipcDiff(a, b, extra) {
	const outDir = mkdtempSync(path.join(tmpdir(), 'lyipc-corpus-'));
	const fresh = await run(process.execPath, [CLI, a, b, '--no-view', '--json', '--timeout', String(timeoutMs / 1000), '--out-dir', outDir, ...extra], freshEnv);
	rmSync(outDir, {recursive: true, force: true});
	return {ms: fresh.ms, code: fresh.code};
}

async function runLyipc(pool, mode, a, b) {
	const workersBefore = pool.started;
	const answer = await runLyipcOnce(pool, mode, a, b);
	// A worker lost on an earlier pair is replaced by this one: time it again without the start-up.
	return pool.started > workersBefore ? runLyipcOnce(pool, mode, a, b) : answer;
}

async function runLyipcOnce(pool, mode, a, b) {
	const outDir = mkdtempSync(path.join(tmpdir(), 'lyipc-corpus-'));
	const started = performance.now();
	try {
		const result = await compareLayouts(a, b, {mode, pool, outDir, timeout: timeoutMs, threads: 1});
		const layers = {};
		for (const layer of result.layers) {
			layers[layer.key] = {status: layer.status, count: layer.xorCount, zero: layer.zeroAreaCount, area: layer.xorArea, mode: layer.mode, fallback: layer.fallback};
		}

		return {engine: mode, ms: performance.now() - started, ok: true, layers, error: null};
	} catch (error) {
		return {engine: mode, ms: performance.now() - started, ok: false, layers: {}, error: `${error.code ?? 'ERROR'}: ${error.message}`};
	} finally {
		rmSync(outDir, {recursive: true, force: true});
	}
}

/** Whether lyipc and a strmxor answer disagree on a layer with geometry. */
function disagrees(mine, theirs) {
	return Object.keys(mine.layers).some(key => differs(mine.layers[key]) !== (theirs.layers[key] !== undefined));
}

function differs(layer) {
	return layer !== undefined && layer.status !== 'same';
}

const pool = engines.length > 0 ? new WorkerPool({size: 1}) : null;
// KLayout's start-up is paid once, before anything is timed.
if (pool) {
	await runLyipc(pool, 'auto', path.join(ROOT, 'fixtures', 'base.gds'), path.join(ROOT, 'fixtures', 'one_shape.gds'));
}

// The report paths run in a folder of this run, each pair in a tree of its own (bench/corpus/paths.mjs).
const workDir = pairPaths.length > 0 || paths.includes('viewer') ? mkdtempSync(path.join(tmpdir(), 'lyipc-corpus-paths-')) : null;
const runner = workDir ? pathRunner({workDir, timeoutMs, memoryMb, env: baseEnv}) : null;
const viewers = new Set();
process.once('SIGINT', () => {
	// The paths' processes run in groups of their own, out of Ctrl+C's reach.
	killRunning();
	runner?.stop();
	for (const stop of viewers) {
		stop();
	}

	if (workDir) {
		rmSync(workDir, {recursive: true, force: true});
	}

	process.exit(130);
});
// The warm worker's start-up too (batch runs start workers of their own).
if (!values.batch || paths.includes('viewer')) {
	await runner?.warmUp();
}

const pathResults = pathTally();
/** Each pair's status as the paths saw it, for the viewer's sample: id -> identical, different or error. */
const verdicts = new Map();
const resultsFile = path.resolve(values.results ?? path.join(cache, 'results.jsonl'));
const sources = new Map();
const problems = [];
const done = new Set();
if (values.resume && existsSync(resultsFile)) {
	const wanted = new Set(pairs.map(pair => pair.id));
	for (const line of readFileSync(resultsFile, 'utf8').split('\n')) {
		// The last line of a killed run may be cut short; that pair runs again.
		const record = parseRecord(line);
		if (record && wanted.has(record.id) && !done.has(record.id) && complete(record)) {
			done.add(record.id);
			if (engines.length > 0) {
				tally(record);
			}

			note(record);
		}
	}

	writeFileSync(
		resultsFile,
		readFileSync(resultsFile, 'utf8')
			.split('\n')
			// The viewer's sample is drawn anew.
			.filter(line => parseRecord(line) && !parseRecord(line).viewer)
			.map(line => line + '\n')
			.join(''),
	);
} else {
	writeFileSync(resultsFile, '');
}

function parseRecord(line) {
	try {
		return line ? JSON.parse(line) : null;
	} catch {
		return null;
	}
}

/** Whether a record of an earlier run holds every engine and every path asked for now. */
function complete(record) {
	return !record.viewer && !record.git && engines.every(engine => record.answers?.[engine]) && pairPaths.every(name => record.paths?.[name]);
}

/** A pair's record into the paths' table, and its status as the paths (or auto mode) saw it. */
function note(record) {
	pathResults.add(record);
	const answered = Object.values(record.paths ?? {}).find(result => result.status === 'ok' && result.verdict);
	const auto = record.answers?.auto;
	const verdict = answered?.verdict ?? (auto && (!auto.ok ? 'error' : Object.values(auto.layers).some(layer => layer.status !== 'same') ? 'different' : 'identical'));
	if (verdict) {
		verdicts.set(record.id, verdict);
	}
}

/** Every report path asked for, on one pair in a tree of its own. */
async function runPairPaths(pair) {
	const tree = makePairTree(cache, pair, workDir);
	try {
		const results = {};
		for (const name of pairPaths) {
			results[name] = await runner.run(name, tree, pair);
		}

		return crossCheck(results);
	} finally {
		removePairTree(tree);
	}
}

const started = performance.now();
const tty = process.stderr.isTTY;
const chunkLines = [];
if (values.batch) {
	let count = 0;
	const sourceMs = new Map();
	await runBatch({
		pairs,
		paths: batchPaths,
		cache,
		workDir,
		timeoutMs,
		memoryMb,
		pictureBudget: Number(values['picture-budget']),
		chunkSize: Number(values['chunk-size']),
		env: baseEnv,
		onRecord(record) {
			appendFileSync(resultsFile, JSON.stringify(record) + '\n');
			note(record);
			count++;
		},
		onChunk(chunk) {
			sourceMs.set(chunk.source, (sourceMs.get(chunk.source) ?? 0) + chunk.ms + (chunk.mergeMs ?? 0));
			const merge = chunk.mergeMs === null || chunk.mergeMs === undefined ? '' : `, merge-reports ${(chunk.mergeMs / 1000).toFixed(1)} s`;
			const line = `chunk ${chunk.label} (${chunk.source}, ${chunk.pairs} pairs): run ${(chunk.ms / 1000).toFixed(1)} s${merge}, largest process ${chunk.largest.mb} MB (${chunk.largest.command})${chunk.over ? `, OVER ${chunk.over}` : ''}`;
			chunkLines.push(line);
			// A chunk takes minutes: its line as it ends, for a run followed in a log.
			console.error(line);
			if (tty) {
				process.stderr.write(`\r${count}/${pairs.length} pairs, ${((performance.now() - started) / 1000).toFixed(0)} s `);
			}
		},
	});
	for (const [source, ms] of sourceMs) {
		chunkLines.push(`${source}: directory runs and merges ${(ms / 1000).toFixed(1)} s`);
	}

	if (paths.includes('git')) {
		// git starts the driver once per file: one pair at a time, every pair unless --git-sample N
		// asks for a seeded sample.
		const gitPairs = values['git-sample'] === 'all' ? pairs : shuffled(pairs, Number(values.seed)).slice(0, Number(values['git-sample']));
		for (const pair of gitPairs) {
			const tree = makePairTree(cache, pair, workDir);
			try {
				const record = {id: pair.id, source: pair.source, aPath: pair.aPath, bPath: pair.bPath, git: await runner.run('git', tree, pair)};
				appendFileSync(resultsFile, JSON.stringify(record) + '\n');
				note(record);
			} finally {
				removePairTree(tree);
			}
		}
	}
}

for (const [index, pair] of (values.batch ? [] : pairs).entries()) {
	if (done.has(pair.id)) {
		continue;
	}

	const a = path.join(cache, pair.a);
	const b = path.join(cache, pair.b);
	const answers = {};
	for (const engine of engines) {
		answers[engine] = engine === 'strmxor' ? await runStrmxor(a, b) : await runLyipc(pool, engine, a, b);
	}

	const full = engines.filter(engine => engine !== 'auto' && engine !== 'strmxor');
	if (answers.auto?.ok && full.some(engine => answers[engine].ok) && overBound(answers.auto.ms, Math.min(...full.filter(engine => answers[engine].ok).map(engine => answers[engine].ms)))) {
		// One slow run of a pair that takes milliseconds is a pause of the machine, not a cost:
		// time auto and the full engines once more and keep each one's better time.
		for (const engine of ['auto', ...full]) {
			const again = await runLyipc(pool, engine, a, b);
			if (again.ok && answers[engine].ok) {
				answers[engine].ms = Math.min(answers[engine].ms, again.ms);
				answers[engine].retimed = true;
			}
		}
	}

	if (values.fresh) {
		// As a user runs it: a new lyipc-diff process writing its artifacts, once as by default
		// (the warm worker: KLayout's start-up paid by the first pair of the run) and once
		// with a KLayout of its own (start-up paid every time).
		answers.freshLyipc = await freshLyipcDiff(a, b, []);
		answers.freshCold = await freshLyipcDiff(a, b, ['--no-warm-worker']);
		if (strmxor) {
			const theirs = answers.strmxor ?? (await runStrmxor(a, b));
			answers.freshStrmxor = {ms: theirs.ms, ok: theirs.ok};
		}
	}

	if (answers.strmxor?.ok && answers.auto?.ok && disagrees(answers.auto, answers.strmxor)) {
		// KLayout's other mode as a second opinion: strmxor's flat and deep modes do not always agree.
		answers.strmxorDeep = await runStrmxor(a, b, ['-u']);
	}

	const record = {id: pair.id, source: pair.source, aPath: pair.aPath, bPath: pair.bPath, ...(engines.length > 0 ? {answers} : {})};
	if (pairPaths.length > 0) {
		record.paths = await runPairPaths(pair);
	}

	appendFileSync(resultsFile, JSON.stringify(record) + '\n');
	if (engines.length > 0) {
		tally(record);
	}

	note(record);
	if (tty) {
		process.stderr.write(`\r${index + 1}/${pairs.length} pairs, ${((performance.now() - started) / 1000).toFixed(0)} s `);
	}
}

if (tty) {
	process.stderr.write('\n');
}

await pool?.close();
if (paths.includes('viewer')) {
	// Pairs known to differ, or all when no path of this run said.
	const candidates = pairs.filter(pair => (verdicts.get(pair.id) ?? 'different') === 'different');
	await runViewerSample({
		candidates,
		count: Number(values['viewer-sample']),
		seed: Number(values.seed),
		cache,
		workDir,
		runner,
		timeoutMs,
		memoryMb,
		viewers,
		onResult(pair, result) {
			const record = {id: pair.id, source: pair.source, aPath: pair.aPath, bPath: pair.bPath, viewer: result};
			appendFileSync(resultsFile, JSON.stringify(record) + '\n');
			note(record);
		},
	});
}

runner?.stop();
if (workDir) {
	rmSync(workDir, {recursive: true, force: true});
}

/** Whether auto's time is over the bound of the real-layouts issue: 2x the fastest full engine + 0.1 s. */
function overBound(autoMs, fastestMs) {
	return autoMs > PAIR_RATIO * fastestMs + PAIR_SLACK_S * 1000;
}

/** Every layer of a full engine other than flat against flat: verdict, area and count. */
function compareWithFlat(record, engine, s) {
	const mine = record.answers[engine];
	const flat = record.answers.flat;
	if (!mine?.ok || !flat?.ok) {
		return;
	}

	for (const key of new Set([...Object.keys(mine.layers), ...Object.keys(flat.layers)])) {
		const a = mine.layers[key];
		const b = flat.layers[key];
		const close = a && b && Math.abs(a.area - b.area) <= Math.max(AREA_EPSILON, AREA_RELATIVE * Math.max(a.area, b.area));
		const same = differs(a) === differs(b) && close && a.count === b.count;
		s.engines[0] += same ? 1 : 0;
		s.engines[1]++;
		if (!same) {
			problems.push(`${record.id} (${record.bPath}) layer ${key}: ${engine} ${a?.status ?? 'absent'} ${a?.count} ${a?.area}, flat ${b?.status ?? 'absent'} ${b?.count} ${b?.area}`);
		}
	}
}

/** Adds one pair to its source's counts. */
function tally(record) {
	const {answers} = record;
	const s = sources.get(record.source) ?? {
		pairs: 0,
		layers: 0,
		agree: {flat: [0, 0], strmxor: [0, 0], flatStrmxor: [0, 0], area: [0, 0], count: [0, 0]},
		ms: Object.fromEntries(engines.map(engine => [engine, 0])),
		failed: Object.fromEntries(engines.map(engine => [engine, 0])),
		slow: 0,
		fresh: {pairs: 0, lyipc: 0, cold: 0, strmxor: 0, over: 0},
		textsOnly: 0,
		zeroAreaOnly: 0,
		strmxorModesDisagree: 0,
		areaClose: 0,
		engines: [0, 0],
	};
	sources.set(record.source, s);
	s.pairs++;
	for (const engine of engines) {
		s.ms[engine] += answers[engine].ms;
		if (!answers[engine].ok) {
			s.failed[engine]++;
		}
	}

	if (answers.freshLyipc && answers.freshStrmxor?.ok && answers.freshLyipc.code <= 1) {
		// Pair for pair: only where both answered.
		s.fresh.pairs++;
		s.fresh.lyipc += answers.freshLyipc.ms;
		s.fresh.cold += answers.freshCold?.ms ?? 0;
		s.fresh.strmxor += answers.freshStrmxor.ms;
		s.fresh.over += answers.freshLyipc.ms > FRESH_RATIO * answers.freshStrmxor.ms ? 1 : 0;
	}

	for (const engine of engines.filter(engine => engine !== 'auto' && engine !== 'flat' && engine !== 'strmxor')) {
		compareWithFlat(record, engine, s);
	}

	const auto = answers.auto;
	if (!auto?.ok) {
		if (auto && (answers.flat?.ok || answers.strmxor?.ok)) {
			problems.push(`${record.id} (${record.bPath}): auto failed where another engine answered: ${auto.error}`);
		}

		return;
	}

	const full = engines.filter(engine => engine !== 'auto' && engine !== 'strmxor' && answers[engine].ok);
	const fastest = Math.min(...full.map(engine => answers[engine].ms));
	if (full.length > 0 && overBound(auto.ms, fastest)) {
		s.slow++;
		problems.push(`${record.id} (${record.bPath}): auto ${(auto.ms / 1000).toFixed(2)} s, fastest full engine ${(fastest / 1000).toFixed(2)} s`);
	}

	const keys = new Set([...Object.keys(auto.layers), ...Object.keys(answers.flat?.layers ?? {}), ...Object.keys(answers.strmxor?.layers ?? {})]);
	for (const key of keys) {
		const theirs = answers.strmxor?.ok ? answers.strmxor.layers[key] !== undefined : undefined;
		if (theirs && auto.layers[key] === undefined && answers.flat?.layers[key] === undefined) {
			// No geometry on either side (lyipc lists every layer that has some): a layer of
			// texts that one file has, which strmxor reports and lyipc ignores by design.
			s.textsOnly++;
			continue;
		}

		s.layers++;
		const mine = differs(auto.layers[key]);
		if (answers.flat?.ok) {
			const flat = answers.flat.layers[key];
			const same = mine === differs(flat);
			s.agree.flat[same ? 0 : 1]++;
			if (!same) {
				problems.push(`${record.id} (${record.bPath}) layer ${key}: auto ${auto.layers[key]?.status ?? 'absent'}, flat ${flat?.status ?? 'absent'}`);
			}

			if (auto.layers[key] && flat) {
				const delta = Math.abs(auto.layers[key].area - flat.area);
				const areaSame = delta <= AREA_EPSILON;
				// All-angle edges meet between grid points; two engines may round them apart.
				const areaClose = delta <= AREA_RELATIVE * Math.max(auto.layers[key].area, flat.area);
				s.agree.area[areaSame ? 0 : 1]++;
				s.areaClose += !areaSame && areaClose ? 1 : 0;
				if (!areaSame && !areaClose) {
					problems.push(`${record.id} (${record.bPath}) layer ${key}: area auto ${auto.layers[key].area} (${auto.layers[key].mode}), flat ${flat.area}`);
				}

				s.agree.count[auto.layers[key].count === flat.count ? 0 : 1]++;
			}
		}

		const zeroAreaOnly = auto.layers[key] && auto.layers[key].status === 'different' && auto.layers[key].area === 0 && auto.layers[key].zero === auto.layers[key].count;
		const deepSays = answers.strmxorDeep?.ok ? answers.strmxorDeep.layers[key] !== undefined : undefined;
		if (theirs === false && zeroAreaOnly) {
			// Only zero-area shapes differ (zero-width paths, edge-like outputs): strmxor's XOR
			// cannot see them on a layer both files have; lyipc compares them as lines.
			s.zeroAreaOnly++;
		} else if (theirs === true && !mine && deepSays === false) {
			// strmxor's flat mode reports a difference its deep mode does not see (it skips the
			// boolean for zero-area shapes and counts them raw, even identical ones).
			s.strmxorModesDisagree++;
		} else if (theirs !== undefined) {
			s.agree.strmxor[mine === theirs ? 0 : 1]++;
			if (mine !== theirs) {
				problems.push(`${record.id} (${record.bPath}) layer ${key}: auto ${auto.layers[key]?.status ?? 'absent'}, strmxor ${answers.strmxor.layers[key] ?? 'same'}`);
			}

			if (answers.flat?.ok) {
				s.agree.flatStrmxor[differs(answers.flat.layers[key]) === theirs ? 0 : 1]++;
			}
		}
	}
}

/** The XOR agreement table of the engines, and their disagreements. */
function printXorTables() {
	const seconds = ms => (ms / 1000).toFixed(1);
	console.log(`corpus: ${pairs.length} pairs from ${cache} (KLayout workers warm, one thread; strmxor as a process per pair)\n`);
	console.log(
		'| source | pairs | layers | texts-only layers (strmxor only) | zero-area-only differences (lyipc only) | strmxor flat != strmxor -u, lyipc = -u | auto = flat (verdict) | auto = flat (area: exact, within 1e-5) | auto = strmxor | flat = strmxor | same count auto/flat | ' +
			engines.map(engine => `${engine} s`).join(' | ') +
			' | auto / flat | pairs over 2x fastest + 0.1 s | deep, tiled = flat (verdict, area, count) |' +
			(values.fresh ? ' pairs both answered | fresh lyipc-diff s | fresh / strmxor | pairs over 1.2x | fresh --no-warm-worker s | --no-warm-worker / strmxor |' : ''),
	);
	console.log('|' + ' --- |'.repeat(14 + engines.length + (values.fresh ? 6 : 0)));
	for (const [name, s] of sources) {
		const ratio = s.ms.flat ? (s.ms.auto / s.ms.flat).toFixed(2) + 'x' : '-';
		const cells = [
			name,
			s.pairs,
			s.layers,
			s.textsOnly,
			s.zeroAreaOnly,
			s.strmxorModesDisagree,
			`${s.agree.flat[0]} / ${s.agree.flat[0] + s.agree.flat[1]}`,
			`${s.agree.area[0]}, ${s.areaClose} / ${s.agree.area[0] + s.agree.area[1]}`,
			`${s.agree.strmxor[0]} / ${s.agree.strmxor[0] + s.agree.strmxor[1]}`,
			`${s.agree.flatStrmxor[0]} / ${s.agree.flatStrmxor[0] + s.agree.flatStrmxor[1]}`,
			`${s.agree.count[0]} / ${s.agree.count[0] + s.agree.count[1]}`,
			...engines.map(engine => seconds(s.ms[engine]) + (s.failed[engine] ? ` (${s.failed[engine]} failed)` : '')),
			ratio + (s.ms.flat && s.ms.auto > TOTAL_RATIO * s.ms.flat ? ' OVER' : ''),
			s.slow,
			s.engines[1] ? `${s.engines[0]} / ${s.engines[1]}` : '-',
		];
		if (values.fresh) {
			const ratio = ms => (s.fresh.strmxor ? (ms / s.fresh.strmxor).toFixed(2) + 'x' : '-');
			cells.push(s.fresh.pairs, seconds(s.fresh.lyipc), ratio(s.fresh.lyipc), s.fresh.over, seconds(s.fresh.cold), ratio(s.fresh.cold));
		}

		console.log(`| ${cells.join(' | ')} |`);
	}

	console.log(`\n${problems.length} disagreements or slow pairs${values.details || problems.length <= 40 ? '' : ' (first 40; --details for all)'}; every pair: ${resultsFile}`);
	for (const line of values.details ? problems : problems.slice(0, 40)) {
		console.log(`  ${line}`);
	}
}

/** The report paths' table: each path per source, its slowest pair and its largest memory. */
function printPathTables() {
	const limits = values.batch
		? `--batch, chunks of ${values['chunk-size']} pairs: lyipc --timeout ${values.timeout} s per comparison, ${hasPictureBudget() ? `--picture-budget ${values['picture-budget']} s` : 'no --picture-budget in this build'}, ${memoryMb} MB for any one process of a run; git: ${values['git-sample'] === 'all' ? 'every pair' : `a sample of ${values['git-sample']} pairs`}`
		: `${values.timeout} s and ${memoryMb} MB per pair and path`;
	const sample = paths.includes('viewer') ? `; viewer: a sample of ${values['viewer-sample']} differing pairs, seed ${values.seed}` : '';
	console.log(`\nreport paths: ${[...pairPaths, ...(paths.includes('viewer') ? ['viewer'] : [])].join(', ')} (${limits}${sample})\n`);
	for (const line of pathResults.lines()) {
		console.log(line);
	}

	if (chunkLines.length > 0) {
		console.log('');
		for (const line of chunkLines) {
			console.log(line);
		}
	}

	const {problems: failures} = pathResults;
	console.log(`\n${failures.length} path results not ok${values.details || failures.length <= 40 ? '' : ' (first 40; --details for all)'}`);
	for (const line of values.details ? failures : failures.slice(0, 40)) {
		console.log(`  ${line}`);
	}
}

if (engines.length > 0) {
	printXorTables();
} else {
	console.log(`corpus: ${pairs.length} pairs from ${cache}; every pair: ${resultsFile}`);
}

if (pairPaths.length > 0 || paths.includes('viewer')) {
	printPathTables();
}

const disagreements = problems.some(line => !line.includes(' s, fastest full engine '));
process.exitCode = disagreements || pathResults.problems.length > 0 ? 1 : 0;
