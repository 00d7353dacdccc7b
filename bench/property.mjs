#!/usr/bin/env node
// Many more random cases of the incremental-XOR property test than CI runs.
// Usage: npm run bench:property [-- --cases N] [-- --seed N]        (bench/README.md)
import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {findStrmxor} from '../test/helpers/strmxor.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const {values} = parseArgs({options: {cases: {type: 'string', default: '2000'}, seed: {type: 'string'}}});
const seed = values.seed ?? String(Math.floor(Math.random() * 1_000_000));
const strmxor = findStrmxor();
if (!strmxor) {
	console.error('bench: strmxor not found next to KLayout; set STRMXOR=/path/to/strmxor');
	process.exit(2);
}

const folder = mkdtempSync(path.join(tmpdir(), 'lyipc-property-'));
const run = spawnSync(
	process.env.KLAYOUT ?? 'klayout',
	['-b', '-r', path.join(ROOT, 'test', 'property', 'check_cases.py'), '-rd', `seed=${seed}`, '-rd', `cases=${values.cases}`, '-rd', `folder=${folder}`, '-rd', `strmxor=${strmxor}`],
	{encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 * 1024 * 1024},
);
rmSync(folder, {recursive: true, force: true});
const lines = run.stdout
	.split('\n')
	.filter(line => line.startsWith('{'))
	.map(line => JSON.parse(line));
for (const {failure} of lines.filter(line => line.failure)) {
	console.log(JSON.stringify(failure));
}

const summary = lines.find(line => line.summary)?.summary;
if (!summary) {
	console.error(`bench: the property run printed no summary (exit ${run.status})`);
	process.exit(2);
}

console.log(
	`seed ${summary.seed}: ${summary.cases} cases, ${summary.failures} failing, ${summary.seconds} s; layers by mode: ${JSON.stringify(summary.layerModes)}; settled as the same polygons without the structural diff: ${summary.samePolygonLayers}`,
);
process.exitCode = summary.failures === 0 ? 0 : 1;
