import path from 'node:path';
import {pickStyle, type Style} from '../src/format/style.js';
import type {PairOutcome, SuiteEvent, SuiteResult} from '../src/suite/run-suite.js';
import {plural} from '../src/format/text.js';
import {countsLine, failureText, readNotes, readNotesLine, type Reporter, type ReporterIo} from './reporter.js';

const REDRAW_MS = 100;

function label(pair: PairOutcome, style: Style): string {
	const text = pair.status.replace('-', ' ').padEnd(19);
	return pair.status === 'error' ? style.yellow(text) : style.red(text);
}

function eta(startedAt: number, done: number, total: number): string {
	if (done === 0) {
		return '';
	}

	const left = Math.round((((Date.now() - startedAt) / done) * (total - done)) / 1000);
	return `, ETA ${left < 60 ? `${left} s` : `${Math.floor(left / 60)} min ${left % 60} s`}`;
}

/** A pair the run was stopped before it finished (Ctrl+C, SIGTERM): its error is ABORTED. */
function unfinished(pair: PairOutcome): boolean {
	return pair.status === 'error' && pair.error?.code === 'ABORTED';
}

/** KLayout's start-up, when the run waited for one: reported apart, no pair's time holds it. */
export function startupText(result: SuiteResult): string | undefined {
	// A warm worker that was up already answers within milliseconds: nothing worth a line.
	const ms = result.timings.startupMs ?? 0;
	return ms >= 100 ? `KLayout start-up: ${(ms / 1000).toFixed(1)} s (apart from the pairs' times)` : undefined;
}

/** "3 pairs: 3 identical (2.4 s, 2 KLayout workers)", coloured by the run's status. */
export function summaryLine(result: SuiteResult, style: Style): string {
	const workers = result.workers.warm
		? `${result.workers.size} warm KLayout worker${result.workers.size === 1 ? '' : 's'}`
		: `${result.workers.started} KLayout worker${result.workers.started === 1 ? '' : 's'}`;
	const summary = `${countsLine(result)} (${(result.timings.totalMs / 1000).toFixed(1)} s, ${workers})`;
	return result.status === 'identical' ? style.green(summary) : result.status === 'error' ? style.yellow(summary) : style.red(summary);
}

/**
 * The default reporter. On a terminal (not under CI=true) a live progress line on stderr:
 * done/total, failures so far, ETA. Piped or in CI: no escape codes, one plain line per failing
 * pair as it fails. At the end: the failing pairs, the counts, where the artifacts are.
 * `quiet`: only the failing pairs and the counts.
 */
export function consoleReporter(io: ReporterIo, options: {quiet?: boolean; verbose?: boolean} = {}): Reporter {
	const style = pickStyle(io.stdout as NodeJS.WriteStream, io.env);
	const live = Boolean(io.stderr.isTTY) && io.env.CI !== 'true' && !options.quiet;
	let startedAt = Date.now();
	let lastDraw = 0;
	let drawn = false;
	const clear = () => {
		if (drawn) {
			io.stderr.write('\r\u001B[K');
			drawn = false;
		}
	};

	return {
		onEvent(event: SuiteEvent) {
			if (event.type === 'start') {
				startedAt = Date.now();
				return;
			}

			if (!live) {
				if (event.pair.status !== 'identical' && !unfinished(event.pair) && !options.quiet) {
					io.stdout.write(`${label(event.pair, style)}${event.pair.path}\n`);
				}

				return;
			}

			const now = Date.now();
			if (now - lastDraw >= REDRAW_MS || event.done === event.total) {
				lastDraw = now;
				drawn = true;
				const failing = event.failures ? `, ${style.red(`${event.failures} failing`)}` : '';
				io.stderr.write(`\r\u001B[K${event.done}/${event.total} compared${failing}${eta(startedAt, event.done, event.total)}`);
			}
		},
		async onEnd(result: SuiteResult) {
			clear();
			// Pairs a Ctrl+C stopped are not failures of their own: one line counts them.
			const stopped = result.pairs.filter(unfinished).length;
			const failing = result.pairs.filter(pair => pair.status !== 'identical' && !unfinished(pair));
			const lines: string[] = [];
			if (failing.length > 0 && (live || options.quiet)) {
				lines.push(...failing.map(pair => `${label(pair, style)}${pair.path}`));
			}

			if (failing.length > 0) {
				lines.push('', style.bold('Failing pairs:'));
				for (const pair of failing) {
					lines.push(`  ${pair.path}: ${failureText(pair)}`, ...readNotes(pair).map(note => style.yellow(`    ${note}`)));
					if (pair.result?.artifacts.xor) {
						lines.push(style.dim(`    XOR layout: ${pair.result.artifacts.xor}`));
					}
				}

				lines.push('');
			}

			if (stopped > 0) {
				lines.push(style.yellow(`interrupted: ${stopped} of ${plural(result.counts.total, 'pair')} unfinished`));
			}

			lines.push(summaryLine(result, style));
			const noted = readNotesLine(result);
			if (noted && !options.quiet) {
				lines.push(style.yellow(noted));
				// The identical ones too, by name, when asked how the comparison was done.
				for (const pair of options.verbose ? result.pairs.filter(pair => pair.status === 'identical') : []) {
					lines.push(...readNotes(pair).map(note => style.dim(`  ${pair.path}: ${note}`)));
				}
			}

			const startup = startupText(result);
			if (startup && !options.quiet) {
				lines.push(style.dim(startup));
			}
			if (result.hint) {
				lines.push(style.yellow(`hint: ${result.hint}`));
			}

			if (result.counts.different > 0) {
				lines.push(`artifacts: ${path.relative(process.cwd(), result.outDir) || '.'}`);
			}

			io.stdout.write(lines.join('\n') + '\n');
		},
	};
}
