import {readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {describe, expect, test} from 'vitest';
import {ROOT, useTempDirs} from './helpers/run.js';
import {parseYamlSubset, type Yaml} from './helpers/yaml-subset.js';

type Mapping = {[key: string]: Yaml};

interface Step {
	job: string;
	index: number;
	step: Mapping;
}

function mapping(value: Yaml | undefined, what: string): Mapping {
	if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) {
		throw new Error(`${what} is not a mapping: ${JSON.stringify(value)}`);
	}

	return value;
}

function list(value: Yaml | undefined): Yaml[] {
	return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

async function readWorkflow(): Promise<Mapping> {
	return mapping(parseYamlSubset(await readFile(path.join(ROOT, '.github', 'workflows', 'release.yml'), 'utf8')), 'the workflow');
}

/** Every step of every job, in order. */
function steps(jobs: Mapping): Step[] {
	return Object.entries(jobs).flatMap(([job, body]) => list(mapping(body, `job ${job}`).steps).map((step, index) => ({job, index, step: mapping(step, `${job} step ${index}`)})));
}

/** The jobs `job` runs after: its `needs`, theirs, and so on. */
function before(jobs: Mapping, job: string): Set<string> {
	const seen = new Set<string>();
	const visit = (name: string) => {
		for (const need of list(mapping(jobs[name], `job ${name}`).needs)) {
			if (typeof need === 'string' && !seen.has(need)) {
				seen.add(need);
				visit(need);
			}
		}
	};
	visit(job);
	return seen;
}

describe('the release workflow (.github/workflows/release.yml)', () => {
	test('runs on version tags only', async () => {
		const workflow = await readWorkflow();
		const on = mapping(workflow.on, 'on');
		expect(Object.keys(on)).toEqual(['push']);
		const push = mapping(on.push, 'on.push');
		expect(Object.keys(push)).toEqual(['tags']);
		expect(list(push.tags)).toEqual(['v*']);
	});

	test('publishes once, with provenance, public, the token from secrets, after the tests passed', async () => {
		const workflow = await readWorkflow();
		const jobs = mapping(workflow.jobs, 'jobs');
		const all = steps(jobs);
		const run = (step: Step) => (typeof step.step.run === 'string' ? step.step.run : '');

		const publishes = all.filter(step => /\bnpm publish\b/.test(run(step)));
		expect(publishes).toHaveLength(1);
		const publish = publishes[0]!;
		expect(run(publish)).toMatch(/--provenance\b/);
		expect(run(publish)).toMatch(/--access public\b/);
		expect(mapping(publish.step.env, 'the publish step env').NODE_AUTH_TOKEN).toMatch(/^\$\{\{ secrets\.\w+ \}\}$/);

		// The tests CI runs (.ci/run: KLayout, Xvfb and the rest from apt-get, then npm test),
		// earlier in the publishing job or in a job it needs.
		const earlier = before(jobs, publish.job);
		const tests = all.filter(step => run(step).trim() === '.ci/run' && (earlier.has(step.job) || (step.job === publish.job && step.index < publish.index)));
		expect(tests.length).toBeGreaterThan(0);

		// setup-node's registry-url makes the .npmrc that reads NODE_AUTH_TOKEN.
		const setups = all.filter(step => step.job === publish.job && step.index < publish.index && String(step.step.uses).startsWith('actions/setup-node@'));
		expect(setups.map(step => mapping(step.step.with, 'setup-node with')['registry-url'])).toContain('https://registry.npmjs.org');

		// The tag must name the version being published.
		expect(all.some(step => step.job === publish.job && step.index < publish.index && /GITHUB_REF_NAME/.test(run(step)) && /version/.test(run(step)))).toBe(true);
	});

	test('only the publishing job may get an OIDC token (id-token: write), and it does', async () => {
		const workflow = await readWorkflow();
		const jobs = mapping(workflow.jobs, 'jobs');
		expect(mapping(workflow.permissions, 'permissions')['id-token']).toBeUndefined();
		const publishing = steps(jobs).find(step => /\bnpm publish\b/.test(String(step.step.run)))!.job;
		for (const [name, body] of Object.entries(jobs)) {
			const permissions = mapping(body, `job ${name}`).permissions;
			const idToken = permissions === undefined ? undefined : mapping(permissions, `job ${name} permissions`)['id-token'];
			expect(idToken, name).toBe(name === publishing ? 'write' : undefined);
		}
	});
});

describe("the release workflow's checks before publishing, run as GitHub runs a step (bash -eo pipefail)", () => {
	const tempDir = useTempDirs();

	/** Runs the `run` script of the publishing job's step named like `name` in a folder holding `manifest` as package.json. */
	async function runStep(name: RegExp, manifest: object, env: Record<string, string>) {
		const workflow = await readWorkflow();
		const step = steps(mapping(workflow.jobs, 'jobs')).find(candidate => name.test(String(candidate.step.name)));
		expect(step, String(name)).toBeDefined();
		const dir = await tempDir();
		await writeFile(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
		const run = await execa('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', String(step!.step.run)], {cwd: dir, reject: false, all: true, env});
		return {exitCode: run.exitCode, output: String(run.all), manifest: JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>};
	}

	const here = {GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'owner/lyipc'};

	test('the tag must be v and the version in package.json', async () => {
		expect((await runStep(/^The tag is/, {name: 'lyipc', version: '0.2.0'}, {GITHUB_REF_NAME: 'v0.2.0'})).exitCode).toBe(0);
		const wrong = await runStep(/^The tag is/, {name: 'lyipc', version: '0.2.0'}, {GITHUB_REF_NAME: 'v0.2.1'});
		expect(wrong.exitCode).toBe(1);
		expect(wrong.output).toMatch(/::error::the tag v0\.2\.1 is not v0\.2\.0, the version in package\.json/);
	});

	test('package.json gets this repository when it names none, and a package.json naming another one stops the release', async () => {
		const filled = await runStep(/^package\.json names this repository/, {name: 'lyipc', version: '0.2.0'}, here);
		expect(filled.exitCode, filled.output).toBe(0);
		expect(filled.manifest.repository).toEqual({type: 'git', url: 'git+https://github.com/owner/lyipc.git'});

		for (const repository of ['git+https://github.com/owner/lyipc.git', 'https://github.com/owner/lyipc', {type: 'git', url: 'https://github.com/owner/lyipc.git'}]) {
			const same = await runStep(/^package\.json names this repository/, {name: 'lyipc', version: '0.2.0', repository}, here);
			expect(same.exitCode, same.output).toBe(0);
			expect(same.manifest.repository).toEqual(repository);
		}

		const other = await runStep(/^package\.json names this repository/, {name: 'lyipc', version: '0.2.0', repository: {type: 'git', url: 'git+https://github.com/fork/lyipc.git'}}, here);
		expect(other.exitCode).toBe(1);
		expect(other.output).toMatch(/::error::package\.json's repository is https:\/\/github\.com\/fork\/lyipc\.git, but this is https:\/\/github\.com\/owner\/lyipc/);
	});
});

describe('the YAML reader the workflow test uses', () => {
	test('reads block YAML as PyYAML does with every scalar a string', () => {
		const source = ['# c', 'a: 1 # c', "'q k': 'it''s'", 'b:', '- x', '- y: 1', '  z:', '    - "s # s"', 'c: |', '  one', '    two # kept', '', '  three', 'd:', 'f: x#y', ''].join('\n');
		expect(parseYamlSubset(source)).toEqual({a: '1', 'q k': "it's", b: ['x', {y: '1', z: ['s # s']}], c: 'one\n  two # kept\n\nthree\n', d: null, f: 'x#y'});
	});

	test('refuses what it does not read instead of reading it wrong', () => {
		for (const [source, message] of [
			['a: [1, 2]', /line 1: YAML this reader does not take/],
			['a: &x 1', /line 1: YAML this reader does not take/],
			['a: |-\n  x', /line 1: YAML this reader does not take/],
			['a:\n  - - b', /line 2: YAML this reader does not take/],
			['a: 1\n   b: 2', /line 2: indented where nothing can start/],
			['a: 1\na: 2', /line 2: the key a twice/],
			['a:\n\t- b', /line 2: a tab in the indentation/],
			['a: "open', /line 1: an unclosed double-quoted string/],
		] as const) {
			expect(() => parseYamlSubset(source), source).toThrow(message);
		}
	});
});
