import {readFile} from 'node:fs/promises';
import type {PairOutcome, SuiteResult} from '../suite/run-suite.js';
import type {LayerResult} from '../xor/result.js';
import {countsLine, deliver, escapeMarkup as h, failureText, type Reporter, type ReporterIo} from './reporter.js';

const STATUS_LABEL: Record<PairOutcome['status'], string> = {
	identical: 'identical',
	different: 'different',
	'missing-reference': 'missing reference',
	'missing-output': 'missing output',
	error: 'could not compare',
};

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f4f5f7}
header{background:#1d2330;color:#fff;padding:16px 24px}
header h1{margin:0 0 4px;font-size:20px}
header p{margin:0;color:#c6cbd6}
main{padding:16px 24px;max-width:1560px}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:600;color:#fff;white-space:nowrap}
.identical{background:#2f8f46}.different{background:#d02828}.missing-reference,.missing-output{background:#c77700}.error{background:#6b3fa0}
section.pair{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);margin:0 0 18px;padding:12px 16px}
section.pair h2{font-size:16px;margin:0 0 4px;word-break:break-all}
.why{margin:0 0 10px}
.pictures{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;border:1px solid #d8dbe2;border-radius:6px;overflow:hidden;background:#fff}
figure img{display:block;max-width:100%;height:auto}
figcaption{padding:4px 8px;background:#eef0f4;font-weight:600;font-size:13px}
table{border-collapse:collapse;margin:10px 0;font-size:13px}
th,td{border-bottom:1px solid #e2e5ea;padding:4px 10px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.changed td{background:#fff0f0}
code{font-size:12px;word-break:break-all}
.note{color:#6a7180}
`;

/** A PNG inlined as a data: URI, so the report is one file that can be mailed or archived. */
async function inline(file: string | null): Promise<string | null> {
	if (file === null) {
		return null;
	}

	try {
		return `data:image/png;base64,${(await readFile(file)).toString('base64')}`;
	} catch {
		return null;
	}
}

async function figures(pair: PairOutcome): Promise<string> {
	const pictures = pair.pictures;
	if (pictures === null) {
		return '';
	}

	if (pictures.error) {
		return `<p class="note">${h(pictures.error)}</p>`;
	}

	const shown = [
		['A: reference', pictures.a],
		['B: output', pictures.b],
		['XOR: differences in red', pictures.xor],
	] as const;
	const parts: string[] = [];
	for (const [caption, file] of shown) {
		const source = await inline(file);
		if (source) {
			parts.push(`<figure><figcaption>${h(caption)}</figcaption><img src="${source}" alt="${h(caption)}"></figure>`);
		}
	}

	return parts.length > 0 ? `<div class="pictures">${parts.join('')}</div>` : '';
}

function number(value: number): string {
	return Number.isInteger(value) ? String(value) : value.toPrecision(6).replace(/\.?0+$/, '');
}

function layerTable(layers: readonly LayerResult[]): string {
	const rows = layers.map(layer => `<tr${layer.xorCount > 0 ? ' class="changed"' : ''}><td>${h(layer.key)}${layer.name ? ` <span class="note">${h(layer.name)}</span>` : ''}</td>`
		+ `<td>${h(layer.status)}</td><td class="n">${layer.countA}</td><td class="n">${layer.countB}</td>`
		+ `<td class="n">${layer.xorCount}</td><td class="n">${number(layer.xorArea)}</td>`
		+ `<td>${layer.bbox ? h(layer.bbox.map(number).join(', ')) : ''}</td><td>${h(layer.mode)}</td></tr>`);
	return `<table><thead><tr><th>layer</th><th>status</th><th>shapes A</th><th>shapes B</th><th>differences</th><th>area µm²</th><th>where (µm)</th><th>mode</th></tr></thead>`
		+ `<tbody>${rows.join('')}</tbody></table>`;
}

async function pairSection(pair: PairOutcome): Promise<string> {
	const paths = [
		pair.reference ? `reference <code>${h(pair.reference)}</code>` : '',
		pair.output ? `output <code>${h(pair.output)}</code>` : '',
		pair.result?.artifacts.xor ? `XOR layout <code>${h(pair.result.artifacts.xor)}</code>` : '',
		pair.result?.artifacts.rdb ? `markers <code>${h(pair.result.artifacts.rdb)}</code>` : '',
	].filter(Boolean);
	return `<section class="pair" id="${h(encodeURIComponent(pair.path))}">`
		+ `<h2><span class="badge ${pair.status}">${STATUS_LABEL[pair.status]}</span> ${h(pair.path)}</h2>`
		+ `<p class="why">${h(failureText(pair))}${pair.error?.hint ? ` <span class="note">${h(pair.error.hint)}</span>` : ''}</p>`
		+ await figures(pair)
		+ (pair.result && pair.result.layers.length > 0 ? layerTable(pair.result.layers) : '')
		+ `<p class="note">${paths.join(' · ')}</p></section>`;
}

function allPairs(result: SuiteResult): string {
	const rows = result.pairs.map(pair => {
		const name = pair.status === 'identical' ? h(pair.path) : `<a href="#${h(encodeURIComponent(pair.path))}">${h(pair.path)}</a>`;
		return `<tr><td><span class="badge ${pair.status}">${STATUS_LABEL[pair.status]}</span></td><td>${name}</td><td class="n">${pair.ms} ms</td></tr>`;
	});
	return `<h2>Every pair</h2><table><thead><tr><th>status</th><th>path</th><th>time</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The whole report as one HTML document; pictures (when the run drew them) are inlined. */
export async function renderHtml(result: SuiteResult): Promise<string> {
	const failing = result.pairs.filter(pair => pair.status !== 'identical');
	const sections: string[] = [];
	for (const pair of failing) {
		sections.push(await pairSection(pair)); // one pair's pictures in memory at a time
	}

	const title = failing.length === 0 ? 'all layouts identical' : `${failing.length} of ${result.counts.total} failing`;
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>lyipc-diff: ${h(title)}</title><style>${STYLE}</style></head>
<body><header><h1>lyipc-diff: ${h(title)}</h1>
<p>${h(countsLine(result))} in ${(result.timings.totalMs / 1000).toFixed(1)} s · reference <code>${h(result.referenceDir)}</code> · output <code>${h(result.outputDir)}</code></p></header>
<main>${sections.join('\n')}
${allPairs(result)}
<p class="note">Artifacts in <code>${h(result.outDir)}</code>.</p></main></body></html>
`;
}

/**
 * One self-contained HTML page: every pair listed and, for each failing pair, pictures of A,
 * B and the XOR zoomed to the differences (drawn by KLayout) with the per-layer table.
 */
export function htmlReporter(io: ReporterIo, file?: string): Reporter {
	return {
		wantsPictures: true,
		async onEnd(result: SuiteResult) {
			await deliver(await renderHtml(result), file, io);
		},
	};
}
