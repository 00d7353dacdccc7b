#!/usr/bin/env node
// The hostile-input rounds, with fixed seeds and bounded time: hostile layouts and special
// files against lyipc-diff (bench/fuzz/layouts.mjs), hostile blobs against merge-reports
// (bench/fuzz/blobs.mjs), hostile requests against the viewer in a real KLayout GUI
// (bench/fuzz/viewer.mjs). Prints per set: cases, clean errors or answers, INTERNAL (goal 0),
// and the viewer's longest GUI block (goal <= 1 s). bench/README.md has the figures.
//
// Usage: npm run build && npm run bench:fuzz -- [--seed N] [--set layouts|blobs|viewer]... [--budget SEC]
import {parseArgs} from 'node:util';

const SETS = ['layouts', 'blobs', 'viewer'];
const {values} = parseArgs({options: {seed: {type: 'string', default: '1'}, set: {type: 'string', multiple: true}, budget: {type: 'string', default: '900'}}});
const chosen = values.set ?? SETS;
for (const name of chosen) {
	if (!SETS.includes(name)) {
		console.error(`fuzz: --set ${name}: expected one of ${SETS.join(', ')}`);
		process.exit(2);
	}
}

const rows = [];
for (const name of chosen) {
	const {run} = await import(`./fuzz/${name}.mjs`);
	const started = Date.now();
	const outcome = await run({seed: Number(values.seed), deadlineMs: Number(values.budget) * 1000, log: line => console.log(`  ${line}`)});
	rows.push({...outcome, seconds: (Date.now() - started) / 1000});
	for (const note of outcome.notes ?? []) {
		console.log(`  ${name}: ${note}`);
	}
}

console.log('\n| set | cases | clean | INTERNAL or worse | longest GUI block | time |');
console.log('|---|---|---|---|---|---|');
for (const row of rows) {
	const block = row.longestBlockMs === undefined ? '-' : `${(row.longestBlockMs / 1000).toFixed(2)} s`;
	console.log(`| ${row.set} | ${row.cases} | ${row.clean} | ${row.internal} | ${block} | ${row.seconds.toFixed(0)} s |`);
}

process.exitCode = rows.some(row => row.internal > 0 || (row.longestBlockMs ?? 0) > 1000) ? 1 : 0;
