#!/usr/bin/env node
// lyipc-diff against KLayout's own strmxor on large layouts, in one run.
// Usage: npm run build && npm run bench [-- --runs N]      (details: bench/README.md)
import {execFileSync, spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, realpathSync, rmSync} from 'node:fs';
import {availableParallelism, tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DATA = path.join(ROOT, 'bench', '.data');
const CLI = path.join(ROOT, 'dist', 'cli', 'lyipc-diff.js');
const TIME = '/usr/bin/time';
// Ratios are taken against the fastest of these strmxor modes (the goal in bench/README.md).
const GOAL_MODES = new Set(['strmxor (flat)', 'strmxor -n 2', 'strmxor -u']);
const GOAL_RATIO = 1.1;

const {values} = parseArgs({options: {runs: {type: 'string', default: '3'}}});
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
const strmxor = process.env.STRMXOR ?? [
	path.join(path.dirname(realpathSync(execFileSync('which', [klayout]).toString().trim())), 'strmxor'),
	'/usr/lib/klayout/strmxor',
].find(candidate => existsSync(candidate));
if (!strmxor) {
	fail('strmxor not found next to KLayout; set STRMXOR=/path/to/strmxor');
}

// Debian's buddy tools need KLayout's private libraries.
const strmxorEnv = {...process.env, LD_LIBRARY_PATH: [path.dirname(strmxor), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':')};

// Generates what is missing (about a minute the first time) and refreshes the byte copy.
execFileSync(klayout, ['-b', '-r', path.join(ROOT, 'bench', 'generate.py')], {stdio: ['ignore', 'ignore', 'inherit']});

/** One timed run: wall seconds, peak RSS in MB (largest process of the tree), exit code. */
function timed(command, args, env) {
	const result = spawnSync(TIME, ['-f', 'LYIPC_BENCH %e %M', command, ...args], {env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024});
	const line = result.stderr.split('\n').reverse().find(text => text.startsWith('LYIPC_BENCH '));
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

function measure(command, args, env) {
	const samples = Array.from({length: runs}, () => timed(command, args, env));
	return {wall: median(samples.map(s => s.wall)), peakMb: median(samples.map(s => s.peakMb)), exit: samples[0].exit};
}

const out = mkdtempSync(path.join(tmpdir(), 'lyipc-bench-'));
// NODE_EXTRA_CA_CERTS makes Node parse a CA bundle at every start (~40 ms here); lyipc-diff
// opens no TLS connection, so it is measured without it, as on a developer's machine.
const nodeEnv = {...process.env};
const extraCaCerts = nodeEnv.NODE_EXTRA_CA_CERTS !== undefined;
delete nodeEnv.NODE_EXTRA_CA_CERTS;
const lyipc = (...options) => (a, b) => [process.execPath, [CLI, '--quiet', '--out-dir', out, ...options, a, b], nodeEnv];
const strm = (...options) => (a, b) => [strmxor, ['-s', ...options, a, b], strmxorEnv];
// The forced modes show the XOR engines alone, as when LayoutDiff proves nothing (a global change).
const engines = [
	['lyipc-diff (auto)', lyipc()],
	['lyipc-diff --mode deep', lyipc('--mode', 'deep')],
	['lyipc-diff --mode tiled', lyipc('--mode', 'tiled')],
	['strmxor (flat)', strm()],
	['strmxor -n 2', strm('-n', '2')],
	['strmxor -u', strm('-u')],
	['strmxor -p 500 -n 2 -m', strm('-p', '500', '-n', '2', '-m')],
];
// [label, A, B, engines, expected lyipc-diff exit code]
const pairs = [
	['hierarchical, B = A + 1 box', 'hier_a.gds', 'hier_b.gds', engines, 1],
	['flat, B = A + 1 box', 'flat_a.gds', 'flat_b.gds', engines, 1],
	['identical files (byte copy)', 'hier_a.gds', 'hier_a_copy.gds', engines.filter(([name]) => name === 'lyipc-diff (auto)' || name === 'strmxor -u'), 0],
];

const klayoutVersion = execFileSync(klayout, ['-v']).toString().trim();
console.log(`lyipc-diff vs strmxor — ${new Date().toISOString().slice(0, 10)}, ${klayoutVersion}, Node ${process.version}, ${availableParallelism()} CPUs, median of ${runs} run(s)`);
console.log(extraCaCerts ? 'NODE_EXTRA_CA_CERTS is set here; lyipc-diff runs without it (it only slows Node\'s start-up)\n' : '');
console.log('| pair | engine | exit | wall s | peak MB | wall ratio | memory ratio |');
console.log('|---|---|---|---|---|---|---|');
let goalMet = true;
for (const [label, a, b, list, expectedExit] of pairs) {
	const rows = list.map(([name, make]) => {
		const [command, args, env] = make(path.join(DATA, a), path.join(DATA, b));
		return {name, ...measure(command, args, env)};
	});
	const reference = rows.filter(row => GOAL_MODES.has(row.name)).sort((x, y) => x.wall - y.wall)[0];
	for (const row of rows) {
		const ratio = row.wall / reference.wall;
		console.log(`| ${label} | ${row.name}${row === reference ? ' (fastest)' : ''} | ${row.exit} | ${row.wall.toFixed(2)} | ${row.peakMb.toFixed(0)} | ${ratio.toFixed(2)}x | ${(row.peakMb / reference.peakMb).toFixed(2)}x |`);
	}

	const ours = rows.find(row => row.name === 'lyipc-diff (auto)');
	if (ours.exit !== expectedExit) {
		console.log(`\n**${label}: lyipc-diff exited ${ours.exit}, expected ${expectedExit}**`);
		goalMet = false;
	}

	if (expectedExit === 0) {
		goalMet &&= ours.wall < 0.1;
	} else {
		goalMet &&= ours.wall <= GOAL_RATIO * reference.wall;
	}
}

rmSync(out, {recursive: true, force: true});
console.log(`\nGoal (lyipc-diff <= ${GOAL_RATIO}x the fastest of strmxor flat / -n 2 / -u on each pair, identical files < 0.1 s): ${goalMet ? 'met' : 'NOT met'}`);
process.exitCode = goalMet ? 0 : 1;
