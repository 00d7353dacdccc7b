import {mkdtemp, readFile, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {execa} from 'execa';
import {XMLParser, XMLValidator} from 'fast-xml-parser';
import {expect, test} from 'vitest';
import {renderHtml} from '../../reporters/html.js';
import {createReporter, parseReporterSpecs} from '../../reporters/index.js';
import {noMatchHint, type PairOutcome, type SuiteResult} from '../../src/suite/run-suite.js';
import type {LayerResult} from '../../src/xor/result.js';
import {layer, result} from '../helpers/results.js';
import {describeNeeding} from '../helpers/skip.js';
import type {Pictures} from '../../src/xor/pictures.js';
import {CONTEXT_SKIPPED} from '../helpers/newer-klayout.js';

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
	return {path, status, reference: `/ref/${path}`, output: `/run/${path}`, result: null, error: null, pictures: null, ms: 5, queueMs: 0, attempts: 1, ...extra};
}

const PAIRS = [pair('a.gds', 'identical'), pair('b <&> "c".gds', 'error', {error: {code: 'READ_ERROR', message: 'bad \u0001 bytes & <tags>'}}), pair('d.gds', 'missing-output', {output: null})];
const RESULT: SuiteResult = {
	formatVersion: 2,
	status: 'error',
	referenceDir: '/ref',
	outputDir: '/run',
	outDir: '/out',
	counts: {total: 3, identical: 1, different: 0, missingReference: 0, missingOutput: 1, error: 1},
	pairs: PAIRS,
	hint: null,
	workers: {size: 2, started: 1, warm: false},
	timings: {totalMs: 1234, startupMs: 0},
	shard: null,
};

async function runConsole(tty: boolean, env: NodeJS.ProcessEnv = {}): Promise<{stdout: string; stderr: string}> {
	const io = {stdout: sink(tty), stderr: sink(tty), env};
	const reporter = createReporter({name: 'console', file: undefined}, io);
	reporter.onEvent!({type: 'start', total: 3});
	for (const [index, outcome] of PAIRS.entries()) {
		reporter.onEvent!({type: 'pair', pair: outcome, done: index + 1, total: 3, failures: index});
	}
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
		// biome-ignore lint/suspicious/noControlCharactersInRegex: no terminal escape without a terminal
		expect(stdout + stderr).not.toMatch(/\u001B/);
		expect(stderr).toBe('');
		expect(stdout.split('\n').slice(0, 2)).toEqual(['error              b <&> "c".gds', 'missing output     d.gds']);
	}
});

test('JUnit: valid XML whatever the names and messages hold; failures and errors counted apart', async () => {
	const stdout = sink(false);
	await createReporter({name: 'junit', file: undefined}, {stdout, stderr: sink(false), env: {}}).onEnd(RESULT);
	expect(XMLValidator.validate(stdout.text)).toBe(true);
	const xml = new XMLParser({ignoreAttributes: false, attributeNamePrefix: ''}).parse(stdout.text) as {
		testsuites: {tests: string; failures: string; errors: string; testsuite: {testcase: Array<{name: string; error?: {message: string}}>}};
	};
	expect(xml.testsuites).toMatchObject({tests: '3', failures: '1', errors: '1'});
	expect(xml.testsuites.testsuite.testcase[1]).toMatchObject({name: 'b <&> "c".gds', error: {message: 'could not compare: bad  bytes & <tags>'}});
});

const NO_PICTURES: Pictures = {a: null, b: null, xor: null, overview: null, closeups: [], boxes: [], groups: 0, size: {width: 480, height: 360}, scale: 2, error: null};

/** A differing pair with its artifacts and pictures in the report folder /work/report. */
const PICTURED: SuiteResult = {
	...RESULT,
	status: 'different',
	outDir: '/work/report',
	counts: {total: 1, identical: 0, different: 1, missingReference: 0, missingOutput: 0, error: 0},
	pairs: [
		pair('cells/ring.gds', 'different', {
			ms: 40,
			queueMs: 2000,
			reference: '/work/ref/cells/ring.gds',
			output: '/work/run/cells/ring.gds',
			pictures: {
				...NO_PICTURES,
				overview: '/work/report/cells/ring.overview.png',
				a: '/work/report/cells/ring.a.png',
				b: '/work/report/cells/ring.b.png',
				xor: '/work/report/cells/ring.xor.png',
				closeups: ['/work/report/cells/ring.xor-2.png'],
				groups: 2,
			},
		}),
	],
};

test('links are relative to the report, so the uploaded folder works: HTML, Markdown, JUnit', async () => {
	const html = renderHtml(PICTURED, '/work/report');
	expect(html).toContain('src="cells/ring.overview.png"');
	expect(html).toContain('src="cells/ring.xor-2.png"');
	expect(html).toContain('href="../ref/cells/ring.gds"');
	expect(html).not.toMatch(/(src|href)="\/work/);
	// A click enlarges: each picture links to its own full-size view, drawn at 2x.
	const zoom = /<a href="#(zoom-\d+)" title="enlarge"><img src="cells\/ring\.a\.png" width="480" height="360"/.exec(html);
	expect(zoom).not.toBeNull();
	expect(html).toContain(`<div class="zoom" id="${zoom![1]}">`);
	expect(html).toMatch(new RegExp(`id="${zoom![1]}">.*?<img src="cells/ring\\.a\\.png" width="960" height="720"`));

	const io = {stdout: sink(false), stderr: sink(false), env: {}};
	const dir = await mkdtemp(path.join(tmpdir(), 'lyipc-reporters-'));
	try {
		const within = {
			...PICTURED,
			outDir: dir,
			pairs: PICTURED.pairs.map(outcome => ({...outcome, reference: `${dir}/ref/ring.gds`, result: null, pictures: {...outcome.pictures!, overview: `${dir}/report/ring.overview.png`}})),
		};
		await createReporter({name: 'markdown', file: `${dir}/report/summary.md`}, io).onEnd(within);
		// A CI resolves attachments from the project's folder (GitLab's $CI_PROJECT_DIR), not from the report's.
		await createReporter({name: 'junit', file: `${dir}/report/junit.xml`}, {...io, env: {CI_PROJECT_DIR: dir}}).onEnd(within);
		const markdown = await readFile(`${dir}/report/summary.md`, 'utf8');
		const junit = await readFile(`${dir}/report/junit.xml`, 'utf8');
		expect(markdown).toContain('[picture](ring.overview.png)');
		expect(junit).toContain('reference: ../ref/ring.gds');
		expect(junit).toContain('\n[[ATTACHMENT|report/ring.overview.png]]\n');
		expect(markdown + junit).not.toContain(dir);
	} finally {
		await rm(dir, {recursive: true, force: true});
	}
});

test('close-ups are counted as the pictures count them: the ones drawn, not the groups found', () => {
	const pictured = PICTURED.pairs[0]!;
	const result = {
		...PICTURED,
		pairs: [
			{
				...pictured,
				pictures: {
					...pictured.pictures!,
					groups: 6,
					boxes: [
						[0, 0, 1, 1],
						[2, 2, 3, 3],
					],
				},
			},
		],
	};
	const html = renderHtml(result, '/work/report');
	expect(html).toContain('XOR: close-up 1 of 2, differences in red');
	expect(html).toContain('XOR: close-up 2 of 2');
	expect(html).not.toContain('of 6');
});

test('pictures skipped over the budget: HTML, Markdown and JUnit say so for the pair', async () => {
	const skipped = 'pictures skipped: too many differences to draw in 30 s';
	const result = {...PICTURED, pairs: PICTURED.pairs.map(outcome => ({...outcome, pictures: {...NO_PICTURES, error: skipped}}))};
	expect(renderHtml(result, '/work/report')).toContain(`<p class="note">${skipped}</p>`);
	const markdown = sink(false);
	const junit = sink(false);
	await createReporter({name: 'markdown', file: undefined}, {stdout: markdown, stderr: sink(false), env: {}}).onEnd(result);
	await createReporter({name: 'junit', file: undefined}, {stdout: junit, stderr: sink(false), env: {}}).onEnd(result);
	expect(markdown.text).toContain(skipped);
	expect(junit.text).toContain(skipped);
});

test('the no-match hint reaches the HTML and Markdown reports too', async () => {
	const hinted = {...RESULT, hint: 'no relative path is in both folders <here>'};
	expect(renderHtml(hinted)).toContain('<strong>Hint:</strong> no relative path is in both folders &lt;here&gt;');
	const stdout = sink(false);
	await createReporter({name: 'markdown', file: undefined}, {stdout, stderr: sink(false), env: {}}).onEnd(hinted);
	expect(stdout.text).toContain('> **Hint:** no relative path is in both folders \\<here\\>');
});

test("JUnit times are each pair's own comparison time, not the wait for a worker", async () => {
	const stdout = sink(false);
	await createReporter({name: 'junit', file: undefined}, {stdout, stderr: sink(false), env: {}}).onEnd(PICTURED);
	expect(stdout.text).toContain('name="cells/ring.gds" time="0.040"');
});

test('a hint when no relative path is in both folders, naming the folder level that would match', () => {
	const only = (path: string, side: 'reference' | 'output') => pair(path, side === 'reference' ? 'missing-output' : 'missing-reference', side === 'reference' ? {output: null} : {reference: null});
	expect(noMatchHint([only('golden/a.gds', 'reference'), only('a.gds', 'output')])).toMatch(
		/no relative path is in both folders \(reference e\.g\. golden\/a\.gds, output e\.g\. a\.gds\)\. The reference paths are the output paths under golden\//,
	);
	expect(noMatchHint([only('a.gds', 'reference'), only('b.gds', 'output')])).toMatch(/Check that both folders are given at the same level/);
	expect(noMatchHint([only('a.gds', 'reference'), pair('b.gds', 'identical')])).toBeNull();
	expect(noMatchHint([only('a.gds', 'reference')])).toBeNull();
});

test('reporter specs: NAME[=PATH], one report on stdout at most', () => {
	expect(parseReporterSpecs(['console', 'junit=out/r.xml', 'markdown=a=b.md'])).toEqual([
		{name: 'console', file: undefined},
		{name: 'junit', file: 'out/r.xml'},
		{name: 'markdown', file: 'a=b.md'},
	]);
	expect(() => parseReporterSpecs(['console', 'markdown'])).toThrow(/console and markdown would both write to stdout/);
	expect(parseReporterSpecs(['console', 'html'])).toEqual([
		{name: 'console', file: undefined},
		{name: 'html', file: undefined},
	]); // html: into the report folder
	expect(() => parseReporterSpecs(['console=x'])).toThrow(/console reporter writes to the terminal/);
});

test('HTML: names and messages escaped, a picture that could not be drawn says why', async () => {
	const withError = {...RESULT, pairs: RESULT.pairs.map(outcome => (outcome.status === 'missing-output' ? {...outcome, pictures: {...NO_PICTURES, error: 'no pictures: KLayout <died>'}} : outcome))};
	const html = renderHtml(withError);
	expect(html).toContain('b &lt;&amp;&gt; &quot;c&quot;.gds');
	expect(html).not.toContain('<&>');
	expect(html).toContain('bad  bytes &amp; &lt;tags&gt;');
	expect(html).toContain('<p class="note">no pictures: KLayout &lt;died&gt;</p>');
	expect(html).not.toContain('<img');
	expect(html).toMatch(/<title>lyipc-diff: 2 of 3 failing<\/title>/);
});

/** What a blob from elsewhere may hold where a number or a status belongs (a library caller may pass it too). */
const MARKUP = '"><script>document.title="pwned"</script><img src=x onerror=alert(1)>';
const HOSTILE: SuiteResult = {
	...PICTURED,
	counts: {...PICTURED.counts, total: MARKUP as never},
	pairs: PICTURED.pairs.map(outcome => ({
		...outcome,
		status: MARKUP as never,
		ms: MARKUP as never,
		pictures: {...outcome.pictures!, size: {width: MARKUP as never, height: 360}},
		result: {
			differentLayers: 1,
			artifacts: {xor: '/work/report/cells/ring.xor.gds', rdb: null},
			layers: [{key: '1/0', name: null, status: 'different', countA: MARKUP, countB: MARKUP, xorCount: MARKUP, xorArea: MARKUP, bbox: [MARKUP, 0, 1, 1], mode: 'flat'}],
		} as never,
	})),
};

test('HTML: a Content-Security-Policy that runs no script; statuses and numbers reach the page escaped or as digits', () => {
	const html = renderHtml(HOSTILE, '/work/report');
	expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">`);
	// Attribute values emptied (escaped ones hold no quote), what is left holds no element or handler of the markup.
	expect(html.replace(/"[^"]*"/g, '""')).not.toMatch(/<script|<img src=x|<[^>]*onerror/);
	expect(html).toContain('&lt;script&gt;'); // the status, shown as text
	// The pictures are still there, at the size given where it is a number.
	expect(html).toContain('src="cells/ring.overview.png" width="" height="360"');
});

test('JUnit: valid XML whatever a status, a time or a count holds', async () => {
	const stdout = sink(false);
	await createReporter({name: 'junit', file: undefined}, {stdout, stderr: sink(false), env: {}}).onEnd(HOSTILE);
	expect(XMLValidator.validate(stdout.text)).toBe(true);
	expect(stdout.text).not.toContain('<script');
	const xml = new XMLParser({ignoreAttributes: false, attributeNamePrefix: ''}).parse(stdout.text) as {testsuites: {tests: string; testsuite: {testcase: {time: string; failure: {type: string}}}}};
	expect(xml.testsuites.tests).toBe(MARKUP);
	expect(xml.testsuites.testsuite.testcase.failure.type).toBe(MARKUP);
	expect(xml.testsuites.testsuite.testcase.time).toBe('NaN');
});

/** Markdown as GitHub renders it (cmark-gfm with its table and autolink extensions), raw HTML passed through so that any would show. */
async function renderMarkdown(markdown: string): Promise<string> {
	return String((await execa('cmark-gfm', ['--unsafe', '-e', 'table', '-e', 'autolink', '-e', 'strikethrough'], {input: markdown})).stdout);
}

/** The text of rendered HTML: tags dropped, entities decoded. */
function textOf(html: string): string {
	const entities: Record<string, string> = {'&lt;': '<', '&gt;': '>', '&quot;': '"', '&amp;': '&'};
	return html.replace(/<[^>]*>/g, '').replace(/&(lt|gt|quot|amp);/g, entity => entities[entity]!);
}

describeNeeding('LYIPC_TEST_SKIP_CMARK', "render Markdown with cmark-gfm (GitHub's renderer)")('Markdown as GitHub renders it', () => {
	test('names, messages and hints from elsewhere render as text: no link, image, tag or emphasis of their own; links stay relative', async () => {
		const message = '[click](javascript:alert(1)) ![x](http://127.0.0.1:9/x.png) <img src=x onerror=alert(1)> www.example.com https://example.com/a **bold** | pipe `code`';
		const name = 'a`|<b>x</b>``.gds';
		const dir = await mkdtemp(path.join(tmpdir(), 'lyipc-markdown-'));
		try {
			const report = path.join(dir, 'report');
			const hostile: SuiteResult = {
				...RESULT,
				outDir: report,
				hint: '<script>alert(1)</script> [x](http://example.com/)',
				pairs: [
					pair(name, 'error', {error: {code: 'READ_ERROR', message}}),
					pair('ring.gds', 'different', {
						result: {differentLayers: 1, layers: [], artifacts: {xor: path.join(report, 'javascript:alert(1).gds'), rdb: null}} as never,
						pictures: {...NO_PICTURES, overview: path.join(report, 'x) ![y](http:', 'y.png')},
					}),
				],
			};
			await createReporter({name: 'markdown', file: path.join(report, 'summary.md')}, {stdout: sink(false), stderr: sink(false), env: {}}).onEnd(hostile);
			const html = await renderMarkdown(await readFile(path.join(report, 'summary.md'), 'utf8'));
			// Only the report's own links, both relative (no scheme); no image, script or emphasis from the texts.
			expect([...html.matchAll(/<a href="([^"]*)"/g)].map(match => match[1])).toEqual(['./javascript:alert%281%29.gds', 'x%29%20!%5By%5D%28http:/y.png']);
			expect(html).not.toMatch(/<img|<script|<b>|<em>|<del>/);
			expect([...html.matchAll(/<strong>/g)]).toHaveLength(1); // **Hint:**
			expect(textOf(html)).toContain(`could not compare: ${message}`);
			expect(textOf(html)).toContain(name);
			expect(textOf(html)).toContain('Hint: <script>alert(1)</script> [x](http://example.com/)');
			// One row per pair: a pipe in a name or message splits no cell.
			expect([...html.matchAll(/<tr>/g)]).toHaveLength(3);
		} finally {
			await rm(dir, {recursive: true, force: true});
		}
	});
});

test('where a layer differs reads alike in the console, the HTML and JUnit: "x a .. b, y c .. d"', async () => {
	const {formatSummary} = await import('../../src/format/summary.js');
	const {PLAIN} = await import('../../src/format/style.js');
	const layer = {key: '1/0', name: null, status: 'different', countA: 3, countB: 4, xorCount: 2, xorArea: 1.5, bbox: [-1.25, 2, 30.5, 40], mode: 'flat', sliverCount: 0, sliverArea: 0};
	const compared = {
		identical: false,
		differentLayers: 1,
		artifacts: {xor: null, rdb: null},
		layers: [layer],
		a: {path: '/w/ref/ring.gds', dbu: 0.001},
		b: {path: '/w/run/ring.gds', dbu: 0.001},
		topCells: [],
		mode: 'flat',
	} as never;
	const where = 'x -1.25 .. 30.5, y 2 .. 40';
	expect(formatSummary(compared, PLAIN, {cwd: '/w'})).toContain(where);
	const run: SuiteResult = {...RESULT, status: 'different', pairs: [pair('ring.gds', 'different', {result: compared})]};
	expect(renderHtml(run, '/out')).toContain(`<td>${where}</td>`);
	const stdout = sink(false);
	await createReporter({name: 'junit', file: undefined}, {stdout, stderr: sink(false), env: {}}).onEnd(run);
	expect(stdout.text).toContain(`layer 1/0 differs at ${where} µm`);
});

test('Markdown outside the report folder (a CI step summary, stdout) links nothing: it names the files in the folder, and the folder', async () => {
	const dir = await mkdtemp(path.join(tmpdir(), 'lyipc-reporters-'));
	try {
		const report = path.join(dir, 'ci', 'lyipc-report');
		const within = {
			...PICTURED,
			outDir: report,
			pairs: PICTURED.pairs.map(outcome => ({
				...outcome,
				result: {differentLayers: 1, layers: [], artifacts: {xor: `${report}/cells/ring.xor.gds`, rdb: null}} as never,
				pictures: {...outcome.pictures!, overview: `${report}/cells/ring.overview.png`},
			})),
		};
		// As on a GitHub runner: the summary is a temp file far from the report, shown on the run's page.
		const summary = path.join(dir, '_temp', '_runner_file_commands', 'step_summary_1');
		const env = {GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary};
		await createReporter({name: 'markdown', file: summary}, {stdout: sink(false), stderr: sink(false), env}).onEnd(within);
		const markdown = await readFile(summary, 'utf8');
		expect(markdown).not.toContain('](');
		expect(markdown).not.toContain('lyipc-report/cells'); // no path through the runner's folders to the report
		expect(markdown).toContain('| `cells/ring.xor.gds` | `cells/ring.overview.png` |');
		expect(markdown).toContain(`in the report folder \`${path.relative(process.cwd(), report)}\``);
		expect(markdown).toContain('actions/upload-artifact');
		const stdout = sink(false);
		await createReporter({name: 'markdown', file: undefined}, {stdout, stderr: sink(false), env: {}}).onEnd(within);
		expect(stdout.text).not.toContain('](');
		expect(stdout.text).toContain('`cells/ring.overview.png`');

		// Jenkins' JUnit Attachments plugin resolves them from the workspace.
		const junit = sink(false);
		await createReporter({name: 'junit', file: undefined}, {stdout: junit, stderr: sink(false), env: {WORKSPACE: dir}}).onEnd(within);
		expect(junit.text).toContain('\n[[ATTACHMENT|ci/lyipc-report/cells/ring.overview.png]]\n');
	} finally {
		await rm(dir, {recursive: true, force: true});
	}
});

test("KLayout's start-up is a line of its own in the console and the HTML header, when the run waited for one", async () => {
	const started = {...RESULT, timings: {totalMs: 2400, startupMs: 1100}};
	const io = {stdout: sink(false), stderr: sink(false), env: {}};
	await createReporter({name: 'console', file: undefined}, io).onEnd(started);
	expect(io.stdout.text).toMatch(/\(2\.4 s, 1 KLayout worker\)\nKLayout start-up: 1\.1 s \(apart from the pairs' times\)\n/);
	expect(renderHtml(started)).toContain('in 2.4 s · KLayout start-up: 1.1 s (apart from the pairs&#39; times) ·'.replace('&#39;', "'"));
	const warm = {stdout: sink(false), stderr: sink(false), env: {}};
	await createReporter({name: 'console', file: undefined}, warm).onEnd({...RESULT, timings: {totalMs: 200, startupMs: 4}});
	expect(warm.stdout.text).not.toContain('start-up');
});

const CHANGED: Partial<LayerResult> = {status: 'different', countA: 2, countB: 2, xorCount: 3, xorArea: 1, bbox: [0, 0, 1, 1], markers: 3};

test('the widest difference per layer, and a layer of slivers only named with the --tolerance that passes them', async () => {
	const different = {
		...RESULT,
		status: 'different' as const,
		counts: {...RESULT.counts, different: 1},
		pairs: [
			pair('ring.gds', 'different', {
				result: result({
					status: 'different',
					identical: false,
					differentLayers: 2,
					layers: [layer('1/0', {...CHANGED, maxWidth: 0.002, maxWidthExact: true, sliversOnly: true}), layer('2/0', {...CHANGED, maxWidth: 1.5, maxWidthExact: false})],
				}),
			}),
		],
	};
	const note = '1/0 (3, slivers only, widest 2 nm (--tolerance 0.003 passes them)), 2/0 (3)';
	const html = renderHtml(different);
	expect(html).toContain('<th>max width µm</th>');
	expect(html).toContain('<td class="n">0.002</td>');
	expect(html).toContain('<td class="n">≥ 1.5</td>');
	expect(html).toContain(note);
	for (const name of ['markdown', 'junit'] as const) {
		const stdout = sink(false);
		await createReporter({name, file: undefined}, {stdout, stderr: sink(false), env: {}}).onEnd(different);
		expect(stdout.text, name).toContain(note);
	}
});

test('a file read without its context meta data: every reporter says so for the pair, identical pairs too', async () => {
	const skipped = CONTEXT_SKIPPED;
	const readWithout = (side: 'a' | 'b', fields: Parameters<typeof result>[0] = {}) => {
		const base = result(fields);
		return {...base, [side]: {...base[side], readNote: skipped}};
	};
	const noted = {
		...RESULT,
		status: 'different' as const,
		counts: {total: 3, identical: 2, different: 1, missingReference: 0, missingOutput: 0, error: 0},
		pairs: [
			pair('same.gds', 'identical', {result: readWithout('a')}),
			pair('ring.gds', 'different', {result: readWithout('b', {status: 'different', identical: false, differentLayers: 1, layers: [layer('1/0', CHANGED)]})}),
			pair('plain.gds', 'identical', {result: result({})}),
		],
	};
	const count = '2 pairs compared without the context meta data of a file written by a newer KLayout (no geometry; --strict-read refuses such files)';

	const io = {stdout: sink(false), stderr: sink(false), env: {}};
	await createReporter({name: 'console', file: undefined}, io).onEnd(noted);
	expect(io.stdout.text).toContain(`  ring.gds: 1 layer differs: 1/0 (3)\n    B (output): ${skipped}\n`);
	expect(io.stdout.text).toContain(`\n${count}\n`);
	expect(io.stdout.text).not.toContain('same.gds');
	const verbose = {stdout: sink(false), stderr: sink(false), env: {}};
	await createReporter({name: 'console', file: undefined}, verbose, {verbose: true}).onEnd(noted);
	expect(verbose.stdout.text).toContain(`\n  same.gds: A (reference): ${skipped}\n`);

	const html = renderHtml(noted);
	expect(html).toContain(`<p class="why read">B (output): ${skipped}</p>`);
	expect(html).toContain(`same.gds<br><span class="read">A (reference): ${skipped}</span>`);
	expect(html).toContain(`<strong>Note:</strong> ${count}`);
	expect(html).not.toMatch(/plain\.gds<br>/);

	const markdown = sink(false);
	await createReporter({name: 'markdown', file: undefined}, {stdout: markdown, stderr: sink(false), env: {}}).onEnd(noted);
	expect(markdown.text).toContain(`> **Note:** ${count}: \`same.gds\`, \`ring.gds\``);
	expect(markdown.text).toContain(`1 layer differs: 1/0 (3); B (output): ${skipped}`);

	const junit = sink(false);
	await createReporter({name: 'junit', file: undefined}, {stdout: junit, stderr: sink(false), env: {}}).onEnd(noted);
	const cases = (new XMLParser().parse(junit.text) as {testsuites: {testsuite: {testcase: Array<{'system-out': string}>}}}).testsuites.testsuite.testcase;
	expect(cases.map(testcase => testcase['system-out'].split('\n').filter(line => line.includes(skipped)))).toEqual([[`A (reference): ${skipped}`], [`B (output): ${skipped}`], []]);

	const json = sink(false);
	await createReporter({name: 'json', file: undefined}, {stdout: json, stderr: sink(false), env: {}}).onEnd(noted);
	expect((JSON.parse(json.text) as SuiteResult).pairs.map(entry => [entry.result?.a.readNote, entry.result?.b.readNote])).toEqual([
		[skipped, null],
		[null, skipped],
		[null, null],
	]);
});
