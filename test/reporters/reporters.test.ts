import {XMLParser, XMLValidator} from 'fast-xml-parser';
import {expect, test} from 'vitest';
import {renderHtml} from '../../src/reporters/html.js';
import {createReporter, parseReporterSpecs} from '../../src/reporters/index.js';
import type {PairOutcome, SuiteResult} from '../../src/suite/run-suite.js';

/** A stream that keeps what is written, with or without a terminal behind it. */
function sink(isTTY: boolean): NodeJS.WritableStream & {isTTY: boolean; text: string} {
	const stream = {
		isTTY,
		text: '',
		write(chunk: string) {
			stream.text += chunk;
			return true;
		},
	};
	return stream as unknown as NodeJS.WritableStream & {isTTY: boolean; text: string};
}

function pair(path: string, status: PairOutcome['status'], extra: Partial<PairOutcome> = {}): PairOutcome {
	return {path, status, reference: `/ref/${path}`, output: `/run/${path}`, result: null, error: null, pictures: null, ms: 5, ...extra};
}

const PAIRS = [
	pair('a.gds', 'identical'),
	pair('b <&> "c".gds', 'error', {error: {code: 'READ_ERROR', message: 'bad \u0001 bytes & <tags>'}}),
	pair('d.gds', 'missing-output', {output: null}),
];
const RESULT: SuiteResult = {
	formatVersion: 1,
	status: 'error',
	referenceDir: '/ref',
	outputDir: '/run',
	outDir: '/out',
	counts: {total: 3, identical: 1, different: 0, missingReference: 0, missingOutput: 1, error: 1},
	pairs: PAIRS,
	workers: {size: 2, started: 1},
	timings: {totalMs: 1234},
};

async function runConsole(tty: boolean, env: NodeJS.ProcessEnv = {}): Promise<{stdout: string; stderr: string}> {
	const io = {stdout: sink(tty), stderr: sink(tty), env};
	const reporter = createReporter({name: 'console', file: undefined}, io);
	reporter.onEvent!({type: 'start', total: 3});
	PAIRS.forEach((outcome, index) => reporter.onEvent!({type: 'pair', pair: outcome, done: index + 1, total: 3, failures: index}));
	await reporter.onEnd(RESULT);
	return {stdout: io.stdout.text, stderr: io.stderr.text};
}

test('console on a terminal: a live progress line on stderr, cleared at the end', async () => {
	const {stdout, stderr} = await runConsole(true);
	expect(stderr).toContain('\r\u001B[K');
	expect(stderr).toMatch(/3\/3 compared, .*2 failing.*, ETA 0 s/);
	expect(stderr.endsWith('\r\u001B[K')).toBe(true);
	expect(stdout).toContain('3 pairs: 1 identical, 1 missing output, 1 could not be compared (1.2 s, 1 KLayout worker)');
});

test('console piped or under CI=true: no escape codes, one line per failing pair as it fails', async () => {
	for (const {stdout, stderr} of [await runConsole(false), await runConsole(true, {CI: 'true', NO_COLOR: '1'})]) {
		expect(stdout + stderr).not.toMatch(/\u001B/);
		expect(stderr).toBe('');
		expect(stdout.split('\n').slice(0, 2)).toEqual(['error              b <&> "c".gds', 'missing output     d.gds']);
	}
});

test('JUnit: valid XML whatever the names and messages hold; failures and errors counted apart', async () => {
	const stdout = sink(false);
	await createReporter({name: 'junit', file: undefined}, {stdout, stderr: sink(false), env: {}}).onEnd(RESULT);
	expect(XMLValidator.validate(stdout.text)).toBe(true);
	const xml = new XMLParser({ignoreAttributes: false, attributeNamePrefix: ''}).parse(stdout.text) as {testsuites: {tests: string; failures: string; errors: string; testsuite: {testcase: Array<{name: string; error?: {message: string}}>}}};
	expect(xml.testsuites).toMatchObject({tests: '3', failures: '1', errors: '1'});
	expect(xml.testsuites.testsuite.testcase[1]).toMatchObject({name: 'b <&> "c".gds', error: {message: 'could not compare: bad  bytes & <tags>'}});
});

test('reporter specs: NAME[=PATH], one report on stdout at most', () => {
	expect(parseReporterSpecs(['console', 'junit=out/r.xml', 'markdown=a=b.md'])).toEqual([
		{name: 'console', file: undefined}, {name: 'junit', file: 'out/r.xml'}, {name: 'markdown', file: 'a=b.md'},
	]);
	expect(() => parseReporterSpecs(['console', 'markdown'])).toThrow(/console and markdown would both write to stdout/);
	expect(() => parseReporterSpecs(['console=x'])).toThrow(/console reporter writes to the terminal/);
});

test('HTML: names and messages escaped, a picture that could not be drawn says why', async () => {
	const withError = {...RESULT, pairs: RESULT.pairs.map(outcome => outcome.status === 'missing-output' ? {...outcome, pictures: {a: null, b: null, xor: null, error: 'no pictures: KLayout <died>'}} : outcome)};
	const html = await renderHtml(withError);
	expect(html).toContain('b &lt;&amp;&gt; &quot;c&quot;.gds');
	expect(html).not.toContain('<&>');
	expect(html).toContain('bad  bytes &amp; &lt;tags&gt;');
	expect(html).toContain('<p class="note">no pictures: KLayout &lt;died&gt;</p>');
	expect(html).not.toContain('<img');
	expect(html).toMatch(/<title>lyipc-diff: 2 of 3 failing<\/title>/);
});
