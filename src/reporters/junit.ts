import type {PairOutcome, SuiteResult} from '../suite/run-suite.js';
import {deliver, escapeMarkup as xml, failureText, type Reporter, type ReporterIo} from './reporter.js';

function seconds(ms: number): string {
	return (ms / 1000).toFixed(3);
}

function testcase(pair: PairOutcome): string {
	const lines = [`    <testcase classname="lyipc-diff" name="${xml(pair.path)}" time="${seconds(pair.ms)}">`];
	if (pair.status === 'error') {
		lines.push(`      <error type="${xml(pair.error?.code ?? 'INTERNAL')}" message="${xml(failureText(pair))}">${xml(pair.error?.hint ?? '')}</error>`);
	} else if (pair.status !== 'identical') {
		lines.push(`      <failure type="${pair.status}" message="${xml(failureText(pair))}">${xml(failureText(pair))}</failure>`);
	}

	const out = [
		pair.reference ? `reference: ${pair.reference}` : '',
		pair.output ? `output: ${pair.output}` : '',
		pair.result?.artifacts.xor ? `XOR layout: ${pair.result.artifacts.xor}` : '',
		pair.result?.artifacts.rdb ? `marker database: ${pair.result.artifacts.rdb}` : '',
	].filter(Boolean);
	lines.push(`      <system-out>${xml(out.join('\n'))}</system-out>`, '    </testcase>');
	return lines.join('\n');
}

/**
 * JUnit XML, as CI systems read it: one testcase per relative path; a difference or a file on
 * one side only is a <failure>, a pair that could not be compared an <error>; paths of the
 * inputs and artifacts in <system-out>.
 */
export function junitReporter(io: ReporterIo, file?: string): Reporter {
	return {
		async onEnd(result: SuiteResult) {
			const {counts} = result;
			const failures = counts.different + counts.missingReference + counts.missingOutput;
			const attributes = `tests="${counts.total}" failures="${failures}" errors="${counts.error}" time="${seconds(result.timings.totalMs)}"`;
			const text = [
				'<?xml version="1.0" encoding="UTF-8"?>',
				`<testsuites name="lyipc-diff" ${attributes}>`,
				`  <testsuite name="${xml(`lyipc-diff ${result.referenceDir} ${result.outputDir}`)}" ${attributes} skipped="0">`,
				...result.pairs.map(pair => testcase(pair)),
				'  </testsuite>',
				'</testsuites>',
				'',
			].join('\n');
			await deliver(text, file, io);
		},
	};
}
