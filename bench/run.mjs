#!/usr/bin/env node
// lyipc-diff against KLayout's own strmxor on large layouts, in one run.
// Usage: npm run build && npm run bench [-- --runs N] [-- --only hier|flat|identical]   (bench/README.md)
import {execFileSync, spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {availableParallelism, tmpdir} from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {findStrmxor, strmxorEnv} from '../test/helpers/strmxor.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DATA = path.join(ROOT, 'bench', '.data');
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'lyipc-diff.js');
const TIME = '/usr/bin/time';
// Ratios are taken against the fastest of these strmxor modes.
const BASELINE_MODES = new Set(['strmxor (flat)', 'strmxor -n 2', 'strmxor -u']);
const LOCAL_SPEEDUP = 10; // a local change, warm worker: at least 10x faster than the baseline
const FALLBACK_RATIO = 1.1; // a change the windows cannot narrow down: at most 1.1x slower

const {values} = parseArgs({options: {runs: {type: 'string', default: '3'}, only: {type: 'string'}}});
const runs = Number(values.runs);

function fail(message) {
	console.error(`bench: ${message}`);
	process.exit(2);
}

if (!existsSync(CLI)) {
	fail('dist/ is missing: run npm run build first');
}

if (!existsSync(TIME)) {
	fail(`${TIME} (GNU time, for peak memory) is missing: sudo apt-get install time`);
}

const klayout = process.env.KLAYOUT ?? 'klayout';
const strmxor = findStrmxor(klayout);
if (!strmxor) {
	fail('strmxor not found next to KLayout; set STRMXOR=/path/to/strmxor');
}

// Generates what is missing (a few minutes the first time) and refreshes the byte copy.
execFileSync(klayout, ['-b', '-r', path.join(ROOT, 'bench', 'generate.py')], {stdio: ['ignore', 'ignore', 'inherit']});

/** One timed process: wall seconds, peak RSS in MB (largest process of the tree), exit code. */
function timed(command, args, env) {
	const result = spawnSync(TIME, ['-f', 'LYIPC_BENCH %e %M', command, ...args], {env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024});
	const line = result.stderr
		.split('\n')
		.reverse()
		.find(text => text.startsWith('LYIPC_BENCH '));
	if (!line) {
		fail(`no timing from ${command} ${args.join(' ')}:\n${result.stderr}`);
	}

	const [, wall, kb] = line.split(' ');
	return {wall: Number(wall), peakMb: Number(kb) / 1024, exit: result.status};
}

function median(numbers) {
	const sorted = [...numbers].sort((x, y) => x - y);
	return sorted[Math.floor(sorted.length / 2)];
}

function measureProcess(command, args, env) {
	const samples = Array.from({length: runs}, () => timed(command, args, env));
	return {wall: median(samples.map(s => s.wall)), peakMb: median(samples.map(s => s.peakMb)), exit: samples[0].exit};
}

const out = mkdtempSync(path.join(tmpdir(), 'lyipc-bench-'));
// NODE_EXTRA_CA_CERTS makes Node parse a CA bundle at every start (~40 ms here); lyipc-diff
// opens no TLS connection, so it is measured without it, as on a developer's machine.
const nodeEnv = {...process.env};
const extraCaCerts = nodeEnv.NODE_EXTRA_CA_CERTS !== undefined;
delete nodeEnv.NODE_EXTRA_CA_CERTS;
// Fresh means KLayout's start-up included: no warm worker between the timed calls.
const fresh = (a, b) => measureProcess(process.execPath, [CLI, '--quiet', '--no-warm-worker', '--out-dir', out, a, b], nodeEnv);
const strm =
	(...options) =>
	(a, b) =>
		measureProcess(strmxor, ['-s', ...options, a, b], strmxorEnv(strmxor));

const {KLayoutWorker, compareLayouts} = await import('../dist/src/index.js');
const worker = await KLayoutWorker.start();

/** Time per comparison in a running worker: one untimed run first, then the median of `runs`. */
async function warm(a, b) {
	const once = async () => {
		const started = performance.now();
		const result = await compareLayouts(a, b, {worker, outDir: out});
		return {wall: (performance.now() - started) / 1000, result};
	};

	const {result} = await once();
	const samples = [];
	for (let i = 0; i < runs; i++) {
		samples.push((await once()).wall);
	}

	const paths = [...new Set(result.layers.map(layer => (layer.fallback ? `${layer.mode} (${layer.fallback})` : layer.mode)))];
	return {wall: median(samples), peakMb: null, exit: result.identical ? 0 : 1, paths};
}

const engines = [
	['lyipc, warm worker', warm],
	['lyipc-diff (fresh process)', fresh],
	['strmxor (flat)', strm()],
	['strmxor -n 2', strm('-n', '2')],
	['strmxor -u', strm('-u')],
	['strmxor -p 500 -n 2 -m', strm('-p', '500', '-n', '2', '-m')],
];
const cheapEngines = engines.filter(([name]) => name !== 'strmxor (flat)' && name !== 'strmxor -p 500 -n 2 -m');
// [group, label, A, B, kind, engines]. kind: the goal that applies (see bench/README.md).
const cases = [
	['hier', 'hierarchical: B = A + 1 box', 'hier_a.gds', 'hier_b.gds', 'local', engines],
	['hier', 'hierarchical: 1 box changed in a cell placed 90,000 times', 'hier_a.gds', 'hier_cell.gds', 'fallback', engines],
	['hier', 'hierarchical: everything moved 1 nm', 'hier_a.gds', 'hier_shift.gds', 'fallback', engines],
	['hier', 'hierarchical: A rewritten as OASIS', 'hier_a.gds', 'hier_a.oas', 'unchanged', engines],
	['flat', 'flat: B = A + 1 box', 'flat_a.gds', 'flat_b.gds', 'local', engines],
	['flat', 'flat: A rewritten as OASIS', 'flat_a.gds', 'flat_a.oas', 'unchanged', engines],
	['identical', 'identical files (byte copy)', 'hier_a.gds', 'hier_a_copy.gds', 'identical', cheapEngines],
].filter(([group]) => !values.only || values.only === group);

const klayoutVersion = execFileSync(klayout, ['-v']).toString().trim();
console.log(`lyipc vs strmxor — ${new Date().toISOString().slice(0, 10)}, ${klayoutVersion}, Node ${process.version}, ${availableParallelism()} CPUs, median of ${runs} run(s)`);
console.log(extraCaCerts ? "NODE_EXTRA_CA_CERTS is set here; lyipc-diff runs without it (it only slows Node's start-up)\n" : '');
console.log('| case | engine | exit | wall s | peak MB | wall ratio | what ran (lyipc, per layer) |');
console.log('|---|---|---|---|---|---|---|');
const verdicts = [];
for (const [, label, a, b, kind, list] of cases) {
	const rows = [];
	for (const [name, measure] of list) {
		rows.push({name, ...(await measure(path.join(DATA, a), path.join(DATA, b)))});
	}

	const baseline = rows.filter(row => BASELINE_MODES.has(row.name)).sort((x, y) => x.wall - y.wall)[0];
	for (const row of rows) {
		const memory = row.peakMb === null ? '-' : row.peakMb.toFixed(0);
		const ratio = `${(row.wall / baseline.wall).toFixed(3)}x`;
		console.log(`| ${label} | ${row.name}${row === baseline ? ' (fastest)' : ''} | ${row.exit} | ${row.wall.toFixed(2)} | ${memory} | ${ratio} | ${row.paths?.join(', ') ?? ''} |`);
	}

	const warmRow = rows.find(row => row.name === 'lyipc, warm worker');
	const freshRow = rows.find(row => row.name === 'lyipc-diff (fresh process)');
	const expectedExit = kind === 'unchanged' || kind === 'identical' ? 0 : 1;
	const exitsRight = warmRow.exit === expectedExit && freshRow.exit === expectedExit && baseline.exit === expectedExit;
	const speedup = baseline.wall / warmRow.wall;
	let goal;
	let met;
	switch (kind) {
		case 'local': {
			goal = `warm worker >= ${LOCAL_SPEEDUP}x faster than the fastest strmxor`;
			met = speedup >= LOCAL_SPEEDUP;
			break;
		}

		case 'fallback': {
			goal = `warm worker and fresh process <= ${FALLBACK_RATIO}x the fastest strmxor`;
			met = warmRow.wall <= FALLBACK_RATIO * baseline.wall && freshRow.wall <= FALLBACK_RATIO * baseline.wall;
			break;
		}

		case 'unchanged': {
			goal = 'faster than the fastest strmxor (no goal set; reported)';
			met = warmRow.wall < baseline.wall;
			break;
		}

		default: {
			goal = 'fresh process < 0.1 s';
			met = freshRow.wall < 0.1;
		}
	}

	verdicts.push({label, goal, met: met && exitsRight, speedup, exitsRight});
}

await worker.close();
rmSync(out, {recursive: true, force: true});
console.log('\n| case | goal | warm worker vs fastest strmxor | met |');
console.log('|---|---|---|---|');
for (const {label, goal, met, speedup, exitsRight} of verdicts) {
	console.log(`| ${label} | ${goal} | ${speedup.toFixed(1)}x faster | ${met ? 'yes' : 'NO'}${exitsRight ? '' : ' (wrong exit code)'} |`);
}

process.exitCode = verdicts.every(verdict => verdict.met) ? 0 : 1;
