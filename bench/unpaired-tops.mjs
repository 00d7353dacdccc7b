#!/usr/bin/env node
// Every corpus pair whose top cells do not all pair by name: lyipc (auto, flat, deep, tiled)
// against strmxor on copies with all top cells placed in one (a flat XOR of all top cells).
// Usage: node bench/unpaired-tops.mjs [--source NAME]... [--cache DIR] [--timeout S]
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {homedir, tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {flatXorOfAllTops} from '../test/helpers/strmxor.mjs';
import {runChild} from './helpers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const {values} = parseArgs({
	options: {
		cache: {type: 'string'},
		source: {type: 'string', multiple: true, default: ['openebl-2024-10', 'gdsfactory-references']},
		timeout: {type: 'string', default: '120'},
	},
});
const cache = path.resolve(values.cache ?? process.env.LYIPC_CORPUS ?? path.join(homedir(), '.cache', 'lyipc', 'corpus'));
const timeoutMs = Number(values.timeout) * 1000;
const {compareLayouts, WorkerPool} = await import(path.join(ROOT, 'dist', 'src', 'index.js'));
const manifest = JSON.parse(readFileSync(path.join(cache, 'manifest.json'), 'utf8'));
const pairs = manifest.pairs.filter(pair => values.source.includes(pair.source));

// Top cells of every file, read once by one KLayout.
const work = mkdtempSync(path.join(tmpdir(), 'lyipc-unpaired-'));
const files = [...new Set(pairs.flatMap(pair => [pair.a, pair.b]))].map(file => path.join(cache, file));
writeFileSync(path.join(work, 'files.txt'), files.join('\n'));
const listed = await runChild(
	process.env.KLAYOUT ?? 'klayout',
	['-b', '-r', path.join(ROOT, 'bench', 'top_cells.py'), '-rd', `files=${path.join(work, 'files.txt')}`, '-rd', `output=${path.join(work, 'tops.json')}`],
	{timeoutMs: 3_600_000},
);
if (listed.code !== 0) {
	throw new Error(`listing top cells failed: ${listed.stderr}`);
}

const tops = JSON.parse(readFileSync(path.join(work, 'tops.json'), 'utf8'));
const unpaired = pairs.filter(pair => {
	const [a, b] = [tops[path.join(cache, pair.a)], tops[path.join(cache, pair.b)]];
	if (!a || !b || (a.length === 1 && b.length === 1)) {
		return false; // unreadable, or one top each (always paired with each other)
	}

	return a.some(name => !b.includes(name)) || b.some(name => !a.includes(name));
});
const readable = pairs.filter(pair => tops[path.join(cache, pair.a)] && tops[path.join(cache, pair.b)]).length;
console.log(`${pairs.length} pairs (${readable} readable by this KLayout), ${unpaired.length} with top cells that do not all pair by name\n`);

const pool = new WorkerPool({size: 1});
const modes = ['auto', 'flat', 'deep', 'tiled'];
const tally = {pairs: 0, union: 0, agree: 0, layers: 0, problems: []};
try {
	for (const pair of unpaired) {
		const [a, b] = [path.join(cache, pair.a), path.join(cache, pair.b)];
		const folder = mkdtempSync(path.join(work, 'pair-'));
		const oracle = await flatXorOfAllTops(a, b, folder, {timeoutMs}).catch(error => ({error: String(error.message ?? error)}));
		const answers = {};
		for (const mode of modes) {
			const result = await compareLayouts(a, b, {mode, pool, outDir: folder, timeout: timeoutMs, threads: 1}).catch(error => ({error: `${error.code}: ${error.message}`}));
			answers[mode] = result;
		}

		rmSync(folder, {recursive: true, force: true});
		tally.pairs++;
		const auto = answers.auto;
		const entry = auto.topCells?.find(top => top.unpaired);
		if (entry) {
			tally.union++;
		}

		const differing = result =>
			result.error
				? result.error
				: result.layers
						.filter(layer => layer.status !== 'same')
						.map(layer => layer.key)
						.sort()
						.join(' ') || '-';
		const theirs = oracle.error ?? (Object.keys(oracle.layers).sort().join(' ') || '-');
		const same = modes.every(mode => differing(answers[mode]) === theirs);
		tally.layers += auto.layers?.length ?? 0;
		if (same) {
			tally.agree++;
		} else {
			tally.problems.push(pair.id);
		}

		const topsA = tops[a].join(', ');
		const topsB = tops[b].join(', ');
		console.log(`${same ? 'agree   ' : 'DISAGREE'} ${pair.id} ${pair.bPath}`);
		console.log(`    A tops: ${topsA}\n    B tops: ${topsB}`);
		console.log(`    unpaired: ${entry ? `A ${entry.unpaired.a.join(', ')} | B ${entry.unpaired.b.join(', ')}` : 'on one side only'}`);
		console.log(`    differing layers: flat XOR of all tops ${theirs}; ${modes.map(mode => `${mode} ${differing(answers[mode])}`).join('; ')}`);
	}
} finally {
	await pool.close();
	rmSync(work, {recursive: true, force: true});
}

console.log(`\n${tally.pairs} pairs with unpaired top cells (${tally.union} with unpaired tops on both sides, compared as one), ${tally.layers} layers;`);
console.log(`every mode's differing layers = strmxor's flat XOR of all top cells on ${tally.agree} of ${tally.pairs} pairs`);
if (tally.problems.length > 0) {
	console.log(`disagree: ${tally.problems.join(', ')}`);
	process.exitCode = 1;
}
