import {readdir, readFile} from 'node:fs/promises';
import path from 'node:path';
import {expect, test} from 'vitest';
import {ROOT} from './helpers/run.js';

/** Every TypeScript module under src/ and reporters/, relative to src/ (reporters as ../reporters/...). */
async function modules(): Promise<string[]> {
	const inSrc = (await readdir(path.join(ROOT, 'src'), {recursive: true})).map(String);
	const inReporters = (await readdir(path.join(ROOT, 'reporters'), {recursive: true})).map(file => path.join('..', 'reporters', String(file)));
	return [...inSrc, ...inReporters].filter(file => file.endsWith('.ts')).sort();
}

/** The relative imports of a module (static and dynamic), resolved to paths relative to src/. */
async function importsOf(file: string): Promise<string[]> {
	const text = await readFile(path.join(ROOT, 'src', file), 'utf8');
	const specifiers = [...text.matchAll(/(?:from\s+|import\()\s*'(\.{1,2}\/[^']+)'/g)].map(match => match[1]!);
	return specifiers.map(specifier => path.posix.normalize(path.posix.join(path.posix.dirname(file.split(path.sep).join('/')), specifier)).replace(/^\.\.\/src\//, ''));
}

test('layers only point down: nothing outside src/cli imports from src/cli', async () => {
	const offending: string[] = [];
	for (const file of await modules()) {
		if (file.startsWith(`cli${path.sep}`)) {
			continue;
		}

		for (const target of await importsOf(file)) {
			if (target.startsWith('cli/')) {
				offending.push(`${file} -> ${target}`);
			}
		}
	}

	expect(offending).toEqual([]);
	// The check sees imports at all: the CLI itself imports from below, reporters from src.
	expect(await importsOf(path.join('cli', 'diff-main.ts'))).toContain('format/summary.js');
	expect(await importsOf(path.join('..', 'reporters', 'console.ts'))).toContain('format/style.js');
});

/** Signs of a module framing JSON lines itself: writing `JSON.stringify(x) + '\n'`, splitting a stream at newlines. */
const FRAMING = [
	/JSON\.stringify\((?![^)]*,\s*null\s*,)[^;]*\)\s*\+\s*'\\n'/, // one JSON object per line (not pretty-printed output)
	/`\$\{JSON\.stringify\([^`]*\)\}\\n`/,
	/from 'node:readline'/,
	/\.indexOf\('\\n'\)/,
];

test('one module frames JSON lines: src/json-lines.ts', async () => {
	const framing: string[] = [];
	for (const file of await modules()) {
		const text = await readFile(path.join(ROOT, 'src', file), 'utf8');
		if (FRAMING.some(pattern => pattern.test(text))) {
			framing.push(file.split(path.sep).join('/'));
		}
	}

	expect(framing).toEqual(['json-lines.ts']);
	// Pretty-printed JSON output (--json, reports) is no framing.
	expect(FRAMING[0]!.test(`io.stdout.write(JSON.stringify(result, null, 2) + '\\n')`)).toBe(false);
	expect(FRAMING[0]!.test(`socket.write(JSON.stringify({id, job}) + '\\n')`)).toBe(true);
});
