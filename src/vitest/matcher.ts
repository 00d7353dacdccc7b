import {readdir, rm, rmdir, stat} from 'node:fs/promises';
import path from 'node:path';
import type {MatcherState, RunnerTestCase as Test} from 'vitest';
import {toLyipcError} from '../errors.js';
import type {Pictures} from '../xor/pictures.js';
import type {CompareResult} from '../xor/result.js';
import {copyFileAtomically} from '../write-file-atomically.js';
import {runJob} from './pool-access.js';
import {ReferenceBook, type ReferencePlace, type TestIdentity} from './references.js';
import {matcherOptions, openChoice, type LayoutMatcherOptions} from './settings.js';
import {differs, plural} from '../format/text.js';

interface SyncExpectationResult {
	pass: boolean;
	message: () => string;
}

/** What Vitest gives a matcher; `snapshotState` and `task` are there inside a test. */
type LayoutMatcherState = MatcherState & {
	snapshotState?: {snapshotUpdateState?: 'all' | 'new' | 'none'};
	task?: Readonly<Test>;
};

const references = new ReferenceBook();

function identity(task: Readonly<Test> | undefined): TestIdentity | undefined {
	if (!task) {
		return undefined;
	}

	return {
		fullTitle: task.fullTestName ?? task.name,
		id: task.id,
		attempt: `${task.result?.retryCount ?? 0}/${task.result?.repeatCount ?? 0}`,
	};
}

/**
 * Fails the test when it ends before `work` settles: the assertion was not awaited, and would
 * otherwise pass without having compared anything. Vitest awaits `task.promises` right after
 * the test function returns; an entry still there then belongs to an assertion still running.
 */
function failUnlessAwaited(task: Readonly<Test> | undefined, work: Promise<unknown>, received: unknown): void {
	if (!task) {
		return;
	}

	const withPromises = task as {promises?: Array<PromiseLike<unknown>>};
	withPromises.promises ??= [];
	const promises = withPromises.promises;

	let settled = false;
	const guard: PromiseLike<void> = {
		// biome-ignore lint/suspicious/noThenProperty: a thenable on purpose: Vitest awaits it with the test's promises
		async then(onFulfilled, onRejected) {
			const outcome = settled
				? Promise.resolve()
				: Promise.reject(new Error(`toMatchLayout on ${String(received)} was not awaited: the test ended before the comparison did. Write \`await expect(...).toMatchLayout()\`.`));
			return outcome.then(onFulfilled, onRejected);
		},
	};
	promises.push(guard);
	const done = () => {
		settled = true;
		const index = promises.indexOf(guard);
		if (index !== -1) {
			promises.splice(index, 1);
		}
	};

	work.then(done, done);
}

/** Data left on `task.meta.lyipc` for reporters. */
export interface LayoutMatchMeta {
	received: string;
	reference: string;
	outcome: 'identical' | 'different' | 'written' | 'updated' | 'missing-reference' | 'error';
	differentLayers: string[];
	artifacts: {xor: string | null; rdb: string | null; pictures: Pictures | null};
}

function relative(file: string): string {
	const shown = path.relative(process.cwd(), file);
	return shown.startsWith('..') ? file : shown;
}

/** "1/0: 1 difference, 6 µm² in [20, 20, 22, 23] µm" per differing layer. */
function layerLines(result: CompareResult): string[] {
	return result.layers
		.filter(layer => layer.xorCount > 0)
		.map(layer => {
			const where = layer.bbox ? ` in [${layer.bbox.join(', ')}] µm` : '';
			return `${layer.key}: ${layer.xorCount} difference${layer.xorCount === 1 ? '' : 's'}, ${layer.xorArea} µm²${where} (A ${layer.countA} shapes, B ${layer.countB})`;
		});
}

/** The pictures of a failure, each with the name it is shown under. */
function namedPictures(pictures: Pictures | null): Array<[string, string]> {
	if (!pictures) {
		return [];
	}

	const named: Array<[string, string | null]> = [
		['picture A (reference)', pictures.a],
		['picture B (received)', pictures.b],
		['picture XOR (differences in red)', pictures.xor],
		['picture overview', pictures.overview],
		...pictures.closeups.map((file, index): [string, string] => [`picture XOR close-up ${index + 2}`, file]),
	];
	return named.filter((entry): entry is [string, string] => entry[1] !== null);
}

function pictureLines(pictures: Pictures | null): string[] {
	const named = namedPictures(pictures);
	const width = Math.max(0, ...named.map(([name]) => name.length)) + 2;
	return named.map(([name, file]) => `${`${name}:`.padEnd(width)}${file}`);
}

async function exists(file: string): Promise<boolean> {
	return (await stat(file).catch(() => undefined))?.isFile() ?? false;
}

/** Stale failure artifacts of this reference, from an earlier failing run. */
async function clearDiff(place: ReferencePlace): Promise<void> {
	const names = ['xor.gds', 'xor.oas', 'xor.lyrdb', 'a.png', 'b.png', 'xor.png', 'overview.png'].map(suffix => path.join(place.diffDir, `${place.stem}.${suffix}`));
	const closeups = (await readdir(place.diffDir).catch(() => [] as string[])).filter(name => name.startsWith(`${place.stem}.xor-`) && name.endsWith('.png'));
	await Promise.all([...names, ...closeups.map(name => path.join(place.diffDir, name))].map(async name => rm(name, {force: true})));
	await rmdir(place.diffDir).catch(() => undefined); // only if empty
}

async function note(task: Readonly<Test> | undefined, message: string, options: {attachment?: {path: string; contentType: string}; say?: boolean} = {}): Promise<void> {
	// Annotations reach reporters (JUnit, HTML, the terminal for failures); outside a test there is no task.
	await task?.context.annotate(message, 'lyipc', options.attachment).catch(() => undefined);
	if (options.say) {
		// A passing test's annotation stays out of the default terminal report; this line does not.
		console.warn(`lyipc: ${message}`);
	}
}

async function openInViewer(result: CompareResult | null, received: string): Promise<void> {
	try {
		if (result && !result.identical) {
			const {showDiffInViewer} = await import('../viewer/show-diff.js');
			await showDiffInViewer(result, {connectTimeout: 300});
			return;
		}

		const {ViewerClient} = await import('../viewer/client.js');
		const client = await ViewerClient.connect(undefined, {connectTimeout: 300});
		try {
			await client.show(received, {mode: 'new'});
		} finally {
			client.close();
		}
	} catch {
		// No viewer answering is the usual case in a test run: nothing to say.
	}
}

/**
 * `await expect('out/ring.gds').toMatchLayout(reference?, options?)`: the received layout
 * (a path, relative to the working directory) against its reference layout, with KLayout's
 * XOR. References are kept like snapshots (see ReferenceBook.place): a missing one is written
 * (not under CI, where the test fails), `vitest -u` rewrites differing ones, none is ever deleted.
 */
export async function toMatchLayout(this: LayoutMatcherState, received: unknown, reference?: string | LayoutMatcherOptions, callOptions?: LayoutMatcherOptions): Promise<SyncExpectationResult> {
	const work = typeof reference === 'object' ? matchLayout.call(this, received, undefined, reference) : matchLayout.call(this, received, reference, callOptions);
	failUnlessAwaited(this.task, work, received);
	return work;
}

async function matchLayout(this: LayoutMatcherState, received: unknown, reference?: string, callOptions?: LayoutMatcherOptions): Promise<SyncExpectationResult> {
	if (typeof received !== 'string') {
		throw new TypeError(`toMatchLayout: expected the path of a layout file, got ${this.utils.printReceived(received)}`);
	}

	if (!this.testPath) {
		throw new Error('toMatchLayout: no test file (call it inside a Vitest test)');
	}

	const options = await matcherOptions(callOptions, process.cwd());
	const {open, klayout, ...compare} = options;
	const file = path.resolve(received);
	const place = references.place(this.testPath, received, identity(this.task), reference);
	const update = this.snapshotState?.snapshotUpdateState ?? (process.env.CI ? 'none' : 'new');
	const task = this.task;
	const meta: LayoutMatchMeta = {received: file, reference: place.reference, outcome: 'error', differentLayers: [], artifacts: {xor: null, rdb: null, pictures: null}};
	const finish = (pass: boolean, message: string): SyncExpectationResult => {
		if (task) {
			(task.meta as {lyipc?: LayoutMatchMeta[]}).lyipc = [...((task.meta as {lyipc?: LayoutMatchMeta[]}).lyipc ?? []), meta];
		}

		return {pass, message: () => message};
	};

	if (!(await exists(file))) {
		return finish(false, `toMatchLayout: ${relative(file)}: no such layout file (the received path, relative to ${process.cwd()})`);
	}

	if (!(await exists(place.reference))) {
		if (place.legacy && update !== 'all' && (await exists(place.legacy))) {
			return finish(
				false,
				`toMatchLayout: the reference for ${relative(file)} is now named by test: ${relative(place.reference)}.\nA reference at the old place exists: move it (git mv ${relative(place.legacy)} ${relative(place.reference)}), or run vitest -u to write the new one.`,
			);
		}

		if (update === 'none') {
			meta.outcome = 'missing-reference';
			return finish(
				false,
				`toMatchLayout: no reference layout ${relative(place.reference)} for ${relative(file)}, and references are not written here${process.env.CI ? ' (CI)' : ''}.\nRun the test once locally (or with vitest -u) and commit the new reference.`,
			);
		}

		await copyFileAtomically(file, place.reference, 'the reference layout', {makeDir: true});
		meta.outcome = 'written';
		await note(task, `new reference layout written: ${relative(place.reference)}`, {say: true});
		return finish(true, `toMatchLayout: wrote the new reference ${relative(place.reference)}`);
	}

	let outcome: Awaited<ReturnType<typeof runJob>>;
	try {
		outcome = await runJob({
			a: place.reference,
			b: file,
			options: {...compare, klayout, outDir: place.diffDir},
			pictures: {dir: place.diffDir, stem: place.stem, titles: {pair: relative(file), a: relative(place.reference), b: relative(file)}},
		});
	} catch (error) {
		const failure = toLyipcError(error);
		return finish(false, `toMatchLayout: could not compare ${relative(file)} with ${relative(place.reference)}: ${failure.message}${failure.hint ? `\n${failure.hint}` : ''}`);
	}

	const {result, pictures} = outcome;
	// A file read without its context meta data: the answer stands, and the test says why.
	const readNotes = [
		[`reference ${relative(place.reference)}`, result.a.readNote],
		[relative(file), result.b.readNote],
	].flatMap(([name, text]) => (text ? [`${name}: ${text}`] : []));
	for (const text of readNotes) {
		await note(task, text);
	}

	const view = openChoice(open, process.env);
	if (result.identical) {
		meta.outcome = 'identical';
		await clearDiff(place);
		if (view === 'always') {
			await openInViewer(result, file);
		}

		return finish(true, `toMatchLayout: expected ${relative(file)} to differ from ${relative(place.reference)}, but the layouts are identical`);
	}

	meta.differentLayers = result.layers.filter(layer => layer.xorCount > 0).map(layer => layer.key);
	if (update === 'all') {
		await copyFileAtomically(file, place.reference, 'the reference layout', {makeDir: true});
		await clearDiff(place);
		meta.outcome = 'updated';
		await note(task, `reference layout updated: ${relative(place.reference)} (${meta.differentLayers.join(', ')} changed)`, {say: true});
		return finish(true, `toMatchLayout: updated the reference ${relative(place.reference)}`);
	}

	meta.outcome = 'different';
	meta.artifacts = {xor: result.artifacts.xor, rdb: result.artifacts.rdb, pictures};
	const lines = [
		`expected ${relative(file)} to match the reference layout ${relative(place.reference)}`,
		`${plural(result.differentLayers, 'layer')} ${differs(result.differentLayers)}:`,
		...layerLines(result).map(line => `  ${line}`),
		...readNotes,
		`XOR layout:      ${result.artifacts.xor ?? '(none)'}`,
		`marker database: ${result.artifacts.rdb ?? '(none)'}`,
		...pictureLines(pictures),
		'If the change is intended, update the reference: vitest -u',
	];
	await note(task, `XOR layout: ${result.artifacts.xor ?? ''}`);
	for (const [name, file] of namedPictures(pictures)) {
		await note(task, `${name}: ${relative(file)}`, {attachment: {path: file, contentType: 'image/png'}});
	}
	if (view !== 'never') {
		await openInViewer(result, file);
	}

	return finish(false, lines.join('\n'));
}
