// What each report path must have written for one pair. Every check returns null when the
// output is right, else the reason it is not.
import {existsSync, openSync, readFileSync, readSync, closeSync} from 'node:fs';
import {XMLParser, XMLValidator} from 'fast-xml-parser';

/** The exit code a run of one pair must end with, per the pair's status. */
const EXIT_OF = {identical: 0, different: 1, error: 2};
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** JSON of a file, or throws with the file named. */
function readJson(file) {
	if (!existsSync(file)) {
		throw new Error(`${file} was not written`);
	}

	return JSON.parse(readFileSync(file, 'utf8'));
}

function readText(file) {
	if (!existsSync(file)) {
		throw new Error(`${file} was not written`);
	}

	return readFileSync(file, 'utf8');
}

function isPng(file) {
	if (!existsSync(file)) {
		return false;
	}

	const head = Buffer.alloc(PNG_MAGIC.length);
	const fd = openSync(file, 'r');
	try {
		readSync(fd, head, 0, head.length, 0);
	} finally {
		closeSync(fd);
	}

	return head.equals(PNG_MAGIC);
}

const escapeHtml = text => text.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);

/**
 * The JSON report of a one-pair run: {report, pair, reason}; reason is null when it lists the
 * pair under `name`, counts it once, and the exit code agrees with its status.
 */
export function jsonReport(file, name, code) {
	const report = readJson(file);
	const pair = report.pairs?.[0];
	if (report.counts?.total !== 1 || pair?.path !== name) {
		return {report, pair, reason: `${file}: expected the one pair ${name}, got ${JSON.stringify(report.counts)}`};
	}

	if (EXIT_OF[pair.status] !== code) {
		return {report, pair, reason: `exit ${code} for a pair that is ${pair.status}`};
	}

	return {report, pair, reason: null};
}

/** A JUnit file that is valid XML with one test case for `name`, a <failure> if and only if it differs, an <error> if and only if it could not be compared. */
export function junitReason(file, name, status) {
	const text = readText(file);
	const valid = XMLValidator.validate(text);
	if (valid !== true) {
		return `${file}: not XML: ${valid.err.msg} (line ${valid.err.line})`;
	}

	const xml = new XMLParser({ignoreAttributes: false, attributeNamePrefix: ''}).parse(text);
	const testcase = xml.testsuites?.testsuite?.testcase;
	if (xml.testsuites?.tests !== '1' || !testcase || Array.isArray(testcase) || testcase.name !== name) {
		return `${file}: expected one <testcase name="${name}">`;
	}

	if ('failure' in testcase !== (status === 'different') || 'error' in testcase !== (status === 'error')) {
		return `${file}: <failure>/<error> do not match a pair that is ${status}`;
	}

	return null;
}

/** A Markdown summary that counts one pair and lists it when it fails. */
export function markdownReason(file, name, status) {
	const text = readText(file);
	if (!/\b1 pair: /.test(text)) {
		return `${file}: no counts line for one pair`;
	}

	return status !== 'identical' && !text.includes('`' + name + '`') ? `${file}: the failing pair ${name} is not listed` : null;
}

/** An HTML report that names the pair. */
export function htmlReason(file, name) {
	return readText(file).includes(escapeHtml(name)) ? null : `${file}: does not name the pair ${name}`;
}

/** A differing pair's pictures: none missing, each a PNG. */
export function picturesReason(pair) {
	if (pair.status !== 'different') {
		return null;
	}

	const pictures = pair.pictures;
	if (!pictures) {
		return 'a differing pair without pictures';
	}

	if (pictures.error) {
		return pictures.error;
	}

	const files = [pictures.overview, pictures.a, pictures.b, pictures.xor, ...pictures.closeups];
	const bad = files.find(file => !file || !isPng(file));
	return bad === undefined ? null : `picture ${bad ?? '(none)'} missing or not a PNG`;
}

/** A differing pair's XOR layout exists. */
export function artifactsReason(pair) {
	const xor = pair.result?.artifacts?.xor;
	return pair.status === 'different' && !(xor && existsSync(xor)) ? `XOR layout ${xor} missing` : null;
}

/** merge-reports' JSON against the run's own: the same counts, the same status and exit code. */
export function mergedReason(run, merged, runCode, mergedCode) {
	if (JSON.stringify(run.counts) !== JSON.stringify(merged.counts)) {
		return `merged counts ${JSON.stringify(merged.counts)}, run ${JSON.stringify(run.counts)}`;
	}

	if (run.pairs[0].status !== merged.pairs[0]?.status) {
		return `merged status ${merged.pairs[0]?.status}, run ${run.pairs[0].status}`;
	}

	return runCode === mergedCode ? null : `merge-reports exit ${mergedCode}, run ${runCode}`;
}

/**
 * git diff's output with lyipc's driver: {verdict, reason}. Byte-identical files: git prints
 * nothing and exits 0. Otherwise exit 1, the driver's header and its verdict line; the driver
 * itself always exits 0 (git stops the whole diff when a driver fails).
 */
export function gitOutput({code, stdout, stderr}, sameBytes) {
	if (sameBytes) {
		return {verdict: 'identical', reason: code === 0 && stdout === '' ? null : `byte-identical files: exit ${code}, ${stdout.length} bytes out`};
	}

	if (code !== 1) {
		return {verdict: null, reason: `git diff exit ${code}: ${(stderr || stdout).trim().split('\n').at(-1)}`};
	}

	if (!stdout.startsWith('lyipc diff a/')) {
		return {verdict: null, reason: `not the driver's output: ${stdout.slice(0, 80)}`};
	}

	const verdict = /^different: /m.test(stdout) ? 'different' : /^identical: /m.test(stdout) ? 'identical' : /^could not compare the two versions: /m.test(stdout) ? 'error' : null;
	return {verdict, reason: verdict ? null : 'no verdict line in the driver output'};
}

// A directory run of many pairs (bench/corpus/batch.mjs): the run's files are read once, each
// pair is then looked up in them.

/** The exit code of a directory run with these counts. */
export function exitOf(counts) {
	return counts.error > 0 ? 2 : counts.total === counts.identical ? 0 : 1;
}

/** A JUnit file of `count` test cases: {reason, cases: name -> testcase}; reason null when it is XML of that many cases. */
export function junitCases(file, count) {
	const text = readText(file);
	const valid = XMLValidator.validate(text);
	if (valid !== true) {
		return {reason: `${file}: not XML: ${valid.err.msg} (line ${valid.err.line})`, cases: new Map()};
	}

	const xml = new XMLParser({ignoreAttributes: false, attributeNamePrefix: ''}).parse(text);
	const list = [xml.testsuites?.testsuite ?? []].flat().flatMap(suite => [suite.testcase ?? []].flat());
	const cases = new Map(list.map(testcase => [testcase.name, testcase]));
	const tests = Number(xml.testsuites?.tests);
	return {reason: tests === count && cases.size === count ? null : `${file}: ${tests} tests, ${cases.size} named test cases for ${count} pairs`, cases};
}

/** One pair's test case: there, a <failure> if and only if it differs, an <error> if and only if it could not be compared. */
export function caseReason(cases, file, name, status) {
	const testcase = cases.get(name);
	if (!testcase) {
		return `${file}: no <testcase name="${name}">`;
	}

	return 'failure' in testcase !== (status === 'different') || 'error' in testcase !== (status === 'error') ? `${file}: <failure>/<error> of ${name} do not match a pair that is ${status}` : null;
}

/** A Markdown summary of `count` pairs: its counts line; then each failing pair must be listed in `text`. */
export function markdownCountsReason(file, text, count) {
	return new RegExp(`\\b${count} pairs?: `).test(text) ? null : `${file}: no counts line for ${count} pairs`;
}

export function markdownListsReason(file, text, name, status) {
	return status !== 'identical' && !text.includes('`' + name + '`') ? `${file}: the failing pair ${name} is not listed` : null;
}

/** An HTML report's text names the pair. */
export function htmlNamesReason(file, text, name) {
	return text.includes(escapeHtml(name)) ? null : `${file}: does not name the pair ${name}`;
}

/** A differing pair's pictures were skipped over their budget: {skipped: the reason} or null. */
export function picturesSkipped(pair) {
	const error = pair?.pictures?.error;
	return error?.startsWith('pictures skipped') ? error : null;
}

export {readText};
