import path from 'node:path';
import type {SuiteResult} from '../src/suite/run-suite.js';
import {isWithin} from '../src/paths.js';
import {countsLine, deliver, failureText, linker, readNotes, readNotesLine, type Reporter, type ReporterIo} from './reporter.js';

/** Paths named in the note on files read without their context meta data; a summary stays short. */
const NOTED_PATHS = 10;

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

/**
 * Markdown for CI step summaries (e.g. --reporter markdown=$GITHUB_STEP_SUMMARY): the failing
 * pairs in a table. Its XOR layouts and pictures are linked only when the Markdown file lies in
 * the report folder, so that the links travel with it. Anywhere else (stdout, GitHub's step
 * summary, a temp file of the runner shown on the run's page) a relative link would lead
 * nowhere: the files are named by their place in the report folder, and a note names the folder.
 */
export function markdownReporter(io: ReporterIo, file?: string): Reporter {
	return {
		async onEnd(result: SuiteResult) {
			const target = file === undefined ? undefined : path.resolve(file);
			const travels = target !== undefined && isWithin(target, result.outDir);
			const link = linker(target === undefined ? process.cwd() : path.dirname(target));
			const inFolder = linker(result.outDir);
			const fileCell = (artifact: string, text: string) => (travels ? `[${markdownText(text)}](${markdownUrl(link(artifact))})` : markdownCode(inFolder(artifact)));
			const failing = result.pairs.filter(pair => pair.status !== 'identical');
			const lines = [
				`### lyipc-diff: ${failing.length === 0 ? 'all layouts identical' : `${failing.length} of ${result.counts.total} failing`}`,
				'',
				`${countsLine(result)} (${(result.timings.totalMs / 1000).toFixed(1)} s).`,
				'',
				...(result.hint ? [`> **Hint:** ${markdownText(result.hint)}`, ''] : []),
			];
			const noted = readNotesLine(result);
			if (noted) {
				const paths = result.pairs.filter(pair => readNotes(pair).length > 0).map(pair => markdownCode(pair.path));
				const shown = paths.slice(0, NOTED_PATHS).join(', ') + (paths.length > NOTED_PATHS ? `, +${paths.length - NOTED_PATHS} more` : '');
				lines.push(`> **Note:** ${markdownText(noted)}: ${shown}`, '');
			}

			if (failing.length > 0) {
				lines.push('| | path | what | XOR layout | picture |', '|---|---|---|---|---|');
				let named = false;
				for (const pair of failing) {
					const xor = pair.result?.artifacts.xor;
					const picture = pair.pictures?.overview ?? pair.pictures?.xor ?? pair.pictures?.a ?? pair.pictures?.b;
					named ||= Boolean(xor ?? picture);
					lines.push(
						`| ${ICON[pair.status] ?? ''} | ${markdownCode(pair.path)} | ${markdownText([failureText(pair), ...readNotes(pair)].join('; '))} | ${xor ? fileCell(xor, link(xor)) : ''} | ${picture ? fileCell(picture, 'picture') : pair.pictures?.error ? markdownText(pair.pictures.error) : ''} |`,
					);
				}

				lines.push('');
				if (named && !travels) {
					lines.push(folderNote(result.outDir, io.env), '');
				}
			}

			await deliver(lines.join('\n') + '\n', file, io);
		},
	};
}

/** Where the XOR layouts and pictures named in the table are, when they are not linked. */
function folderNote(outDir: string, env: NodeJS.ProcessEnv): string {
	const folder = path.relative(process.cwd(), outDir) || '.';
	const upload =
		env.GITHUB_ACTIONS === 'true'
			? " Upload it with `actions/upload-artifact`: GitHub lists a run's artifacts on its summary page, where this summary is shown."
			: ' Keep it as an artifact of the CI job to see them.';
	return `XOR layouts and pictures: in the report folder ${markdownCode(folder)}, at the paths above.${upload}`;
}
