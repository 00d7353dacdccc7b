import path from 'node:path';
import type {SuiteResult} from '../src/suite/run-suite.js';
import {countsLine, deliver, failureText, linker, type Reporter, type ReporterIo} from './reporter.js';

const ICON: Record<string, string> = {different: '❌', 'missing-reference': '⚠️', 'missing-output': '⚠️', error: '💥'};

/** Markdown for CI step summaries (e.g. --reporter markdown=$GITHUB_STEP_SUMMARY): the failing pairs in a table. */
export function markdownReporter(io: ReporterIo, file?: string): Reporter {
	return {
		async onEnd(result: SuiteResult) {
			const link = linker(file === undefined ? process.cwd() : path.dirname(path.resolve(file)));
			const failing = result.pairs.filter(pair => pair.status !== 'identical');
			const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
			const lines = [
				`### lyipc-diff: ${failing.length === 0 ? 'all layouts identical' : `${failing.length} of ${result.counts.total} failing`}`,
				'',
				`${countsLine(result)} (${(result.timings.totalMs / 1000).toFixed(1)} s).`,
				'',
				...(result.hint ? [`> **Hint:** ${result.hint}`, ''] : []),
			];
			if (failing.length > 0) {
				lines.push('| | path | what | XOR layout | picture |', '|---|---|---|---|---|');
				for (const pair of failing) {
					const xor = pair.result?.artifacts.xor;
					const picture = pair.pictures?.overview ?? pair.pictures?.xor ?? pair.pictures?.a ?? pair.pictures?.b;
					lines.push(
						`| ${ICON[pair.status] ?? ''} | \`${cell(pair.path)}\` | ${cell(failureText(pair))} | ${xor ? `[${cell(link(xor))}](${encodeURI(link(xor))})` : ''} | ${picture ? `[picture](${encodeURI(link(picture))})` : ''} |`,
					);
				}

				lines.push('');
			}

			await deliver(lines.join('\n') + '\n', file, io);
		},
	};
}
