import path from 'node:path';
import type {CompareResult, LayerResult, LayerStatus} from '../xor/result.js';
import {MAX_MARKER_ITEMS} from '../xor/options.js';
import type {Style} from './style.js';
import {boxText, count, differs, length, plural, shellWord, sliverNote} from './text.js';

function displayPath(file: string, cwd: string): string {
	const relative = path.relative(cwd, file);
	return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

function statusText(status: LayerStatus, layer: LayerResult, style: Style): string {
	switch (status) {
		case 'same': {
			return layer.sliverCount > 0 ? style.yellow('same (slivers only)') : style.green('same');
		}

		case 'different': {
			return style.red('different');
		}

		case 'only-in-a': {
			return style.red('only in A');
		}

		case 'only-in-b': {
			return style.red('only in B');
		}
	}
}

function table(rows: string[][], rightAligned: Set<number>): string[] {
	const widths = rows[0]!.map((_, column) => Math.max(...rows.map(row => row[column]!.length)));
	return rows.map(row =>
		row
			.map((cell, column) => {
				const last = column === row.length - 1;
				if (rightAligned.has(column)) {
					return cell.padStart(widths[column]!);
				}

				return last ? cell : cell.padEnd(widths[column]!);
			})
			.join('  ')
			.trimEnd(),
	);
}

function describeInput(label: string, input: CompareResult['a'], cwd: string, style: Style): string {
	const parts = [`${label}  ${displayPath(input.path, cwd)}`];
	if (input.dbu !== null) {
		parts.push(`dbu ${input.dbu} µm`);
	}

	if (input.readNote) {
		parts.push(style.yellow(input.readNote));
	}

	return parts.join('   ');
}

function describeTops(result: CompareResult): string[] {
	return result.topCells.map(pair => {
		if (pair.unpaired) {
			const {a, b} = pair.unpaired;
			return a.length === 1 && b.length === 1 ? `top renamed: ${a[0]!} → ${b[0]!}` : `tops without a partner, compared as one: A only: ${a.join(', ')}; B only: ${b.join(', ')}`;
		}

		if (pair.status === 'compared') {
			// Pairs made by name have equal names; only a single pair or --top-a/--top-b can differ.
			return pair.a === pair.b ? `top cell: ${pair.a!}` : `top cells: ${pair.a!} (A) vs ${pair.b!} (B)`;
		}

		return pair.status === 'only-in-a' ? `top cell: ${pair.a!} only in A` : `top cell: ${pair.b!} only in B`;
	});
}

/** Which engine ran where: one line, plus one line per reason a layer needed a full XOR in auto mode. */
function describeModes(result: CompareResult, style: Style): string[] {
	const full = new Map<string, number>();
	let unchanged = 0;
	let windowed = 0;
	let windows = 0;
	let oneSided = 0;
	for (const layer of result.layers) {
		if (result.mode === 'auto' && (layer.status === 'only-in-a' || layer.status === 'only-in-b')) {
			oneSided++;
		} else if (layer.mode === 'structural') {
			unchanged++;
		} else if (layer.mode === 'windowed') {
			windowed++;
			windows += layer.windows ?? 0;
		} else {
			full.set(layer.mode, (full.get(layer.mode) ?? 0) + 1);
		}
	}

	const engines = [...full].map(([mode, n]) => `${mode} (${plural(n, 'layer')})`).join(', ');
	if (result.mode !== 'auto') {
		return [`engine: ${engines || result.mode}`];
	}

	const parts: string[] = [];
	if (unchanged > 0) {
		parts.push(`${plural(unchanged, 'layer')} unchanged shape for shape, no XOR needed`);
	}

	if (windowed > 0) {
		parts.push(`${plural(windowed, 'layer')} XORed only around the changes (${plural(windows, 'window')})`);
	}

	if (oneSided > 0) {
		parts.push(`${plural(oneSided, 'layer')} in one file only, every shape a difference`);
	}

	if (engines) {
		parts.push(`full XOR: ${engines}`);
	}

	const lines = [`engine: auto: ${parts.join('; ')}`];
	const why = new Map<string, string[]>();
	for (const layer of result.layers) {
		if (layer.fallback) {
			why.set(layer.fallback, [...(why.get(layer.fallback) ?? []), layer.key]);
		}
	}

	for (const [reason, keys] of why) {
		lines.push(style.dim(`  full XOR on ${keys.join(', ')}: ${reason}`));
	}

	return lines;
}

/** An area in µm², to 4 significant digits. */
function area(value: number): string {
	if (value === 0) {
		return '0';
	}

	return value >= 1000 ? count(Math.round(value)) : String(Number(value.toPrecision(4)));
}

/** The widest difference: "2 nm", "1.5 µm"; "≥ 6 nm" when its measurement ran out of time. */
function widthText(layer: LayerResult): string {
	if (layer.maxWidth === null || layer.maxWidth === undefined) {
		return '';
	}

	return `${layer.maxWidthExact === false ? '≥ ' : ''}${length(layer.maxWidth)}`;
}

export interface SummaryOptions {
	/** Also how the comparison was done: the engine per layer and why (--verbose). */
	verbose?: boolean | undefined;
	cwd?: string | undefined;
}

/**
 * The human summary lyipc-diff prints: inputs, top cells, a table of layers with the area and
 * place of the differences on each changed one, the verdict, the artifacts. `verbose` adds
 * which engine ran where and why.
 */
export function formatSummary(result: CompareResult, style: Style, options: SummaryOptions = {}): string {
	const cwd = options.cwd ?? process.cwd();
	const lines = [describeInput('A', result.a, cwd, style), describeInput('B', result.b, cwd, style)];
	if (result.fastPath === 'byte-identical') {
		lines.push('', style.green(style.bold('identical')) + ': the files are byte-identical (KLayout not needed)');
		return lines.join('\n') + '\n';
	}

	lines.push(...describeTops(result), ...(options.verbose ? describeModes(result, style) : []));
	if (result.layers.length > 0) {
		const withSlivers = result.tolerance > 0;
		const changed = result.layers.some(layer => layer.xorCount > 0);
		const header = ['layer', 'A shapes', 'B shapes', 'XOR', ...(withSlivers ? ['slivers'] : []), ...(changed ? ['area µm²', 'max width', 'where (µm)'] : []), 'status'];
		const rows = result.layers.map(layer => [
			layer.key,
			layer.status === 'only-in-b' ? '-' : count(layer.countA),
			layer.status === 'only-in-a' ? '-' : count(layer.countB),
			count(layer.xorCount),
			...(withSlivers ? [count(layer.sliverCount)] : []),
			...(changed ? (layer.xorCount > 0 ? [area(layer.xorArea), widthText(layer), boxText(layer.bbox)] : ['', '', '']) : []),
			// Last column: never padded, so colour codes do not upset the widths.
			statusText(layer.status, layer, style),
		]);
		const numeric = new Set([1, 2, 3, ...(withSlivers ? [4] : []), ...(changed ? (withSlivers ? [5, 6] : [4, 5]) : [])]);
		const [head, ...body] = table([header, ...rows], numeric);
		lines.push('', style.bold(head!), ...body);
	}

	lines.push('');
	if (result.identical) {
		const slivers = result.layers.reduce((sum, layer) => sum + layer.sliverCount, 0);
		const note = slivers > 0 ? `; ${plural(slivers, 'difference')} within the tolerance of ${result.tolerance} µm` : '';
		lines.push(`${style.green(style.bold('identical'))}: ${plural(result.layers.length, 'layer')} compared${note}`);
	} else {
		lines.push(`${style.red(style.bold('different'))}: ${result.differentLayers} of ${plural(result.layers.length, 'layer')} ${differs(result.differentLayers)}`);
		for (const layer of result.layers) {
			const note = sliverNote(layer, result.dbu);
			if (note) {
				lines.push(style.yellow(`${layer.key}: ${note}`));
			}
		}

		for (const layer of result.layers.filter(layer => layer.markersOmitted > 0)) {
			lines.push(
				style.dim(`marker database lists ${count(layer.markers)} of ${count(layer.markers + layer.markersOmitted)} differences on ${layer.key} (--max-markers; ${count(MAX_MARKER_ITEMS)} in all)`),
			);
		}

		if (result.artifacts.xor) {
			lines.push(`XOR layout:      ${result.artifacts.xor}`);
		}

		if (result.artifacts.rdb) {
			lines.push(`marker database: ${result.artifacts.rdb}`);
		}

		if (result.artifacts.xor && result.artifacts.rdb) {
			lines.push(style.dim(`view: klayout ${shellWord(result.artifacts.xor)} -m ${shellWord(result.artifacts.rdb)}`));
		}
	}

	return lines.join('\n') + '\n';
}
