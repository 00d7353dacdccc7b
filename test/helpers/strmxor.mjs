// KLayout's own strmxor, the independent oracle for tests and the baseline for benchmarks.
import {execFile, execFileSync} from 'node:child_process';
import {existsSync, realpathSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';

const execFileAsync = promisify(execFile);

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

/**
 * strmxor's verdict per layer on two layouts, each with its top cells placed in one new top
 * (test/helpers/one_top.py), so that several top cells are XORed flat, all together:
 * {identical, layers: {"1/0": count or "missing"}}. Throws when strmxor gives no summary.
 */
export async function flatXorOfAllTops(a, b, folder, {klayout = process.env.KLAYOUT ?? 'klayout', timeoutMs = 120_000} = {}) {
	const strmxor = findStrmxor(klayout);
	if (!strmxor) {
		throw new Error("strmxor (KLayout's buddy tool) not found; set STRMXOR=/path/to/strmxor");
	}

	const script = fileURLToPath(new URL('one_top.py', import.meta.url));
	const copies = [];
	for (const [index, input] of [a, b].entries()) {
		const output = path.join(folder, `${index === 0 ? 'a' : 'b'}-one-top${/\.oas$/i.test(input) ? '.oas' : '.gds'}`);
		await execFileAsync(klayout, ['-b', '-r', script, '-rd', `input=${input}`, '-rd', `output=${output}`], {timeout: timeoutMs});
		copies.push(output);
	}

	const {stdout, stderr} = await execFileAsync(strmxor, copies, {env: strmxorEnv(strmxor), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024}).catch(error => error);
	return parseStrmxor(`${stdout ?? ''}${stderr ?? ''}`);
}

/** strmxor's printed summary: {identical, layers: {"1/0": count or "missing"}} (unlisted layers are the same). */
export function parseStrmxor(text) {
	if (/No differences found/.test(text)) {
		return {identical: true, layers: {}};
	}

	if (!/Result summary/.test(text)) {
		throw new Error(`strmxor gave no result: ${text.trim().split('\n').at(-1)}`);
	}

	const layers = {};
	for (const line of text.split('\n')) {
		const match = /^ {2}(\S.*?) +(\S+) +(\d+|\(no such layer in (?:first|second) layout\))\s*$/.exec(line);
		if (!match || match[1] === 'Layer') {
			continue;
		}

		const numbers = /(\d+)\/(\d+)\)?$/.exec(match[1]);
		layers[numbers ? `${numbers[1]}/${numbers[2]}` : match[1]] = match[3].startsWith('(') ? 'missing' : Number(match[3]);
	}

	return {identical: false, layers};
}
