import {chmod, copyFile, cp, mkdir, readdir, readFile, rm, symlink, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {expect, test} from 'vitest';
import type {} from '../../src/vitest/types.js';
import {ReferenceBook, titleFolder} from '../../src/vitest/references.js';
import {openChoice} from '../../src/vitest/settings.js';
import {currentView, redShare, useGuiViewer, v2Session, viewerStatus} from '../helpers/gui.js';
import {describeKLayout, fixture, ROOT, useTempDirs} from '../helpers/run.js';
import {CONTEXT_SKIPPED, skipsContextMeta} from '../helpers/newer-klayout.js';

const tempDir = useTempDirs('lyipc-vitest-');
const VITEST = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

interface Run {
	exitCode: number | undefined;
	output: string;
	report: {
		numFailedTests: number;
		numPassedTests: number;
		testResults: Array<{name: string; assertionResults: Array<{title: string; status: string; failureMessages: string[]; meta?: {lyipc?: Array<{outcome: string}>}}>}>;
	};
	starts: number;
}

/** A user's project using lyipc/vitest, set up in a temp folder as npm would install it. */
async function makeProject(): Promise<string> {
	const root = await tempDir();
	const project = path.join(root, 'project');
	await cp(path.join(ROOT, 'test', 'vitest', 'project'), project, {recursive: true});
	await mkdir(path.join(project, 'node_modules'));
	await symlink(ROOT, path.join(project, 'node_modules', 'lyipc'));
	await symlink(path.join(ROOT, 'node_modules', 'vitest'), path.join(project, 'node_modules', 'vitest'));
	await mkdir(path.join(project, 'out'));
	await mkdir(path.join(project, 'refs'));
	await copyFile(fixture('base.gds'), path.join(project, 'out', 'ring.gds'));
	// chip differs from its reference on layer 1/0 only; the tests compare other layers.
	await copyFile(fixture('one_shape.gds'), path.join(project, 'out', 'chip.gds'));
	await copyFile(fixture('base.gds'), path.join(project, 'refs', 'chip.gds'));
	// KLayout behind a script that counts the workers started.
	const wrapper = path.join(root, 'klayout-counting');
	await writeFile(wrapper, `#!/bin/sh\ncase "$*" in *worker.py*) echo start >> "${path.join(root, 'starts.log')}" ;; esac\nexec klayout "$@"\n`);
	await chmod(wrapper, 0o755);
	return project;
}

/** Runs Vitest in the project as its user would, with a clean environment (no outer Vitest). */
async function vitest(project: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
	const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(VITEST|TEST$|NODE_ENV$|CI$)/.test(key)));
	const reportFile = path.join(project, '..', 'report.json');
	await rm(reportFile, {force: true});
	await rm(path.join(project, '..', 'starts.log'), {force: true});
	const run = await execa(process.execPath, [VITEST, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`, ...args], {
		cwd: project,
		reject: false,
		all: true,
		extendEnv: false,
		timeout: 180_000,
		env: {...clean, KLAYOUT: path.join(project, '..', 'klayout-counting'), NO_COLOR: '1', ...env},
	});
	const starts = (await readFile(path.join(project, '..', 'starts.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
	return {exitCode: run.exitCode, output: String(run.all), report: JSON.parse(await readFile(reportFile, 'utf8')) as Run['report'], starts};
}

function results(run: Run): Record<string, string> {
	return Object.fromEntries(run.report.testResults.flatMap(file => file.assertionResults.map(result => [`${path.basename(file.name)} > ${result.title}`, result.status])));
}

const RING_TITLE = 'the-ring-layout-matches-its-reference';
const ring = (project: string) => path.join(project, '__layouts__', 'ring.test.mjs', RING_TITLE, 'ring.gds');

describeKLayout('toMatchLayout in a project run by Vitest', () => {
	test('new references: written locally (and said so), failing under CI=true with nothing written', async () => {
		const project = await makeProject();
		await rm(path.join(project, 'many.test.mjs'));
		await rm(path.join(project, 'refs', 'chip.gds'));

		const ci = await vitest(project, [], {CI: 'true'});
		expect(ci.exitCode, ci.output).toBe(1);
		expect(results(ci)).toEqual({
			'ring.test.mjs > the ring layout matches its reference': 'failed',
			'ring.test.mjs > an explicit reference, relative to this file, and per-call options': 'failed',
		});
		expect(ci.output).toContain(`toMatchLayout: no reference layout __layouts__/ring.test.mjs/${RING_TITLE}/ring.gds for out/ring.gds, and references are not written here (CI).`);
		expect(ci.output).toContain('no reference layout refs/chip.gds');
		expect(await readdir(project)).not.toContain('__layouts__');
		expect(ci.starts).toBe(0); // nothing to compare: no KLayout

		const local = await vitest(project, []);
		expect(local.exitCode, local.output).toBe(0);
		expect(local.output).toContain(`new reference layout written: __layouts__/ring.test.mjs/${RING_TITLE}/ring.gds`);
		expect(await readFile(ring(project))).toEqual(await readFile(fixture('base.gds')));
		expect(await readFile(path.join(project, 'refs', 'chip.gds'))).toEqual(await readFile(fixture('one_shape.gds')));

		const again = await vitest(project, [], {CI: 'true'}); // the references now exist: CI passes
		expect(again.exitCode, again.output).toBe(0);
		expect(again.report.numPassedTests).toBe(2);
	});

	test('a real difference fails with the layers and artifact paths; vitest -u updates the reference', async () => {
		const project = await makeProject();
		await rm(path.join(project, 'many.test.mjs'));
		await mkdir(path.dirname(ring(project)), {recursive: true});
		await copyFile(fixture('base.gds'), ring(project));
		await copyFile(fixture('via_changed.gds'), path.join(project, 'out', 'ring.gds'));

		const failing = await vitest(project, [], {CI: 'true'});
		expect(failing.exitCode, failing.output).toBe(1);
		expect(results(failing)['ring.test.mjs > the ring layout matches its reference']).toBe('failed');
		expect(results(failing)['ring.test.mjs > an explicit reference, relative to this file, and per-call options']).toBe('passed');
		const diff = path.join(path.dirname(ring(project)), '__diff__');
		const message = failing.report.testResults[0]!.assertionResults.find(result => result.status === 'failed')!.failureMessages.join('\n');
		expect(message).toContain(`expected out/ring.gds to match the reference layout __layouts__/ring.test.mjs/${RING_TITLE}/ring.gds`);
		expect(message).toMatch(/1 layer differs:\n {2}4\/0: 10 differences, 2\.5 µm² in \[[\d., ]+\] µm \(A 10 shapes, B 20\)/);
		expect(message).toContain(`XOR layout:      ${path.join(diff, 'ring.xor.gds')}`);
		expect(message).toContain(`marker database: ${path.join(diff, 'ring.xor.lyrdb')}`);
		expect(message).toContain('If the change is intended, update the reference: vitest -u');
		expect((await readdir(diff)).sort()).toEqual(['ring.a.png', 'ring.b.png', 'ring.overview.png', 'ring.xor-2.png', 'ring.xor.gds', 'ring.xor.lyrdb', 'ring.xor.png']);
		// The pictures, each named, in the message.
		expect(message).toContain(`picture A (reference):            ${path.join(diff, 'ring.a.png')}`);
		expect(message).toContain(`picture B (received):             ${path.join(diff, 'ring.b.png')}`);
		expect(message).toContain(`picture XOR (differences in red): ${path.join(diff, 'ring.xor.png')}`);
		expect(message).toContain(`picture overview:                 ${path.join(diff, 'ring.overview.png')}`);
		// Attached to the test: the annotation (with the XOR picture) and task.meta for reporters.
		expect(failing.output).toContain(`XOR layout: ${path.join(diff, 'ring.xor.gds')}`);
		expect(failing.report.testResults[0]!.assertionResults.find(result => result.status === 'failed')!.meta?.lyipc?.[0]?.outcome).toBe('different');

		const updated = await vitest(project, ['-u']);
		expect(updated.exitCode, updated.output).toBe(0);
		expect(updated.output).toContain(`reference layout updated: __layouts__/ring.test.mjs/${RING_TITLE}/ring.gds (4/0 changed)`);
		expect(await readFile(ring(project))).toEqual(await readFile(fixture('via_changed.gds')));
		expect(await readdir(path.dirname(ring(project)))).toEqual(['ring.gds']); // stale artifacts gone
		expect((await vitest(project, [], {CI: 'true'})).exitCode).toBe(0);
	});

	test('files from a newer KLayout: compared without their context meta data, and the failure and the annotations say so', async () => {
		const project = await makeProject();
		await rm(path.join(project, 'many.test.mjs'));
		await mkdir(path.dirname(ring(project)), {recursive: true});
		await copyFile(fixture('newer_klayout_a.gds'), ring(project));
		await copyFile(fixture('newer_klayout_b.gds'), path.join(project, 'out', 'ring.gds'));
		const failing = await vitest(project, ['ring.test.mjs', '-t', 'the ring layout'], {CI: 'true'});
		expect(failing.exitCode, failing.output).toBe(1);
		const message = failing.report.testResults[0]!.assertionResults.find(result => result.status === 'failed')!.failureMessages.join('\n');
		expect(message).toMatch(/1 layer differs:\n {2}2\/0: 1 difference/);
		// The project's KLayout (behind the counting wrapper): before 0.29 it cannot read the context cell.
		const {stdout} = await execa(path.join(project, '..', 'klayout-counting'), ['-b', '-v']);
		if (!skipsContextMeta(stdout.replace(/^KLayout /, ''))) {
			expect(message).not.toContain(CONTEXT_SKIPPED);
			return;
		}

		expect(message).toContain(`reference __layouts__/ring.test.mjs/${RING_TITLE}/ring.gds: ${CONTEXT_SKIPPED}\nout/ring.gds: ${CONTEXT_SKIPPED}\n`);
		expect(failing.output).toContain(`out/ring.gds: ${CONTEXT_SKIPPED}`);
	});

	test('fifty assertions and two test files share one pool: `workers` KLayouts for the whole run', async () => {
		const project = await makeProject();
		await mkdir(path.dirname(ring(project)), {recursive: true});
		await copyFile(fixture('base.gds'), ring(project));
		await writeFile(path.join(project, 'lyipc.config.json'), JSON.stringify({workers: 1, open: 'never'}));
		const run = await vitest(project, [], {CI: 'true'});
		expect(run.exitCode, run.output).toBe(0);
		expect(run.report.numPassedTests).toBe(3);
		expect(run.starts).toBe(1); // 51 comparisons in two test files (two test workers): one KLayout

		// Without the plugin's global setup, each test worker keeps one KLayout of its own.
		const setupOnly = await vitest(project, ['--config', 'setup-only.config.mjs'], {CI: 'true'});
		expect(setupOnly.exitCode, setupOnly.output).toBe(0);
		expect(setupOnly.starts).toBeGreaterThanOrEqual(1);
		expect(setupOnly.starts).toBeLessThanOrEqual(2); // two test files
	});
});

describeKLayout('references that cannot collide, assertions that must be awaited', () => {
	test('two corners with one file name in one test: two references; tests with one title: an error; an un-awaited assertion fails its test', async () => {
		const project = await makeProject();
		await mkdir(path.join(project, 'out', 'a'));
		await mkdir(path.join(project, 'out', 'b'));
		await copyFile(fixture('base.gds'), path.join(project, 'out', 'a', 'cell.gds'));
		await copyFile(fixture('via_changed.gds'), path.join(project, 'out', 'b', 'cell.gds'));
		const args = ['--config', 'trust.config.mjs'];
		const first = await vitest(project, args);
		const folder = path.join(project, 'trust', '__layouts__', 'corners.test.mjs', 'cell-corners-a-and-b');
		expect((await readdir(folder)).sort()).toEqual(['cell-2.gds', 'cell.gds']);
		expect(await readFile(path.join(folder, 'cell.gds'))).toEqual(await readFile(fixture('base.gds')));
		expect(await readFile(path.join(folder, 'cell-2.gds'))).toEqual(await readFile(fixture('via_changed.gds')));
		const outcome = results(first);
		expect(outcome['corners.test.mjs > corners a and b']).toBe('passed');
		expect(outcome['twins.test.mjs > same title']).toBeDefined();
		const twins = first.report.testResults.find(file => file.name.endsWith('twins.test.mjs'))!.assertionResults;
		expect(twins.map(result => result.status)).toEqual(['passed', 'failed']);
		expect(twins[1]!.failureMessages.join('\n')).toMatch(/tests "same title" and "same title" would share the reference .*same-title\/ring\.gds/);
		const unawaited = first.report.testResults.find(file => file.name.endsWith('unawaited.test.mjs'))!.assertionResults[0]!;
		expect(unawaited.status).toBe('failed');
		expect(unawaited.failureMessages.join('\n')).toContain('toMatchLayout on out/ring.gds was not awaited');

		// Each corner against its own reference, both ways round.
		const again = await vitest(project, [...args, 'trust/corners.test.mjs'], {CI: 'true'});
		expect(again.exitCode, again.output).toBe(0);
		await copyFile(fixture('base.gds'), path.join(project, 'out', 'b', 'cell.gds'));
		const changed = await vitest(project, [...args, 'trust/corners.test.mjs'], {CI: 'true'});
		expect(changed.exitCode).toBe(1);
		expect(changed.report.testResults[0]!.assertionResults[0]!.failureMessages.join('\n')).toContain('cell-corners-a-and-b/cell-2.gds');
	});

	test('a reference at the place lyipc 0.1 used: the test fails and says how to move it', async () => {
		const project = await makeProject();
		await rm(path.join(project, 'many.test.mjs'));
		await mkdir(path.join(project, '__layouts__', 'ring.test.mjs'), {recursive: true});
		await copyFile(fixture('base.gds'), path.join(project, '__layouts__', 'ring.test.mjs', 'ring.gds'));
		const run = await vitest(project, ['ring.test.mjs', '-t', 'the ring layout']);
		expect(run.exitCode).toBe(1);
		expect(run.output).toContain(`git mv __layouts__/ring.test.mjs/ring.gds __layouts__/ring.test.mjs/${RING_TITLE}/ring.gds`);
		expect(await readdir(path.join(project, '__layouts__', 'ring.test.mjs'))).toEqual(['ring.gds']); // nothing written
	});
});

describeKLayout('toMatchLayout with a KLayout viewer running', () => {
	const gui = useGuiViewer();

	test('a failure opens A, B and the XOR in the viewer; LYIPC_OPEN=never keeps it shut', async () => {
		const project = await makeProject();
		await rm(path.join(project, 'many.test.mjs'));
		await writeFile(path.join(project, 'lyipc.config.json'), '{}'); // open: on-failure, the default
		await mkdir(path.dirname(ring(project)), {recursive: true});
		await copyFile(fixture('base.gds'), ring(project));
		await copyFile(fixture('one_shape.gds'), path.join(project, 'out', 'ring.gds'));
		const env = {LYIPC_PORT: String(gui.viewer.port)}; // not CI: a developer's machine

		const shut = await vitest(project, [], {...env, LYIPC_OPEN: 'never'});
		expect(shut.exitCode, shut.output).toBe(1);
		expect((await viewerStatus(gui.viewer.port)).views).toHaveLength(0);

		const failing = await vitest(project, [], env);
		expect(failing.exitCode, failing.output).toBe(1);
		const view = currentView(await viewerStatus(gui.viewer.port));
		const diff = path.join(path.dirname(ring(project)), '__diff__');
		expect(view.cellviews.map(cellview => cellview.file)).toEqual([ring(project), path.join(project, 'out', 'ring.gds'), path.join(diff, 'ring.xor.gds')]);
		expect(view.markerDatabases).toEqual(['ring.xor.lyrdb']);
		const shot = path.join(project, 'viewer.png');
		const [reply] = await v2Session(gui.viewer.port, [{id: 1, method: 'screenshot', params: {width: 400, height: 300, path: shot}}]);
		expect(reply?.ok, JSON.stringify(reply)).toBe(true);
		expect(await redShare(shot)).toBeGreaterThan(0.05); // the XOR, solid red, zoomed to
	});
});

test('reference places: __layouts__/<test file>/<test title>/<name>, a counter for a second check of one name, explicit ones relative to the test file', () => {
	const book = new ReferenceBook();
	const test1 = {fullTitle: 'rings > corner a', id: 't1', attempt: '0/0'};
	expect(book.place('/p/test/ring.test.ts', 'out/ring.gds', test1)).toEqual({
		reference: '/p/test/__layouts__/ring.test.ts/rings-corner-a/ring.gds',
		diffDir: '/p/test/__layouts__/ring.test.ts/rings-corner-a/__diff__',
		stem: 'ring',
		legacy: '/p/test/__layouts__/ring.test.ts/ring.gds',
	});
	expect(book.place('/p/test/ring.test.ts', 'out/b/ring.gds', test1).reference).toBe('/p/test/__layouts__/ring.test.ts/rings-corner-a/ring-2.gds');
	expect(book.place('/p/test/ring.test.ts', 'out/c.oas.gz', test1).reference).toBe('/p/test/__layouts__/ring.test.ts/rings-corner-a/c.oas.gz');
	// A retry starts counting again.
	expect(book.place('/p/test/ring.test.ts', 'out/ring.gds', {...test1, attempt: '1/0'}).reference).toBe('/p/test/__layouts__/ring.test.ts/rings-corner-a/ring.gds');
	// Another test whose title comes out the same: an error, not a shared reference.
	expect(() => book.place('/p/test/ring.test.ts', 'out/ring.gds', {fullTitle: 'rings > corner/a', id: 't2', attempt: '0/0'})).toThrow(
		/tests "rings > corner a" and "rings > corner\/a" would share the reference/,
	);
	expect(book.place('/p/test/ring.test.ts', 'out/ring.oas.gz', test1, '../refs/r.oas.gz')).toEqual({
		reference: '/p/refs/r.oas.gz',
		diffDir: '/p/refs/__diff__',
		stem: 'r',
		legacy: undefined,
	});
	expect(titleFolder('x'.repeat(200))).toMatch(/^x{71}-[\da-f]{8}$/);
	expect(titleFolder('Ring: ü 1.5 µm?')).toBe('Ring-u-1.5-m');
	expect(titleFolder('???')).toMatch(/^test-[\da-f]{8}$/);
});

test('when a failure opens in the viewer: never under CI, else LYIPC_OPEN, else the option', () => {
	expect(openChoice(undefined, {})).toBe('on-failure');
	expect(openChoice('always', {})).toBe('always');
	expect(openChoice('always', {LYIPC_OPEN: 'never'})).toBe('never');
	expect(openChoice('always', {CI: 'true', LYIPC_OPEN: 'always'})).toBe('never');
	expect(() => openChoice(undefined, {LYIPC_OPEN: 'sometimes'})).toThrow(/LYIPC_OPEN: expected one of on-failure, never, always/);
});

// Type-checked by `npm run typecheck` (never run): the Matchers augmentation for Vitest 4.
export async function typesOnly(): Promise<void> {
	await expect('out/ring.gds').toMatchLayout();
	await expect('out/ring.gds').toMatchLayout('refs/ring.gds', {tolerance: 0.001, layers: ['1/0'], mode: 'deep', open: 'never'});
	await expect('out/ring.gds').toMatchLayout({topA: 'TOP', timeout: 60_000});
	// @ts-expect-error: a misspelt option is a type error
	await expect('out/ring.gds').toMatchLayout({tolerence: 1});
}
