import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {expect, test} from 'vitest';
import {BEND_PY} from '../helpers/klayout-script.js';
import {describeKLayout, ROOT, useTempDirs} from '../helpers/run.js';

// The width search (klayout/lyipc_xor.py widest) in the KLayout under test, with budgets chosen
// by the test: whether the first large shrink is started depends on its points, not on how fast
// the machine is.
// klayout/lyipc_xor.py SLIVER_WIDTH, in dbu.
const lyipcSliverWidth = 5;

const SCRIPT = `
import json, sys
sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'klayout'))})
import lyipc_xor
${BEND_PY}
def region(polygons):
    r = pya.Region()
    for polygon in polygons:
        r.insert(pya.Polygon.from_dpoly(polygon * (1 / 0.001)))
    return r
# 400 curved strips 0.3 um wide (362 points each) and one quarter ring 3 um wide.
strips = [bend(i * 100.0, 0.0, 20.0, 0.3, 0.0, 180) for i in range(400)]
wide = bend(-500.0, 0.0, 60.0, 3.0, 0.0, 180)
# Slivers: 2 nm strips.
slivers = [bend(i * 100.0, 0.0, 20.0, 0.002, 0.0, 180) for i in range(50)]
cases = {
    "curved, no time": (region(strips + [wide]), 0.0),
    "curved, time": (region(strips + [wide]), 60.0),
    "slivers, no time": (region(slivers), 0.0),
    "slivers and a 1 um box, no time": (region(slivers) + pya.Region(pya.Box(0, -5000, 1000, -3000)), 0.0),
    "slivers and a 1 um box, time": (region(slivers) + pya.Region(pya.Box(0, -5000, 1000, -3000)), 60.0),
    "hint": (region(strips + [wide]), None),
}
answers = {}
for name, (r, budget) in cases.items():
    if budget is None:
        answers[name] = lyipc_xor.width_hint(r)
    else:
        width, exact = lyipc_xor.widest([r], budget)
        answers[name] = [width, exact]
print(json.dumps(answers))
`;

describeKLayout('width of the widest difference', () => {
	const tempDir = useTempDirs('lyipc-width-');

	test('a shrink that cannot end within the budget is not started: the area/perimeter bound is the answer, as a lower bound; slivers are settled exactly all the same', async () => {
		const dir = await tempDir();
		const script = path.join(dir, 'width.py');
		await writeFile(script, SCRIPT);
		const {stdout} = await execa(process.env.KLAYOUT ?? 'klayout', ['-b', '-r', script], {timeout: 120_000});
		const line = String(stdout)
			.split('\n')
			.find(candidate => candidate.startsWith('{'));
		const answers = JSON.parse(line ?? '{}') as Record<string, unknown>;
		const hint = answers.hint as number;
		// 2 * area / perimeter of the 3 um quarter ring of radius 60 um: 2.907 um.
		expect(hint).toBeGreaterThan(2900);
		expect(hint).toBeLessThan(3000);
		// No time: nothing shrunk beyond the bound, which proves more than slivers.
		expect(answers['curved, no time']).toEqual([Math.floor(hint), false]);
		// Time enough: measured, within a sixteenth of 3 um.
		const [width, exact] = answers['curved, time'] as [number, boolean];
		expect(exact).toBe(true);
		expect(width).toBeGreaterThan(3000 * (15 / 16));
		expect(width).toBeLessThan(3000 * (17 / 16));
		// Whether there is more than slivers is settled whatever the budget: 2 nm, exact.
		const [sliver, sliverExact] = answers['slivers, no time'] as [number, boolean];
		expect(sliverExact).toBe(true);
		expect(sliver).toBeLessThanOrEqual(lyipcSliverWidth);
		// A box settles it too: the curved slivers are then measured only with time to spare.
		expect(answers['slivers and a 1 um box, no time']).toEqual([1000, false]);
		expect(answers['slivers and a 1 um box, time']).toEqual([1000, true]);
	}, 180_000);
});
