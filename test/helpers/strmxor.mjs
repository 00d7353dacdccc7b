// KLayout's own strmxor, the independent oracle for tests and the baseline for benchmarks.
import {execFileSync} from 'node:child_process';
import {existsSync, realpathSync} from 'node:fs';
import path from 'node:path';

/** Path of strmxor: $STRMXOR, else next to the real KLayout binary, else Debian's place; null if none. */
export function findStrmxor(klayout = process.env.KLAYOUT ?? 'klayout') {
	if (process.env.STRMXOR) {
		return process.env.STRMXOR;
	}

	const candidates = ['/usr/lib/klayout/strmxor'];
	try {
		const real = realpathSync(execFileSync('which', [klayout]).toString().trim());
		candidates.unshift(path.join(path.dirname(real), 'strmxor'));
	} catch {
		// not on PATH: only the fixed places
	}

	return candidates.find(candidate => existsSync(candidate)) ?? null;
}

/** Environment for strmxor: Debian's buddy tools need KLayout's private libraries. */
export function strmxorEnv(strmxor, env = process.env) {
	return {...env, LD_LIBRARY_PATH: [path.dirname(strmxor), env.LD_LIBRARY_PATH].filter(Boolean).join(':')};
}
