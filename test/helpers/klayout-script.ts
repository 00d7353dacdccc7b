import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';

/** Runs a generator `script` in `klayout -b` with `dir` and each `name=value` of `params` as variables (it writes its layouts into `dir`). */
export async function runKLayoutScript(dir: string, script: string, params: readonly string[] = []): Promise<void> {
	const file = path.join(dir, 'make.py');
	await writeFile(file, script);
	await execa(process.env.KLAYOUT ?? 'klayout', ['-b', ...params.flatMap(param => ['-rd', param]), '-rd', `dir=${dir}`, '-r', file]);
}
