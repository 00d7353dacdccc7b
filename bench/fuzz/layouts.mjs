#!/usr/bin/env node
// Hostile layouts against lyipc-diff: every one must give exit 0, 1 or 2 with a coded error,
// never INTERNAL, a crash of lyipc-diff or a hang past --timeout.
//
// - built record by record (test/helpers/gds-records.mjs): broken units and magnifications,
//   cycles, missing cells, huge arrays and coordinates, names that are not UTF-8;
// - mutated bytes of the fixtures (GDS, OASIS, gzipped): flips, cut records, repeats, cuts;
// - special files given as A or B: FIFOs, devices, symlink loops, folders, odd names.
// The layouts run as one directory run with every reporter (pictures included) on KLayouts
// limited in memory; the special files each as a single comparison.
//
// Usage: npm run build && node bench/fuzz/layouts.mjs [--seed N] [--cases N] [--budget SEC]
import {spawn} from 'node:child_process';
import {chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {gzipSync} from 'node:zlib';
import {gdsLibrary, record} from '../../test/helpers/gds-records.mjs';
import {random, runChild} from '../helpers.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'lyipc-diff.js');
const fixture = name => path.join(ROOT, 'fixtures', name);
/** Seconds each pair may take (lyipc-diff --timeout), and the memory each KLayout may hold. */
const PAIR_TIMEOUT_S = 20;
const KLAYOUT_MEMORY_KB = 6 * 1024 * 1024;

const box = [[1, 0, 0, 1000, 1000]];
const unit = name => ({name, boxes: box});

/** Layouts built record by record, each broken in one way a generator or a bug could break it. */
function builtCases(rng) {
	const cases = [
		['units 0', {units: [0, 0], cells: [unit('TOP')]}],
		['user unit 0', {units: [0.001, 0], cells: [unit('TOP')]}],
		['negative units', {units: [-0.001, -1e-9], cells: [unit('TOP')]}],
		['tiny units', {units: [1e-30, 1e-39], cells: [unit('TOP')]}],
		['huge units', {units: [1e30, 1e21], cells: [unit('TOP')]}],
		['mag 0', {cells: [unit('C'), {name: 'TOP', placements: [{cell: 'C', mag: 0}]}]}],
		['mag -1', {cells: [unit('C'), {name: 'TOP', placements: [{cell: 'C', mag: -1}]}]}],
		['mag 1e12', {cells: [unit('C'), {name: 'TOP', placements: [{cell: 'C', mag: 1e12}]}]}],
		['mag 1e-12', {cells: [unit('C'), {name: 'TOP', placements: [{cell: 'C', mag: 1e-12}]}]}],
		['a cell placing itself', {cells: [{name: 'TOP', boxes: box, placements: [{cell: 'TOP'}]}]}],
		[
			'two cells placing each other',
			{
				cells: [
					{name: 'A', boxes: box, placements: [{cell: 'B'}]},
					{name: 'B', boxes: box, placements: [{cell: 'A'}]},
				],
			},
		],
		['a placement of a missing cell', {cells: [{name: 'TOP', boxes: box, placements: [{cell: 'NOWHERE'}]}]}],
		['two cells of one name', {cells: [unit('TOP'), unit('TOP')]}],
		['an empty cell name', {cells: [unit('')]}],
		['a cell name of 1,000 characters', {cells: [unit('N'.repeat(1000))]}],
		['a cell name that is not UTF-8', {cells: [unit(Buffer.from([0x43, 0xff, 0xfe]))]}],
		['a cell name with control characters', {cells: [unit(Buffer.from([0x43, 0x0a, 0x00, 0x1b]))]}],
		['no cells', {cells: []}],
		['an empty top cell', {cells: [{name: 'TOP'}]}],
		['coordinates at the int32 limits', {cells: [{name: 'TOP', boxes: [[1, -2_147_483_648, -2_147_483_648, 2_147_483_647, 2_147_483_647]]}]}],
		['a box placed far out', {cells: [unit('C'), {name: 'TOP', placements: [{cell: 'C', x: 2_147_483_000, y: -2_147_483_000}]}]}],
		['layer 65535 (-1 as int16)', {cells: [{name: 'TOP', boxes: [[-1, 0, 0, 10, 10]]}]}],
		['a self-intersecting polygon', {cells: [{name: 'TOP', polygons: [{xy: [0, 0, 1000, 1000, 1000, 0, 0, 1000, 0, 0]}]}]}],
		['a polygon of 2 points', {cells: [{name: 'TOP', polygons: [{xy: [0, 0, 1000, 1000]}]}]}],
		['a polygon of 8,000 points', {cells: [{name: 'TOP', polygons: [{xy: circle(3999)}]}]}],
		['a zero-area polygon', {cells: [{name: 'TOP', polygons: [{xy: [0, 0, 1000, 0, 2000, 0, 0, 0]}]}]}],
		['an array of 0 x 0', {cells: [unit('C'), {name: 'TOP', placements: [{cell: 'C', array: {cols: 0, rows: 0, dx: 10, dy: 10}}]}]}],
		['an array of -1 x -1', {cells: [unit('C'), {name: 'TOP', placements: [{cell: 'C', array: {cols: -1, rows: -1, dx: 10, dy: 10}}]}]}],
		['an array of 1,000 x 1,000', {cells: [unit('C'), {name: 'TOP', placements: [{cell: 'C', array: {cols: 1000, rows: 1000, dx: 2000, dy: 2000}}]}]}],
		['an array of 32,767 x 32,767 (10^9 boxes)', {cells: [unit('C'), {name: 'TOP', placements: [{cell: 'C', array: {cols: 32_767, rows: 32_767, dx: 2000, dy: 2000}}]}]}],
		['an array with pitch 0', {cells: [unit('C'), {name: 'TOP', placements: [{cell: 'C', array: {cols: 1000, rows: 1000, dx: 0, dy: 0}}]}]}],
		['a chain of 2,000 cells', {cells: chain(2000)}],
		['a binary tree 20 deep (10^6 placements)', {cells: tree(20)}],
	];
	// The same kinds again with random numbers in them.
	for (let index = 0; index < 27; index++) {
		const mag = rng.pick([0, -rng.next(), rng.next() * 1e6, 1e-9 * rng.next(), 1]);
		const units = rng.pick([
			[0.001, 1e-9],
			[rng.next() * 1e-3, rng.next() * 1e-9],
			[0, 1e-9],
			[-rng.next(), 1e-9],
		]);
		const cols = rng.int(-2, 3000);
		const rows = rng.int(-2, 300);
		cases.push([
			`random units ${units.map(value => value.toPrecision(3)).join('/')}, mag ${mag.toPrecision(3)}, array ${cols} x ${rows}`,
			{units, cells: [unit('C'), {name: 'TOP', boxes: box, placements: [{cell: 'C', mag, array: {cols, rows, dx: rng.int(-5000, 5000), dy: rng.int(-5000, 5000)}}]}]},
		]);
	}

	return cases.map(([name, library]) => ({name, bytes: gdsLibrary(library), extension: '.gds'}));
}

function circle(points) {
	const xy = [];
	for (let index = 0; index <= points; index++) {
		const angle = (2 * Math.PI * (index % points)) / points;
		xy.push(Math.round(100_000 * Math.cos(angle)), Math.round(100_000 * Math.sin(angle)));
	}

	return xy;
}

function chain(length) {
	return Array.from({length}, (_, index) => ({name: `C${index}`, boxes: box, placements: index > 0 ? [{cell: `C${index - 1}`, x: 10}] : []})).reverse();
}

function tree(depth) {
	return Array.from({length: depth}, (_, index) => ({
		name: `L${index}`,
		boxes: index === 0 ? box : [],
		placements: index > 0 ? [{cell: `L${index - 1}`}, {cell: `L${index - 1}`, x: 2000 * index}] : [],
	})).reverse();
}

/** The fixtures' bytes, changed at random the ways a disk, a transfer or a writer's bug changes them. */
function mutatedCases(rng, count) {
	const sources = [
		['base.gds', readFileSync(fixture('base.gds'))],
		['base.oas', readFileSync(fixture('base.oas'))],
		['via_changed.gds', readFileSync(fixture('via_changed.gds'))],
		['multi_top_a.gds', readFileSync(fixture('multi_top_a.gds'))],
	];
	const mutations = {
		flip(bytes) {
			const out = Buffer.from(bytes);
			for (let index = rng.int(1, 8); index > 0; index--) {
				out[rng.int(0, out.length - 1)] = rng.int(0, 255);
			}

			return out;
		},
		'cut short'(bytes) {
			return bytes.subarray(0, rng.int(1, bytes.length - 1));
		},
		'a range repeated'(bytes) {
			const start = rng.int(0, bytes.length - 1);
			const end = Math.min(bytes.length, start + rng.int(1, 400));
			return Buffer.concat([bytes.subarray(0, end), bytes.subarray(start, end), bytes.subarray(end)]);
		},
		'a range removed'(bytes) {
			const start = rng.int(0, bytes.length - 1);
			return Buffer.concat([bytes.subarray(0, start), bytes.subarray(Math.min(bytes.length, start + rng.int(1, 400)))]);
		},
		'a length field broken'(bytes) {
			// GDS records start with a 16-bit length; this hits one where the file has records.
			const out = Buffer.from(bytes);
			const at = 2 * rng.int(0, Math.floor(out.length / 2) - 1);
			out.writeUInt16BE(rng.pick([0, 1, 2, 3, 5, 0xffff, rng.int(0, 0xffff)]), at);
			return out;
		},
		'garbage appended'(bytes) {
			return Buffer.concat([bytes, Buffer.from(Array.from({length: rng.int(1, 2000)}, () => rng.int(0, 255)))]);
		},
		'records shuffled'(bytes) {
			const records = [];
			for (let at = 0; at + 4 <= bytes.length; ) {
				const length = Math.max(4, bytes.readUInt16BE(at));
				records.push(bytes.subarray(at, at + length));
				at += length;
			}

			for (let index = records.length > 2 ? rng.int(1, 4) : 0; index > 0; index--) {
				const [x, y] = [rng.int(1, records.length - 1), rng.int(1, records.length - 1)];
				[records[x], records[y]] = [records[y], records[x]];
			}

			return Buffer.concat(records);
		},
	};
	const names = Object.keys(mutations);
	return Array.from({length: count}, (_, index) => {
		const [source, bytes] = sources[index % sources.length];
		const mutation = rng.pick(names);
		const gzip = rng.next() < 0.15;
		const changed = mutations[mutation](bytes);
		return {name: `${source}: ${mutation}${gzip ? ', gzipped' : ''}`, bytes: gzip ? gzipSync(changed) : changed, extension: `${path.extname(source)}${gzip ? '.gz' : ''}`};
	});
}

/** Compressed input that is not what it says. */
function gzipCases() {
	const header = gdsLibrary({cells: []}).subarray(0, 6);
	return [
		['a gzip bomb of zeros (2 GB inflated)', gzipSync(Buffer.alloc(64 * 1024 * 1024), {level: 9}), '.gds.gz'],
		['a GDS header, then 64 MB of zeros, gzipped', gzipSync(Buffer.concat([header, Buffer.alloc(64 * 1024 * 1024)]), {level: 9}), '.gds.gz'],
		['a gzip stream cut short', gzipSync(readFileSync(fixture('base.gds'))).subarray(0, 60), '.gds.gz'],
		['a gzip of a text', gzipSync(Buffer.from('hello, not a layout\n')), '.gds.gz'],
		['two gzip members, each half a layout', Buffer.concat([gzipSync(readFileSync(fixture('base.gds')).subarray(0, 300)), gzipSync(readFileSync(fixture('base.gds')).subarray(300))]), '.gds.gz'],
		['only a GDS HEADER record', record(0x00, 0x02, Buffer.from([0x02, 0x58])), '.gds'],
		['an OASIS magic and nothing else', Buffer.from('%SEMI-OASIS\r\n', 'latin1'), '.oas'],
	].map(([name, bytes, extension]) => ({name, bytes, extension}));
}

/** Runs lyipc-diff with `args`; killed (a hang) after `limitS`. */
async function lyipcDiff(args, {cwd, limitS}) {
	const run = await runChild(process.execPath, [CLI, ...args], {cwd, timeoutMs: limitS * 1000, group: true});
	return {...run, seconds: run.ms / 1000};
}

/** Whether an exit and its JSON say "a clear answer": 0/1, or 2 with a code other than INTERNAL. */
function judge(run, json) {
	if (run.hung) {
		return {clean: false, why: `hung for ${run.seconds.toFixed(0)} s`};
	}

	if (![0, 1, 2].includes(run.code)) {
		return {clean: false, why: `exit ${run.code ?? run.signal}: ${run.stderr.slice(0, 200)}`};
	}

	const code = json?.error?.code;
	if (run.code === 2 && (code === undefined || code === 'INTERNAL')) {
		return {clean: false, why: `INTERNAL: ${(json?.error?.message ?? run.stderr).slice(0, 300)}`};
	}

	return {clean: true};
}

/** Files that are not files, and names that are not names, each given as B. */
async function specialFiles(dir) {
	const good = path.join(dir, 'good.gds');
	const cases = [];
	const add = (name, make, given) => cases.push({name, make, given});
	add('a FIFO', async file => finished('mkfifo', [file]));
	add('/dev/zero through a symlink', file => symlinkSync('/dev/zero', file));
	add('/dev/null through a symlink', file => symlinkSync('/dev/null', file));
	add('a symlink loop', file => symlinkSync(file, file));
	add('a dangling symlink', file => symlinkSync(path.join(dir, 'nowhere.gds'), file));
	add('a folder named .gds', file => mkdirSync(file));
	add('0 bytes', file => writeFileSync(file, ''));
	add('1 byte', file => writeFileSync(file, 'x'));
	add('a sparse file of 8 GB', async file => {
		writeFileSync(file, readFileSync(fixture('base.gds')).subarray(0, 6));
		await finished('truncate', ['-s', '8G', file]);
	});
	add('a file without read permission', file => {
		copyFileSync(good, file);
		chmodSync(file, 0);
	});
	add(
		'a name with a newline',
		file => copyFileSync(good, `${file}\nsecond line.gds`),
		file => `${file}\nsecond line.gds`,
	);
	add(
		'a name that is not UTF-8',
		file => writeFileSync(Buffer.from(`${file}\xff.gds`, 'latin1'), readFileSync(good)),
		file => `${file}\ufffd.gds`,
	);
	add(
		'a name starting with a dash',
		() => copyFileSync(good, path.join(dir, '-rf.gds')),
		() => './-rf.gds',
	);
	add(
		'a path through a file',
		file => copyFileSync(good, file),
		file => `${file}/inner.gds`,
	);
	const results = [];
	for (const [index, {name, make, given: named}] of cases.entries()) {
		const file = path.join(dir, `special-${index}.gds`);
		const given = named?.(file) ?? file;
		await make(file);
		const run = await lyipcDiff([good, given, '--json', '--no-view', '--no-warm-worker', '--timeout', String(PAIR_TIMEOUT_S)], {cwd: dir, limitS: PAIR_TIMEOUT_S + 30});
		let json;
		try {
			json = JSON.parse(run.stdout);
		} catch {
			json = undefined;
		}

		results.push({name, ...judge(run, json), code: json?.error?.code ?? json?.status, seconds: run.seconds});
	}

	return results;
}

function finished(command, args) {
	return new Promise(resolve => spawn(command, args, {stdio: 'ignore'}).on('close', resolve));
}

/**
 * The set for bench/fuzz.mjs (`run`): `{set, cases, clean, internal, notes}`. `deadlineMs` bounds the
 * directory run (its --timeout per pair bounds each pair).
 */
export async function run({seed = 1, cases: wanted = 300, deadlineMs = 15 * 60 * 1000, log = () => {}} = {}) {
	const rng = random(seed);
	const dir = mkdtempSync(path.join(tmpdir(), 'lyipc-fuzz-layouts-'));
	try {
		const built = builtCases(rng);
		const zipped = gzipCases();
		const layouts = [...built, ...zipped, ...mutatedCases(rng, Math.max(0, wanted - built.length - zipped.length))];
		mkdirSync(path.join(dir, 'ref'));
		mkdirSync(path.join(dir, 'run'));
		writeFileSync(path.join(dir, 'good.gds'), readFileSync(fixture('base.gds')));
		const names = new Map();
		for (const [index, layout] of layouts.entries()) {
			const file = `case-${String(index).padStart(3, '0')}${layout.extension}`;
			names.set(file, layout.name);
			copyFileSync(fixture(layout.extension.startsWith('.oas') ? 'base.oas' : 'base.gds'), path.join(dir, 'ref', file));
			writeFileSync(path.join(dir, 'run', file), layout.bytes);
		}

		// KLayout limited in memory: a layout that asks for more fails there, not on the machine.
		const klayout = path.join(dir, 'klayout-limited');
		writeFileSync(klayout, `#!/bin/sh\nulimit -v ${KLAYOUT_MEMORY_KB}\nexec klayout "$@"\n`, {mode: 0o755});
		log(`layouts: ${layouts.length} hostile layouts as one directory run (every reporter, pictures included), ${PAIR_TIMEOUT_S} s and ${KLAYOUT_MEMORY_KB / 1024 / 1024} GB per KLayout`);
		const reports = path.join(dir, 'reports');
		const suite = await lyipcDiff(
			[
				'ref',
				'run',
				'--no-view',
				'--no-warm-worker',
				'--workers',
				'2',
				'--klayout',
				klayout,
				'--timeout',
				String(PAIR_TIMEOUT_S),
				'--closeups',
				'1',
				'--out-dir',
				reports,
				'--reporter',
				`json=${path.join(dir, 'run.json')}`,
				'--reporter',
				'html',
				'--reporter',
				`junit=${path.join(dir, 'junit.xml')}`,
				'--reporter',
				`markdown=${path.join(dir, 'summary.md')}`,
			],
			{cwd: dir, limitS: deadlineMs / 1000},
		);
		const notes = [];
		let clean = 0;
		let internal = 0;
		if (suite.hung || ![1, 2].includes(suite.code)) {
			notes.push(`the directory run ended ${suite.hung ? 'by the deadline' : `with exit ${suite.code ?? suite.signal}`}: ${suite.stderr.slice(0, 400)}`);
		}

		let result;
		try {
			result = JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8'));
		} catch (error) {
			notes.push(`no JSON report: ${error.message}`);
		}

		const codes = {};
		let slowest = {seconds: 0, name: ''};
		for (const pair of result?.pairs ?? []) {
			const name = names.get(pair.path);
			const code = pair.status === 'error' ? pair.error?.code : pair.status;
			codes[code] = (codes[code] ?? 0) + 1;
			if (pair.ms / 1000 > slowest.seconds) {
				slowest = {seconds: pair.ms / 1000, name};
			}

			if (code === 'WORKER_DIED') {
				notes.push(`${pair.path} (${name}): KLayout died (a clean error, but KLayout's own crash): ${pair.error?.message?.slice(0, 200)}`);
			}

			if (code === 'INTERNAL' || code === undefined) {
				internal++;
				notes.push(`${pair.path} (${name}): ${pair.error?.message?.slice(0, 300) ?? 'no error code'}`);
			} else {
				clean++;
			}

			if (pair.pictures?.error) {
				codes['pictures skipped'] = (codes['pictures skipped'] ?? 0) + 1;
			}
		}

		const missing = layouts.length - (result?.pairs?.length ?? 0);
		internal += missing;
		if (missing > 0) {
			notes.push(`${missing} layouts have no outcome in the report`);
		}

		log(
			`layouts: ${clean} clean, ${internal} not; by answer: ${Object.entries(codes)
				.map(([code, count]) => `${code} ${count}`)
				.join(', ')}; slowest ${slowest.seconds.toFixed(1)} s (${slowest.name}); run ${suite.seconds.toFixed(0)} s`,
		);
		const special = await specialFiles(dir);
		for (const outcome of special) {
			if (outcome.clean) {
				clean++;
			} else {
				internal++;
				notes.push(`special file, ${outcome.name}: ${outcome.why}`);
			}
		}

		log(`special files: ${special.filter(outcome => outcome.clean).length} of ${special.length} clean (${special.map(outcome => `${outcome.name}: ${outcome.code}`).join('; ')})`);
		return {set: 'layouts', cases: layouts.length + special.length, clean, internal, slowestPairS: slowest.seconds, notes};
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const {values} = parseArgs({options: {seed: {type: 'string', default: '1'}, cases: {type: 'string', default: '300'}, budget: {type: 'string', default: '900'}}});
	const outcome = await run({seed: Number(values.seed), cases: Number(values.cases), deadlineMs: Number(values.budget) * 1000, log: line => console.log(line)});
	console.log(JSON.stringify(outcome, null, 2));
	process.exitCode = outcome.internal > 0 ? 1 : 0;
}
