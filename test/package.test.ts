import {copyFile, mkdir, readFile, symlink, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {expect, test} from 'vitest';
import {SHARED} from '../src/shared.js';
import {describeKLayout, fixture, ROOT, useTempDirs} from './helpers/run.js';

describeKLayout('the package as a user installs it', () => {
	const tempDir = useTempDirs();

	test('npm pack, install the tarball into an empty project, run npx lyipc-diff and import the library', async () => {
		const dir = await tempDir();
		// dist/ is built by `npm test` before Vitest starts; pack it as it is.
		const packed = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {cwd: ROOT});
		const [info] = JSON.parse(String(packed.stdout)) as Array<{filename: string; files: Array<{path: string}>}>;
		const files = info!.files.map(file => file.path);
		for (const required of [
			'package.json',
			'README.md',
			'LICENSE',
			'CHANGELOG.md',
			'dist/src/cli/lyipc-diff.js',
			'dist/src/engine/warm-worker-main.js',
			'dist/src/index.js',
			'dist/src/index.d.ts',
			'dist/reporters/html.js',
			'docs/result-format.md',
			'docs/worker-protocol.md',
			'dist/src/cli/lyipc.js',
			'docs/protocol.md',
			'klayout/lyipc_boot.py',
			'dist/src/vitest/index.js',
			'dist/src/vitest/plugin.js',
			'dist/src/vitest/global-setup.js',
			'dist/src/vitest/matcher-only.js',
			// The Python a remote worker and the installed viewer server need, from the one list.
			...[...SHARED.workerFiles, ...SHARED.serverFiles].map(file => `klayout/${file}`),
		]) {
			expect(files).toContain(required);
		}

		expect(files.filter(file => /^(src|reporters|test|fixtures|bench)\//.test(file))).toEqual([]);

		const project = path.join(dir, 'project');
		await mkdir(project);
		// As `npm init -y` makes it: CommonJS (npm 11 writes "type": "commonjs", older npm nothing).
		await execa('npm', ['init', '-y'], {cwd: project});
		await execa('npm', ['install', '--no-audit', '--no-fund', path.join(dir, info!.filename)], {cwd: project});
		for (const name of ['base.gds', 'one_shape.gds', 'identical_b.gds']) {
			await copyFile(fixture(name), path.join(project, name));
		}

		const different = await execa('npx', ['lyipc-diff', 'base.gds', 'one_shape.gds'], {cwd: project, reject: false, env: {TMPDIR: dir}});
		expect(different.exitCode).toBe(1);
		expect(String(different.stdout)).toMatch(/^1\/0 +4 +5 +1 +6 +2 µm +x 20 \.\. 22, y 20 \.\. 23 +different$/m);
		const same = await execa('npx', ['lyipc-diff', 'base.gds', 'identical_b.gds', '--json'], {cwd: project, reject: false});
		expect(same.exitCode).toBe(0);
		expect(JSON.parse(String(same.stdout))).toMatchObject({status: 'identical', fastPath: null});

		const script = "import {compareLayouts} from 'lyipc'; const r = await compareLayouts('base.gds', 'one_shape.gds', {outDir: 'out'}); console.log(r.status, r.differentLayers);";
		const library = await execa(process.execPath, ['--input-type=module', '-e', script], {cwd: project});
		expect(String(library.stdout)).toBe('different 1');

		// The plugin in a Vitest run: no warning about source maps pointing at sources the package
		// does not ship (the maps carry their sources).
		await symlink(path.join(ROOT, 'node_modules', 'vitest'), path.join(project, 'node_modules', 'vitest'));
		// The README's config, under the name it gives: no warning about ESM in a CommonJS project.
		const [, name, config] = /```js\n\/\/ (vitest\.config\.\w+)\n([\s\S]*?)```/.exec(await readFile(path.join(ROOT, 'README.md'), 'utf8')) ?? [];
		expect(name).toBeDefined();
		await writeFile(path.join(project, name!), config!);
		await writeFile(path.join(project, 'ring.test.mjs'), "import {expect, test} from 'vitest';\ntest('ring', async () => {\n  await expect('base.gds').toMatchLayout('identical_b.gds');\n});\n");
		const run = await execa(process.execPath, [path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run'], {cwd: project, reject: false, all: true, env: {CI: 'true'}});
		expect(run.exitCode, String(run.all)).toBe(0);
		expect(String(run.all)).not.toMatch(/source ?map/i);
		expect(String(run.all)).not.toMatch(/ESM syntax|loaded as CommonJS/);
	}, 240_000);
});
