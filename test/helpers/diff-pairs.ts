import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import {gdsLibrary} from './gds-records.mjs';

/** A pair with differences on three layers: three boxes moved by `shift` dbu, one added, two removed. */
export async function pairWithDifferences(folder: string, name: string, shift: number): Promise<[string, string]> {
	const boxes = (layer: number, count: number, dx = 0) => Array.from({length: count}, (_, i) => [layer, i * 3000 + (i >= 3 ? dx : 0), 0, i * 3000 + 1000 + (i >= 3 ? dx : 0), 1000] as const);
	const a = path.join(folder, `${name}_a.gds`);
	const b = path.join(folder, `${name}_b.gds`);
	await writeFile(a, gdsLibrary({cells: [{name: 'TOP', boxes: [...boxes(1, 6), ...boxes(2, 2), ...boxes(3, 3)]}]}));
	await writeFile(b, gdsLibrary({cells: [{name: 'TOP', boxes: [...boxes(1, 6, shift), ...boxes(2, 3), ...boxes(3, 1)]}]}));
	return [a, b];
}
