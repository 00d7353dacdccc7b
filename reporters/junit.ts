import path from 'node:path';
import type {PairOutcome, SuiteResult} from '../src/suite/run-suite.js';
import {boxText} from '../src/format/text.js';
import {deliver, escapeMarkup as xml, failureText, linker, readNotes, type Link, type Reporter, type ReporterIo} from './reporter.js';

/** Seconds with three decimals; escaped like any text, so that only a number can come out as one. */
function seconds(ms: number): string {
	return xml((ms / 1000).toFixed(3));
}

function testcase(pair: PairOutcome, link: Link, attach: Link): string {
	const lines = [`    <testcase classname="lyipc-diff" name="${xml(pair.path)}" time="${seconds(pair.ms)}">`];
	if (pair.status === 'error') {
		lines.push(`      <error type="${xml(pair.error?.code ?? 'INTERNAL')}" message="${xml(failureText(pair))}">${xml(pair.error?.hint ?? '')}</error>`);
	} else if (pair.status !== 'identical') {
		lines.push(`      <failure type="${xml(pair.status)}" message="${xml(failureText(pair))}">${xml(failureText(pair))}</failure>`);
	}

	// Paths relative to the report, so the uploaded folder works. [[ATTACHMENT|...]] lines show
	// the pictures where a CI reads them: relative to the project's folder (GitLab:
	// $CI_PROJECT_DIR, only the first one, of a failing case; Jenkins' JUnit Attachments plugin:
	// the workspace, each on a line of its own), so the overview goes first.
	const pictures = pair.pictures;
	const shown = pictures ? [pictures.overview, pictures.a, pictures.b, pictures.xor, ...pictures.closeups].filter((file): file is string => Boolean(file)) : [];
	const out = [
		pair.reference ? `reference: ${link(pair.reference)}` : '',
		pair.output ? `output: ${link(pair.output)}` : '',
		// Identical pairs too: their answer came without part of a file.
		...readNotes(pair),
		pair.result?.artifacts.xor ? `XOR layout: ${link(pair.result.artifacts.xor)}` : '',
		pair.result?.artifacts.rdb ? `marker database: ${link(pair.result.artifacts.rdb)}` : '',
		// Where each layer differs, as the console and the HTML report write it.
		...(pair.result?.layers ?? []).filter(layer => layer.xorCount > 0 && layer.bbox).map(layer => `layer ${layer.key} differs at ${boxText(layer.bbox)} µm`),
		...shown.map(file => `[[ATTACHMENT|${attach(file)}]]`),
		pictures?.error ?? '',
	].filter(Boolean);
	lines.push(`      <system-out>${xml(out.join('\n'))}</system-out>`, '    </testcase>');
	return lines.join('\n');
}

/** The folder a CI resolves [[ATTACHMENT|path]] from: GitLab's $CI_PROJECT_DIR, Jenkins' $WORKSPACE, else the working directory (the checkout, in a CI job). */
function projectDir(env: NodeJS.ProcessEnv): string {
	return path.resolve(env.CI_PROJECT_DIR || env.WORKSPACE || process.cwd());
}

/**
 * JUnit XML, as CI systems read it: one testcase per relative path; a difference or a file on
 * one side only is a <failure>, a pair that could not be compared an <error>; paths of the
 * inputs and artifacts in <system-out>.
 */
export function junitReporter(io: ReporterIo, file?: string): Reporter {
	return {
		async onEnd(result: SuiteResult) {
			const link = linker(file === undefined ? process.cwd() : path.dirname(path.resolve(file)));
			const attach = linker(projectDir(io.env));
			const {counts} = result;
			const failures = counts.different + counts.missingReference + counts.missingOutput;
			const attributes = `tests="${xml(String(counts.total))}" failures="${xml(String(failures))}" errors="${xml(String(counts.error))}" time="${seconds(result.timings.totalMs)}"`;
			const text = [
				'<?xml version="1.0" encoding="UTF-8"?>',
				`<testsuites name="lyipc-diff" ${attributes}>`,
				`  <testsuite name="${xml(`lyipc-diff ${result.referenceDir} ${result.outputDir}`)}" ${attributes} skipped="0">`,
				...result.pairs.map(pair => testcase(pair, link, attach)),
				'  </testsuite>',
				'</testsuites>',
				'',
			].join('\n');
			await deliver(text, file, io);
		},
	};
}
