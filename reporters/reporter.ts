import path from 'node:path';
import {writeFileAtomically} from '../src/write-file-atomically.js';
import type {SuiteEvent, SuiteResult} from '../src/suite/run-suite.js';
import {differs, plural, sliverNote} from '../src/format/text.js';

/** One way of reporting a directory run: events as pairs finish, the whole result at the end. */
export interface Reporter {
	/** The run should draw pictures of failing pairs for this reporter (they cost a KLayout render each). */
	wantsPictures?: boolean;
	onEvent?(event: SuiteEvent): void;
	onEnd(result: SuiteResult): Promise<void>;
	/** The file this reporter writes for `result`, when it writes one (the console says where). */
	reportFile?(result: SuiteResult): string | undefined;
}

/** A path as a link from `fromDir`: relative, with forward slashes, so a copied report folder keeps working. */
export type Link = (file: string) => string;

export function linker(fromDir: string): Link {
	return file => {
		const link = path.relative(fromDir, file).split(path.sep).join('/');
		// A file named "javascript:..." must stay a file, not become a URL with a scheme.
		return /^[a-z][a-z\d+.-]*:/i.test(link) ? `./${link}` : link;
	};
}

export interface ReporterIo {
	stdout: NodeJS.WritableStream & {isTTY?: boolean};
	stderr: NodeJS.WritableStream & {isTTY?: boolean};
	env: NodeJS.ProcessEnv;
}

/** Writes a report to `file` (atomically, creating its folder) or, without one, to stdout. */
export async function deliver(text: string, file: string | undefined, io: ReporterIo): Promise<void> {
	if (file === undefined) {
		io.stdout.write(text);
		return;
	}

	await writeFileAtomically(file, text, 'the report', {makeDir: true});
}

/** "1/0 (3), 2/0 (1)": the layers of a pair that differ, with their XOR counts. */
export function differingLayers(pair: SuiteResult['pairs'][number], limit = 6): string {
	const layers = pair.result?.layers.filter(layer => layer.xorCount > 0) ?? [];
	const dbu = pair.result?.dbu ?? null;
	const shown = layers.slice(0, limit).map(layer => {
		const note = sliverNote(layer, dbu);
		return `${layer.key} (${layer.xorCount}${note ? `, ${note}` : ''})`;
	});
	return shown.join(', ') + (layers.length > limit ? `, +${layers.length - limit} more` : '');
}

/** The one-line reason a pair failed, as every reporter says it. */
export function failureText(pair: SuiteResult['pairs'][number]): string {
	switch (pair.status) {
		case 'different': {
			const count = pair.result?.differentLayers ?? 0;
			return `${plural(count, 'layer')} ${differs(count)}: ${differingLayers(pair)}`;
		}

		case 'missing-reference': {
			return 'missing reference: the output has no reference to compare with';
		}

		case 'missing-output': {
			return 'missing output: the reference has no output to compare with';
		}

		case 'error': {
			return `could not compare: ${pair.error?.message ?? 'unknown error'}`;
		}

		default: {
			return 'identical';
		}
	}
}

/**
 * How a pair's files were read when not as written, one line per file: "B (output): context
 * meta data skipped: written by a newer KLayout". Empty for most pairs.
 */
export function readNotes(pair: SuiteResult['pairs'][number]): string[] {
	const result = pair.result;
	if (!result) {
		return [];
	}

	// Optional: a report renders whatever result it is handed, a partial one too.
	const inputs = [
		['A (reference)', result.a?.readNote],
		['B (output)', result.b?.readNote],
	] as const;
	return inputs.filter(([, note]) => note).map(([side, note]) => `${side}: ${note!}`);
}

/** "3 pairs compared without ...": how many pairs had a file read without its context meta data, else undefined. */
export function readNotesLine(result: SuiteResult): string | undefined {
	const pairs = result.pairs.filter(pair => readNotes(pair).length > 0).length;
	if (pairs === 0) {
		return undefined;
	}

	return `${plural(pairs, 'pair')} compared without the context meta data of a file written by a newer KLayout (no geometry; --strict-read refuses such files)`;
}

/** "200 pairs: 190 identical, 6 different, ..." */
export function countsLine(result: SuiteResult): string {
	const {counts} = result;
	const parts = [
		`${counts.identical} identical`,
		counts.different ? `${counts.different} different` : '',
		counts.missingReference ? `${counts.missingReference} missing reference` : '',
		counts.missingOutput ? `${counts.missingOutput} missing output` : '',
		counts.error ? `${counts.error} could not be compared` : '',
	].filter(Boolean);
	return `${counts.total} pair${counts.total === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

/** Text made safe for XML and HTML: escaped, without the control characters XML 1.0 forbids. */
export function escapeMarkup(text: string): string {
	return (
		text
			// biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 forbids these characters; they are what is removed
			.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
			.replace(/&/g, '&amp;')
			.replace(/</g, '&lt;')
			.replace(/>/g, '&gt;')
			.replace(/"/g, '&quot;')
	);
}
