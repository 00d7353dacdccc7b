import {mkdir, symlink, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {expect, test} from 'vitest';
import {ROOT, useTempDirs} from '../helpers/run.js';

const tempDir = useTempDirs('lyipc-types-');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

const TEST_FILE = `import {expect, test} from 'vitest';

test('ring', async () => {
  await expect('out/ring.gds').toMatchLayout();
  await expect('out/ring.gds').toMatchLayout('refs/ring_v2.gds', {ignoreLayers: ['63/0']});
  await expect('out/ring.gds').toMatchLayout({tolerance: 0.001});
});
`;

/** A user's TypeScript project with lyipc installed (the built package, as npm links it). */
async function project(tsconfig: Record<string, unknown>, files: Record<string, string>): Promise<string> {
	const root = await tempDir();
	await mkdir(path.join(root, 'node_modules'));
	await symlink(ROOT, path.join(root, 'node_modules', 'lyipc'));
	await symlink(path.join(ROOT, 'node_modules', 'vitest'), path.join(root, 'node_modules', 'vitest'));
	await writeFile(path.join(root, 'package.json'), JSON.stringify({name: 'chip', type: 'module', private: true}));
	await writeFile(
		path.join(root, 'tsconfig.json'),
		JSON.stringify({
			compilerOptions: {target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, ...tsconfig},
		}),
	);
	for (const [name, text] of Object.entries(files)) {
		await writeFile(path.join(root, name), text);
	}

	return root;
}

async function tsc(root: string): Promise<{exitCode: number | undefined; output: string}> {
	const run = await execa(process.execPath, [TSC, '-p', root], {reject: false, all: true});
	return {exitCode: run.exitCode, output: String(run.all)};
}

const CONFIG = `import {defineConfig} from 'vitest/config';
import {layoutMatcher} from 'lyipc/vitest/plugin';

export default defineConfig({plugins: [layoutMatcher()]});
`;

test("the README's setup typechecks: the plugin in vitest.config.ts brings toMatchLayout's types", async () => {
	const root = await project({}, {'vitest.config.ts': CONFIG, 'ring.test.ts': TEST_FILE});
	const run = await tsc(root);
	expect(run.output).toBe('');
	expect(run.exitCode).toBe(0);
}, 60_000);

test('tests typechecked apart from the config: "types": ["lyipc/vitest"] brings them', async () => {
	const root = await project({types: ['lyipc/vitest']}, {'ring.test.ts': TEST_FILE});
	expect((await tsc(root)).exitCode).toBe(0);
	// The check is real: without the types, and with a misspelt matcher, tsc complains.
	const without = await tsc(await project({types: []}, {'ring.test.ts': TEST_FILE}));
	expect(without.output).toContain("TS2339: Property 'toMatchLayout' does not exist");
	const misspelt = await tsc(await project({}, {'vitest.config.ts': CONFIG, 'ring.test.ts': TEST_FILE.replace('toMatchLayout()', 'toMatchLayot()')}));
	expect(misspelt.output).toContain('toMatchLayot');
	expect(misspelt.exitCode).toBe(2);
}, 60_000);
