import {createHash} from 'node:crypto';
import path from 'node:path';
import {LyipcError} from '../errors.js';
import {layoutStem} from '../xor/artifacts.js';

export interface ReferencePlace {
	/** The reference layout. */
	reference: string;
	/** Where a failing comparison's XOR layout, marker database and pictures go. */
	diffDir: string;
	/** Their name stem: "<stem>.xor.gds", "<stem>.xor.png", ... */
	stem: string;
	/** Where lyipc 0.1 kept this reference (`__layouts__/<test file>/<file name>`), for a hint when only that exists. */
	legacy: string | undefined;
}

/** The test an assertion runs in: its full title (suites and test, " > " between) and an id per attempt. */
export interface TestIdentity {
	fullTitle: string;
	/** Unique per test; the same for every assertion in it. */
	id: string;
	/** Changes when Vitest runs the test again (retry, repeats): counters start over. */
	attempt: string;
}

const MAX_TITLE = 80;

/**
 * A test title as a folder name that is the same on every platform: letters, digits, `.`, `_`
 * and `-`; anything else becomes `-`. Long or emptied titles get a short hash of the title,
 * so that different titles stay apart.
 */
export function titleFolder(title: string): string {
	const plain = title
		.normalize('NFKD')
		.replaceAll(/[^\w.-]+/g, '-')
		.replaceAll(/-+/g, '-')
		.replace(/^[-.]+/, '')
		.replace(/-+$/, '');
	if (plain.length > 0 && plain.length <= MAX_TITLE) {
		return plain;
	}

	const hash = createHash('sha256').update(title).digest('hex').slice(0, 8);
	return `${plain.slice(0, MAX_TITLE - 9) || 'test'}-${hash}`;
}

/** "ring.gds" -> "ring-2.gds", "a.oas.gz" -> "a-3.oas.gz". */
function numbered(name: string, count: number): string {
	if (count === 1) {
		return name;
	}

	const stem = layoutStem(name);
	return `${stem}-${count}${name.slice(stem.length)}`;
}

/**
 * The references handed out in this process (one test file runs in one Vitest worker), so
 * that two tests never share an automatic reference and one test checking the same name twice
 * gets a counter, as Playwright and jest-image-snapshot do.
 */
export class ReferenceBook {
	readonly #owners = new Map<string, {id: string; title: string}>();
	readonly #counts = new Map<string, Map<string, number>>();

	/**
	 * Where the reference of `received` lives: by default
	 * `__layouts__/<test file name>/<test title>/<received file name>` beside the test file (the
	 * second check of the same name in one test: `<name>-2.gds`); an explicit `reference` is
	 * relative to the test file's folder. Failure artifacts go to `__diff__/` beside the reference.
	 */
	place(testFile: string, received: string, test: TestIdentity | undefined, reference?: string): ReferencePlace {
		const testDir = path.dirname(testFile);
		if (reference !== undefined) {
			return withDiff(path.resolve(testDir, reference), undefined);
		}

		const fileFolder = path.join(testDir, '__layouts__', path.basename(testFile));
		const legacy = path.join(fileFolder, path.basename(received));
		if (test === undefined) {
			return withDiff(legacy, undefined);
		}

		const counts = this.#countsOf(test);
		const name = path.basename(received);
		const count = (counts.get(name) ?? 0) + 1;
		counts.set(name, count);
		const file = path.join(fileFolder, titleFolder(test.fullTitle), numbered(name, count));
		const owner = this.#owners.get(file);
		if (owner && owner.id !== test.id) {
			throw new LyipcError('USAGE', `toMatchLayout: tests "${owner.title}" and "${test.fullTitle}" would share the reference ${file}; give the tests different titles or pass an explicit reference`, {
				path: file,
			});
		}

		this.#owners.set(file, {id: test.id, title: test.fullTitle});
		return withDiff(file, legacy);
	}

	#countsOf(test: TestIdentity): Map<string, number> {
		const key = `${test.id}\0${test.attempt}`;
		let counts = this.#counts.get(key);
		if (!counts) {
			counts = new Map();
			this.#counts.set(key, counts);
		}

		return counts;
	}
}

function withDiff(file: string, legacy: string | undefined): ReferencePlace {
	return {reference: file, diffDir: path.join(path.dirname(file), '__diff__'), stem: layoutStem(file), legacy};
}
