import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {execa} from 'execa';

let measured: Promise<number> | undefined;

/**
 * Milliseconds `klayout -b` takes to start and run an empty Python script here and now (once
 * per test file). Time limits that include fresh KLayout start-ups scale with it: KLayout 0.30
 * (Debian 13, Python 3.13) starts ~1.8 times slower than 0.28.5 on the same machine.
 */
export async function klayoutStartupMs(klayout = process.env.KLAYOUT ?? 'klayout'): Promise<number> {
	measured ??= (async () => {
		const dir = await mkdtemp(path.join(tmpdir(), 'lyipc-startup-'));
		try {
			const script = path.join(dir, 'empty.py');
			await writeFile(script, '');
			const began = performance.now();
			await execa(klayout, ['-b', '-r', script], {timeout: 60_000});
			return performance.now() - began;
		} finally {
			await rm(dir, {recursive: true, force: true});
		}
	})();
	return measured;
}
