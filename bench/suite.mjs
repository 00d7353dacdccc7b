#!/usr/bin/env node
// Directory mode on 200 small pairs against one KLayout process per pair and one strmxor per
// pair, in one run. Usage: npm run build && npm run bench:suite [-- --pairs N] [-- --slurm] [-- --remote HOST]
// (--slurm: also directory mode with its workers as Slurm tasks; srun must work here; --remote: also
// with the workers on an ssh host that has KLayout, `LYIPC_SSH` as for lyipc-diff) (bench/README.md)
import {execFileSync, spawn} from 'node:child_process';
import {existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {availableParallelism, tmpdir} from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import pLimit from 'p-limit';
import {findStrmxor, strmxorEnv} from '../test/helpers/strmxor.mjs';
import {buildRealTree} from './real-suite.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'lyipc-diff.js');
const GOAL_VS_KLAYOUT = 10; // at least 10x faster than one KLayout per pair
const GOAL_VS_STRMXOR = 1; // and faster than one strmxor per pair
const GOAL_REAL_VS_STRMXOR = 20; // real small pairs: at 20x the rate of one strmxor per pair

const {values} = parseArgs({
	options: {pairs: {type: 'string', default: '200'}, slurm: {type: 'boolean'}, remote: {type: 'string'}, real: {type: 'string'}, 'real-pairs': {type: 'string', default: '220'}},
});
const pairs = Number(values.pairs);
const jobs = availableParallelism();
const klayout = process.env.KLAYOUT ?? 'klayout';
const strmxor = findStrmxor(klayout);
function fail(message) {
	console.error(`bench: ${message}`);
	process.exit(2);
}

if (!existsSync(CLI)) {
	fail('dist/ is missing: run npm run build first');
}

if (!strmxor) {
	fail('strmxor not found next to KLayout; set STRMXOR=/path/to/strmxor');
}

const data = path.join(ROOT, 'bench', '.data', `suite-${pairs}`);
if (!existsSync(data)) {
	execFileSync(klayout, ['-b', '-r', path.join(ROOT, 'bench', 'generate_suite.py'), '-rd', `out=${data}`, '-rd', `pairs=${pairs}`], {stdio: 'inherit'});
}

const reference = path.join(data, 'ref');
const output = path.join(data, 'run');
const relatives = readdirSync(reference, {recursive: true})
	.map(String)
	.filter(name => name.endsWith('.gds'))
	.sort();

/** Runs a process; resolves with its exit code and stdout. */
function run(command, args, env = process.env) {
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, {env, stdio: ['ignore', 'pipe', 'ignore']});
		let stdout = '';
		child.stdout.on('data', chunk => {
			stdout += chunk;
		});
		child.on('error', reject);
		child.on('close', code => resolve({code, stdout}));
	});
}

/** Every pair through `check`, `jobs` at a time, as a CI script would; the set of differing paths. */
async function perPair(check, tree = {reference, output, relatives}) {
	const limit = pLimit(jobs);
	const differing = new Set();
	await Promise.all(
		tree.relatives.map(relative =>
			limit(async () => {
				if (await check(path.join(tree.reference, relative), path.join(tree.output, relative))) {
					differing.add(relative);
				}
			}),
		),
	);
	return differing;
}

async function timed(name, work) {
	const began = performance.now();
	const differing = await work();
	const seconds = (performance.now() - began) / 1000;
	console.error(`  ${name}: ${seconds.toFixed(1)} s`);
	return {name, seconds, differing};
}

const scratch = mkdtempSync(path.join(tmpdir(), 'lyipc-bench-suite-'));
console.error(`${relatives.length} pairs, ${jobs} at a time (${jobs} CPUs), KLayout ${execFileSync(klayout, ['-v']).toString().trim()}`);
const results = [];
// Directory mode here, and with --slurm / --remote where asked for.
for (const [wanted, extra] of [
	[true, []],
	[values.slurm, ['--slurm']],
	[values.remote, ['--remote', values.remote]],
]) {
	if (!wanted) {
		continue;
	}

	const name = ['lyipc-diff REF_DIR RUN_DIR', ...extra].join(' ');
	results.push(
		await timed(name, async () => {
			const {code, stdout} = await run(process.execPath, [CLI, reference, output, ...extra, '--json', '--workers', String(jobs), '--out-dir', path.join(scratch, extra[0]?.slice(2) ?? 'lyipc')]);
			if (code === 2) {
				fail(`${name} could not compare:\n${stdout}`);
			}

			return new Set(
				JSON.parse(stdout)
					.pairs.filter(pair => pair.status !== 'identical')
					.map(pair => pair.path),
			);
		}),
	);
}

results.push(
	await timed('strmxor per pair', async () =>
		perPair(async (a, b) => {
			const {code} = await run(strmxor, [a, b], strmxorEnv(strmxor));
			return code !== 0;
		}),
	),
);
results.push(
	await timed('klayout -b per pair', async () =>
		perPair(async (a, b) => {
			const {stdout} = await run(klayout, ['-b', '-r', path.join(ROOT, 'bench', 'xor_one.py'), '-rd', `a=${a}`, '-rd', `b=${b}`]);
			const match = /LAYERS_DIFFER (\d+)/.exec(stdout);
			if (!match) {
				fail(`the per-pair KLayout script printed nothing for ${a}`);
			}

			return Number(match[1]) > 0;
		}),
	),
);

const [lyipc] = results;
const strm = results.find(result => result.name === 'strmxor per pair');
const perKlayout = results.find(result => result.name === 'klayout -b per pair');
for (const other of results.slice(1)) {
	const same = other.differing.size === lyipc.differing.size && [...other.differing].every(relative => lyipc.differing.has(relative));
	if (!same) {
		fail(`${other.name} found other differing pairs than lyipc: ${[...other.differing].join(', ')} vs ${[...lyipc.differing].join(', ')}`);
	}
}

console.log(`\n| ${relatives.length} pairs (${lyipc.differing.size} differ) | wall | lyipc is faster by |`);
console.log('|---|---|---|');
for (const result of results) {
	console.log(`| ${result.name} | ${result.seconds.toFixed(1)} s | ${result === lyipc ? '' : `${(result.seconds / lyipc.seconds).toFixed(1)}x`} |`);
}

const vsKlayout = perKlayout.seconds / lyipc.seconds;
const vsStrmxor = strm.seconds / lyipc.seconds;
console.log(
	`\nGoals: >= ${GOAL_VS_KLAYOUT}x faster than one KLayout per pair: ${vsKlayout.toFixed(1)}x ${vsKlayout >= GOAL_VS_KLAYOUT ? 'met' : 'NOT met'}; faster than one strmxor per pair: ${vsStrmxor.toFixed(1)}x ${vsStrmxor > GOAL_VS_STRMXOR ? 'met' : 'NOT met'}. All three agree on the ${lyipc.differing.size} differing pairs.`,
);

if (values.real) {
	// Real small pairs: a component library's references, each against its next version.
	const tree = buildRealTree(values.real, Number(values['real-pairs']), path.join(ROOT, 'bench', '.data', 'real-suite'));
	console.error(`\n${tree.relatives.length} real pairs (gdsfactory references, version against next), ${jobs} at a time`);
	let unreadable = new Set();
	const lyipcRun = (extra, label) =>
		timed(label, async () => {
			const {code, stdout} = await run(process.execPath, [CLI, tree.reference, tree.output, '--json', '--out-dir', path.join(scratch, 'real'), ...extra]);
			const result = JSON.parse(stdout);
			if (code === 2 && result.counts.error === result.counts.total) {
				fail(`lyipc-diff could not compare the real pairs:\n${stdout.slice(0, 2000)}`);
			}

			unreadable = new Set(result.pairs.filter(pair => pair.status === 'error').map(pair => pair.path));
			return new Set(result.pairs.filter(pair => pair.status === 'different').map(pair => pair.path));
		});
	// Once untimed, so every way reads the files from the page cache (and the warm worker is up).
	const fresh = ['--no-warm-worker', '--workers', String(jobs)];
	await lyipcRun([], 'warm-up');
	const real = [
		await lyipcRun(fresh, 'lyipc-diff REF_DIR RUN_DIR (auto)'),
		await lyipcRun(['--mode', 'flat', ...fresh], 'lyipc-diff REF_DIR RUN_DIR --mode flat'),
		await lyipcRun([], 'lyipc-diff REF_DIR RUN_DIR (auto), repeated: warm KLayouts'),
	];
	const strmxorReal = await timed('strmxor per pair', async () =>
		perPair(
			async (a, b) => {
				const {code} = await run(strmxor, [a, b], strmxorEnv(strmxor));
				return code !== 0;
			},
			{...tree, relatives: tree.relatives.filter(relative => !unreadable.has(relative))},
		),
	);
	const floor = await bareLoop(tree, scratch);
	if (floor.differ !== real[0].differing.size) {
		fail(`the bare KLayout loop found ${floor.differ} differing pairs, lyipc ${real[0].differing.size}`);
	}

	console.log(`\n| ${tree.relatives.length} real small pairs (${unreadable.size} unreadable by this KLayout) | wall | per pair | strmxor per pair / this |`);
	console.log('|---|---|---|---|');
	for (const result of [...real, floor, strmxorReal]) {
		const ratio = strmxorReal.seconds / result.seconds;
		console.log(`| ${result.name} | ${result.seconds.toFixed(2)} s | ${((result.seconds * 1000) / tree.relatives.length).toFixed(1)} ms | ${result === strmxorReal ? '' : `${ratio.toFixed(1)}x`} |`);
	}

	const best = Math.max(...real.map(result => strmxorReal.seconds / result.seconds));
	console.log(`\nGoal: real small pairs at >= ${GOAL_REAL_VS_STRMXOR}x the rate of one strmxor per pair: ${best.toFixed(1)}x ${best >= GOAL_REAL_VS_STRMXOR ? 'met' : 'NOT met'}.`);
	console.log(
		`The floor (KLayout's reading, LayoutDiff and flat XOR alone, its start-up not counted, nothing written): ${(strmxorReal.seconds / floor.seconds).toFixed(1)}x; lyipc's best run takes ${((Math.min(...real.map(result => result.seconds)) / floor.seconds) * 100).toFixed(0)}% of the floor's time.`,
	);
}

/**
 * The floor under any tool built on KLayout's XOR: bench/bare_loop.py in one KLayout per core,
 * the pairs dealt out in turn; the wall is the slowest loop's own time (start-up not counted).
 */
async function bareLoop(tree, dir) {
	const lists = Array.from({length: jobs}, () => []);
	for (const [index, relative] of tree.relatives.entries()) {
		lists[index % jobs].push(`${path.join(tree.reference, relative)}\t${path.join(tree.output, relative)}`);
	}

	const loops = await Promise.all(
		lists.map(async (lines, index) => {
			const list = path.join(dir, `bare-${index}.txt`);
			writeFileSync(list, `${lines.join('\n')}\n`);
			const {stdout} = await run(klayout, ['-b', '-r', path.join(ROOT, 'bench', 'bare_loop.py'), '-rd', `list=${list}`]);
			const match = /BARE_LOOP pairs=(\d+) differ=(\d+) ms=(\d+)/.exec(stdout);
			if (!match) {
				fail(`bench/bare_loop.py printed nothing for ${list}`);
			}

			return {differ: Number(match[2]), ms: Number(match[3])};
		}),
	);
	const seconds = Math.max(...loops.map(loop => loop.ms)) / 1000;
	console.error(`  bare KLayout loop: ${seconds.toFixed(2)} s`);
	return {name: 'bare KLayout loop, its start-up not counted (the floor)', seconds, differ: loops.reduce((sum, loop) => sum + loop.differ, 0)};
}

rmSync(scratch, {recursive: true, force: true});
