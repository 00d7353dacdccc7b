import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';

/** Runs a generator `script` in `klayout -b` with `dir` and each `name=value` of `params` as variables (it writes its layouts into `dir`). */
export async function runKLayoutScript(dir: string, script: string, params: readonly string[] = []): Promise<void> {
	const file = path.join(dir, 'make.py');
	await writeFile(file, script);
	await execa(process.env.KLAYOUT ?? 'klayout', ['-b', ...params.flatMap(param => ['-rd', param]), '-rd', `dir=${dir}`, '-r', file]);
}

/** Python for generator scripts: `bend(cx, cy, r, w, start, points)`, a quarter ring of width `w` (µm) at radius `r` from angle `start`, `points` steps along each edge, as photonic bends are drawn. */
export const BEND_PY = `import math, pya
def bend(cx, cy, r, w, start, points):
    arc = lambda radius, i: pya.DPoint(cx + radius * math.cos(start + math.pi / 2 * i / points), cy + radius * math.sin(start + math.pi / 2 * i / points))
    return pya.DPolygon([arc(r + w / 2, i) for i in range(points + 1)] + [arc(r - w / 2, i) for i in range(points, -1, -1)])`;
