import {access, copyFile, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {SHARED} from '../src/shared.js';
import {describeKLayout, fixture, ROOT, useTempDirs} from './helpers/run.js';

interface Packed {
	filename: string;
	files: Array<{path: string}>;
}

/**
 * npm and npx with no network: offline, with an empty cache of their own. Whatever the install
 * needs must come from the tarball and the dependencies linked beside it, so a package that
 * only installs from the registry fails here instead of passing on a machine that has it cached.
 */
function offlineNpm(dir: string): Record<string, string> {
	return {
		npm_config_offline: 'true',
		npm_config_cache: path.join(dir, 'npm-cache'),
		npm_config_audit: 'false',
		npm_config_fund: 'false',
		npm_config_update_notifier: 'false',
	};
}

const linkFromCheckout = async (project: string, name: string) => symlink(path.join(ROOT, 'node_modules', name), path.join(project, 'node_modules', name));

/**
 * An empty project, as `npm init -y` makes it (CommonJS: npm 11 writes "type": "commonjs", older
 * npm nothing), whose node_modules already holds lyipc's dependencies: the checkout's own, linked.
 * npm finds them satisfied when it installs lyipc and fetches nothing.
 */
async function emptyProject(dir: string): Promise<string> {
	const project = path.join(dir, 'project');
	await mkdir(path.join(project, 'node_modules'), {recursive: true});
	await execa('npm', ['init', '-y'], {cwd: project, env: offlineNpm(dir)});
	const manifest = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {dependencies: Record<string, string>};
	for (const name of Object.keys(manifest.dependencies)) {
		await linkFromCheckout(project, name);
	}

	return project;
}

/**
 * Packs the package as `npm publish` would (dist/ as built before the tests) and installs the
 * tarball into an empty project. Vitest, an optional peer that npm would remove as extraneous,
 * is linked after the install.
 */
async function packAndInstall(dir: string): Promise<{info: Packed; project: string}> {
	const env = offlineNpm(dir);
	const packed = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {cwd: ROOT, env});
	const [info] = JSON.parse(String(packed.stdout)) as Packed[];
	const project = await emptyProject(dir);
	await execa('npm', ['install', path.join(dir, info!.filename)], {cwd: project, env});
	await linkFromCheckout(project, 'vitest');
	return {info: info!, project};
}

describeKLayout('the package as a user installs it: the npm pack tarball in an empty project, no network', () => {
	let dir = '';
	let project = '';
	let info: Packed;
	const npx = async (args: string[]) => execa('npx', args, {cwd: project, reject: false, env: {...offlineNpm(dir), TMPDIR: dir}});

	beforeAll(async () => {
		dir = await mkdtemp(path.join(tmpdir(), 'lyipc-package-'));
		({info, project} = await packAndInstall(dir));
		for (const name of ['base.gds', 'one_shape.gds', 'identical_b.gds']) {
			await copyFile(fixture(name), path.join(project, name));
		}
	}, 120_000);

	afterAll(async () => {
		if (dir) {
			await rm(dir, {recursive: true, force: true});
		}
	});

	test('the tarball holds what the commands, the library and a remote worker need, and no sources', () => {
		const files = info.files.map(file => file.path);
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

		expect(files.filter(file => /^(src|reporters|test|fixtures|bench|scripts|\.github|\.ci)\//.test(file))).toEqual([]);
	});

	test('npx lyipc-diff compares two layouts: exit code, summary and --json', async () => {
		const different = await npx(['lyipc-diff', 'base.gds', 'one_shape.gds']);
		expect(different.exitCode, String(different.stderr)).toBe(1);
		expect(String(different.stdout)).toMatch(/^1\/0 +4 +5 +1 +6 +2 µm +x 20 \.\. 22, y 20 \.\. 23 +different$/m);
		expect(String(different.stdout)).toMatch(/^different: 1 of 4 layers differs$/m);
		const same = await npx(['lyipc-diff', 'base.gds', 'identical_b.gds', '--json']);
		expect(same.exitCode, String(same.stderr)).toBe(0);
		expect(JSON.parse(String(same.stdout))).toMatchObject({status: 'identical', fastPath: null});
	});

	test('npx lyipc --help and --version', async () => {
		const help = await npx(['lyipc', '--help']);
		expect(help.exitCode, String(help.stderr)).toBe(0);
		expect(String(help.stdout)).toMatch(/^Usage: lyipc <command> \[options\]$/m);
		expect(String(help.stdout)).toMatch(/^ {2}server install /m);
		const {version} = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {version: string};
		const shown = await npx(['lyipc', '--version']);
		expect(String(shown.stdout).trim()).toBe(`lyipc ${version}`);
	});

	test('the library imports by its name', async () => {
		const script = "import {compareLayouts} from 'lyipc'; const r = await compareLayouts('base.gds', 'one_shape.gds', {outDir: 'out'}); console.log(r.status, r.differentLayers);";
		const library = await execa(process.execPath, ['--input-type=module', '-e', script], {cwd: project});
		expect(String(library.stdout)).toBe('different 1');
	});

	test("a Vitest run with the README's config: toMatchLayout passes on an equal layout and fails on a different one", async () => {
		// The README's config, under the name it gives: no warning about ESM in a CommonJS project.
		const [, name, config] = /```js\n\/\/ (vitest\.config\.\w+)\n([\s\S]*?)```/.exec(await readFile(path.join(ROOT, 'README.md'), 'utf8')) ?? [];
		expect(name).toBeDefined();
		await writeFile(path.join(project, name!), config!);
		await writeFile(
			path.join(project, 'ring.test.mjs'),
			[
				"import {expect, test} from 'vitest';",
				"test('same', async () => {\n  await expect('base.gds').toMatchLayout('identical_b.gds');\n});",
				"test('changed', async () => {\n  await expect('one_shape.gds').toMatchLayout('base.gds');\n});",
				'',
			].join('\n'),
		);
		const run = await execa(process.execPath, [path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run'], {cwd: project, reject: false, all: true, env: {CI: 'true', NO_COLOR: '1'}});
		const output = String(run.all);
		expect(run.exitCode, output).toBe(1);
		expect(output).toMatch(/1 failed \| 1 passed/);
		expect(output).toMatch(/FAIL .*ring\.test\.mjs > changed/);
		expect(output).toMatch(/1\/0/);
		// The plugin's source maps carry their sources: no warning about files the package does not ship.
		expect(output).not.toMatch(/source ?map/i);
		expect(output).not.toMatch(/ESM syntax|loaded as CommonJS/);
	});
});

describe('the package as a git dependency', () => {
	const tempDir = useTempDirs();

	// npm installs a git dependency in two steps (pacote 21.5.1, which npm 11 uses): lib/git.js
	// (#prepareDir, lines 160-200) clones it and runs `npm install` there, for its development
	// dependencies, when it has a prepare, prepack or install script; then lib/dir.js
	// (#prepareDir, lines 30-50) packs the clone and runs "*only* prepare", never prepack. The
	// second step is the one a directory installed with --install-links takes: a copy of the
	// sources with no dist/ and the development dependencies in place stands for the clone.
	test('npm builds it through prepare: the installed package has dist/ and its bins run', async () => {
		const dir = await tempDir();
		const clone = path.join(dir, 'clone');
		for (const name of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'reporters', 'klayout', 'docs', 'README.md', 'CHANGELOG.md', 'LICENSE']) {
			await cp(path.join(ROOT, name), path.join(clone, name), {recursive: true, filter: source => !source.includes('__pycache__')});
		}

		await symlink(path.join(ROOT, 'node_modules'), path.join(clone, 'node_modules'));
		const project = await emptyProject(dir);
		const install = await execa('npm', ['install', '--install-links', clone], {cwd: project, env: offlineNpm(dir), reject: false, all: true});
		expect(install.exitCode, String(install.all)).toBe(0);
		await access(path.join(project, 'node_modules', 'lyipc', 'dist', 'src', 'index.js'));
		const {version} = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {version: string};
		const shown = await execa('npx', ['lyipc-diff', '--version'], {cwd: project, reject: false, env: offlineNpm(dir)});
		expect(String(shown.stdout).trim(), String(shown.stderr)).toBe(`lyipc-diff ${version}`);
	}, 180_000);
});
