import type {SuiteResult} from '../suite/run-suite.js';
import {countsLine, deliver, failureText, type Reporter, type ReporterIo} from './reporter.js';

const ICON: Record<string, string> = {different: '❌', 'missing-reference': '⚠️', 'missing-output': '⚠️', error: '💥'};

/** Markdown for CI step summaries (e.g. --reporter markdown=$GITHUB_STEP_SUMMARY): the failing pairs in a table. */
export function markdownReporter(io: ReporterIo, file?: string): Reporter {
	return {
		async onEnd(result: SuiteResult) {
			const failing = result.pairs.filter(pair => pair.status !== 'identical');
			const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
			const lines = [
				`### lyipc-diff: ${failing.length === 0 ? 'all layouts identical' : `${failing.length} of ${result.counts.total} failing`}`,
				'',
				`${countsLine(result)} (${(result.timings.totalMs / 1000).toFixed(1)} s).`,
				'',
			];
			if (failing.length > 0) {
				lines.push('| | path | what | XOR layout |', '|---|---|---|---|');
				for (const pair of failing) {
					const xor = pair.result?.artifacts.xor;
					lines.push(`| ${ICON[pair.status] ?? ''} | \`${cell(pair.path)}\` | ${cell(failureText(pair))} | ${xor ? `\`${cell(xor)}\`` : ''} |`);
				}

				lines.push('');
			}

			await deliver(lines.join('\n') + '\n', file, io);
		},
	};
}
