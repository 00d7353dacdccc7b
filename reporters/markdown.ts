import path from 'node:path';
import type {SuiteResult} from '../src/suite/run-suite.js';
import {countsLine, deliver, failureText, linker, type Reporter, type ReporterIo} from './reporter.js';

const ICON: Record<string, string> = {different: '❌', 'missing-reference': '⚠️', 'missing-output': '⚠️', error: '💥'};

/** Lines joined with a space, other control characters (a terminal's escapes too) left out. */
function oneLine(text: string): string {
	const joined = text.replace(/\s*[\r\n]\s*/g, ' ').replace(/\t/g, ' ');
	// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
	return joined.replace(/[\u0000-\u001F\u007F]/g, '');
}

/**
 * Text Markdown shows as it is, on one line (GitHub's Markdown, inline: never at a line start).
 * Backslash-escaped: what starts code, emphasis, strikethrough, a link or image, HTML, an entity,
 * or a table cell; "://" and "www." so that no URL becomes a link.
 */
export function markdownText(text: string): string {
	return oneLine(text)
		.replace(/[\\`*_[\]<>&|~]/g, '\\$&')
		.replace(/:(?=\/\/)/g, '\\:')
		.replace(/\b(www)\./gi, '$1\\.');
}

/** Text as inline code in a table cell: fenced by more backticks than it holds, its pipes escaped (GFM tables split cells first). */
export function markdownCode(text: string): string {
	const flat = oneLine(text).replace(/\|/g, '\\|');
	const fence = '`'.repeat(Math.max(0, ...(flat.match(/`+/g) ?? []).map(run => run.length)) + 1);
	const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
	return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A link target: encoded, parentheses too (an unbalanced one would end the link). */
function markdownUrl(link: string): string {
	// Half a UTF-16 pair would make encodeURI throw: it becomes U+FFFD.
	const whole = link.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
	return encodeURI(whole).replace(/\(/g, '%28').replace(/\)/g, '%29');
}

/** Markdown for CI step summaries (e.g. --reporter markdown=$GITHUB_STEP_SUMMARY): the failing pairs in a table. */
export function markdownReporter(io: ReporterIo, file?: string): Reporter {
	return {
		async onEnd(result: SuiteResult) {
			const link = linker(file === undefined ? process.cwd() : path.dirname(path.resolve(file)));
			const failing = result.pairs.filter(pair => pair.status !== 'identical');
			const lines = [
				`### lyipc-diff: ${failing.length === 0 ? 'all layouts identical' : `${failing.length} of ${result.counts.total} failing`}`,
				'',
				`${countsLine(result)} (${(result.timings.totalMs / 1000).toFixed(1)} s).`,
				'',
				...(result.hint ? [`> **Hint:** ${markdownText(result.hint)}`, ''] : []),
			];
			if (failing.length > 0) {
				lines.push('| | path | what | XOR layout | picture |', '|---|---|---|---|---|');
				for (const pair of failing) {
					const xor = pair.result?.artifacts.xor;
					const picture = pair.pictures?.overview ?? pair.pictures?.xor ?? pair.pictures?.a ?? pair.pictures?.b;
					lines.push(
						`| ${ICON[pair.status] ?? ''} | ${markdownCode(pair.path)} | ${markdownText(failureText(pair))} | ${xor ? `[${markdownText(link(xor))}](${markdownUrl(link(xor))})` : ''} | ${picture ? `[picture](${markdownUrl(link(picture))})` : pair.pictures?.error ? markdownText(pair.pictures.error) : ''} |`,
					);
				}

				lines.push('');
			}

			await deliver(lines.join('\n') + '\n', file, io);
		},
	};
}
