import {randomInt} from 'node:crypto';
import path from 'node:path';
import {execa} from 'execa';
import {expect, test} from 'vitest';
import {describeKLayout, ROOT, useTempDirs} from '../helpers/run.js';
import {findStrmxor} from '../helpers/strmxor.mjs';

const CASES = Number(process.env.LYIPC_PROPERTY_CASES ?? 250);

interface Summary {
	seed: number;
	cases: number;
	failures: number;
	layerModes: Record<string, number>;
	/** Layers that auto without the structural diff settled as the same polygons, no boolean. */
	samePolygonLayers: number;
}

describeKLayout('incremental XOR (auto) against the full XOR and strmxor, on random layouts and edits', () => {
	const tempDir = useTempDirs();

	test(`${CASES} random cases: same verdict and difference area per layer`, async () => {
		const strmxor = findStrmxor();
		expect(strmxor, "strmxor (KLayout's buddy tool) is the oracle; set STRMXOR=/path/to/strmxor").not.toBeNull();
		// A new seed every run covers more ground; a failure names it so it can be replayed.
		const seed = Number(process.env.LYIPC_PROPERTY_SEED ?? randomInt(1, 1_000_000));
		const replay = `replay with LYIPC_PROPERTY_SEED=${seed} LYIPC_PROPERTY_CASES=${CASES}`;
		const run = await execa(
			process.env.KLAYOUT ?? 'klayout',
			['-b', '-r', path.join(ROOT, 'test', 'property', 'check_cases.py'), '-rd', `seed=${seed}`, '-rd', `cases=${CASES}`, '-rd', `folder=${await tempDir()}`, '-rd', `strmxor=${strmxor}`],
			{timeout: 900_000, reject: false},
		);
		const lines = String(run.stdout)
			.split('\n')
			.filter(line => line.startsWith('{'))
			.map(line => JSON.parse(line) as {failure?: unknown; summary?: Summary});
		const summary = lines.find(line => line.summary)?.summary;
		expect(summary, `${replay}\n${String(run.stderr)}`).toBeDefined();
		expect(
			lines.filter(line => line.failure).map(line => line.failure),
			replay,
		).toEqual([]);
		expect(summary!.cases).toBe(CASES);
		// Every path must really be taken, or the property says little.
		const modes = summary!.layerModes;
		expect(modes.structural, replay).toBeGreaterThan(CASES / 2);
		expect(modes.windowed, replay).toBeGreaterThan(CASES / 2);
		expect((modes.flat ?? 0) + (modes.deep ?? 0) + (modes.tiled ?? 0), replay).toBeGreaterThan(CASES / 10);
		expect(summary!.samePolygonLayers, replay).toBeGreaterThan(CASES / 2);
	}, 900_000);
});
