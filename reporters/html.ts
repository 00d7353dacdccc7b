import path from 'node:path';
import type {PairOutcome, SuiteResult} from '../src/suite/run-suite.js';
import type {LayerResult} from '../src/xor/result.js';
import {boxText} from '../src/format/text.js';
import {startupText} from './console.js';
import {countsLine, deliver, escapeMarkup as h, failureText, linker, readNotes, readNotesLine, type Link, type Reporter, type ReporterIo} from './reporter.js';

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
main{padding:16px 24px}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:600;color:#fff;white-space:nowrap}
.identical{background:#2f8f46}.different{background:#d02828}.missing-reference,.missing-output{background:#c77700}.error{background:#6b3fa0}
section.pair{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);margin:0 0 18px;padding:12px 16px}
section.pair h2{font-size:16px;margin:0 0 4px;word-break:break-all}
.why{margin:0 0 10px}
.pictures{display:flex;flex-wrap:wrap;gap:12px;margin:0 0 8px}
figure{margin:0;border:1px solid #d8dbe2;border-radius:6px;overflow:hidden;background:#fff}
figure img{display:block;max-width:100%;height:auto}
figure a{display:block;cursor:zoom-in}
figcaption{padding:4px 8px;background:#eef0f4;font-weight:600;font-size:13px}
.zoom{display:none;position:fixed;inset:0;z-index:10;background:rgba(20,24,32,.88);overflow:auto;text-align:center;padding:24px}
.zoom:target{display:block}
.zoom img{background:#fff;max-width:none;box-shadow:0 4px 24px rgba(0,0,0,.5)}
.zoom p{color:#fff;margin:0 0 10px;font-weight:600}
.zoom a.close{position:fixed;inset:0;cursor:zoom-out}
table{border-collapse:collapse;margin:10px 0;font-size:13px}
th,td{border-bottom:1px solid #e2e5ea;padding:4px 10px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.changed td{background:#fff0f0}
code{font-size:12px;word-break:break-all}
.note{color:#6a7180}
.read{color:#8a5a00}
`;

/**
 * The page runs no script and loads nothing but its own pictures and inline style: whatever a
 * merged blob smuggled into the page is inert.
 */
export const CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

let zoomIds = 0;

/** A picture shown at its CSS size; a click opens it at full resolution (drawn at 2x) over the page. */
function figure(caption: string, file: string, pictures: NonNullable<PairOutcome['pictures']>, link: Link, back: string): string {
	const id = `zoom-${++zoomIds}`;
	const source = h(link(file));
	const {width, height} = pictures.size;
	return (
		`<figure><figcaption>${h(caption)}</figcaption><a href="#${id}" title="enlarge"><img src="${source}" width="${number(width)}" height="${number(height)}" alt="${h(caption)}"></a></figure>` +
		`<div class="zoom" id="${id}"><a class="close" href="#${h(back)}" title="close"></a><p>${h(caption)}</p>` +
		`<img src="${source}" width="${number(width * pictures.scale)}" height="${number(height * pictures.scale)}" alt="${h(caption)}, enlarged"></div>`
	);
}

function figures(pair: PairOutcome, link: Link, back: string): string {
	const pictures = pair.pictures;
	if (pictures === null) {
		return '';
	}

	if (pictures.error) {
		return `<p class="note">${h(pictures.error)}</p>`;
	}

	const main = [
		['Overview: every difference framed', pictures.overview],
		['A: reference', pictures.a],
		['B: output', pictures.b],
		[pictures.overview ? `XOR: close-up 1 of ${pictures.boxes.length}, differences in red` : 'XOR: differences in red', pictures.xor],
	] as const;
	const rows = [main.filter(([, file]) => file).map(([caption, file]) => figure(caption, file!, pictures, link, back))];
	if (pictures.closeups.length > 0) {
		rows.push(pictures.closeups.map((file, index) => figure(`XOR: close-up ${index + 2} of ${pictures.boxes.length}`, file, pictures, link, back)));
	}

	return rows
		.filter(row => row.length > 0)
		.map(row => `<div class="pictures">${row.join('')}</div>`)
		.join('');
}

/** A number as the page shows it: digits (with a sign, a point, an exponent), nothing else whatever it is given. */
function number(value: number): string {
	if (typeof value !== 'number' || !Number.isFinite(value)) {
		return '';
	}

	return Number.isInteger(value) ? String(value) : value.toPrecision(6).replace(/\.?0+$/, '');
}

/** A pair's status as a badge; the status is a class name too, so it is escaped like any text. */
function badge(status: PairOutcome['status']): string {
	return `<span class="badge ${h(status)}">${h(STATUS_LABEL[status] ?? status)}</span>`;
}

function layerTable(layers: readonly LayerResult[]): string {
	const rows = layers.map(
		layer =>
			`<tr${layer.xorCount > 0 ? ' class="changed"' : ''}><td>${h(layer.key)}${layer.name ? ` <span class="note">${h(layer.name)}</span>` : ''}</td>` +
			`<td>${h(layer.status)}</td><td class="n">${number(layer.countA)}</td><td class="n">${number(layer.countB)}</td>` +
			`<td class="n">${number(layer.xorCount)}</td><td class="n">${number(layer.xorArea)}</td>` +
			`<td class="n">${layer.maxWidth === null || layer.maxWidth === undefined ? '' : `${layer.maxWidthExact === false ? '≥ ' : ''}${number(layer.maxWidth)}`}</td>` +
			`<td>${h(boxText(layer.bbox))}</td><td>${h(layer.mode)}</td></tr>`,
	);
	return (
		`<table><thead><tr><th>layer</th><th>status</th><th>shapes A</th><th>shapes B</th><th>differences</th><th>area µm²</th><th>max width µm</th><th>where (µm)</th><th>mode</th></tr></thead>` +
		`<tbody>${rows.join('')}</tbody></table>`
	);
}

function pairSection(pair: PairOutcome, link: Link): string {
	const code = (file: string) => `<a href="${h(link(file))}"><code>${h(link(file))}</code></a>`;
	const paths = [
		pair.reference ? `reference ${code(pair.reference)}` : '',
		pair.output ? `output ${code(pair.output)}` : '',
		pair.result?.artifacts.xor ? `XOR layout ${code(pair.result.artifacts.xor)}` : '',
		pair.result?.artifacts.rdb ? `markers ${code(pair.result.artifacts.rdb)}` : '',
	].filter(Boolean);
	const id = `pair-${encodeURIComponent(pair.path)}`;
	return (
		`<section class="pair" id="${h(id)}">` +
		`<h2>${badge(pair.status)} ${h(pair.path)}</h2>` +
		`<p class="why">${h(failureText(pair))}${pair.error?.hint ? ` <span class="note">${h(pair.error.hint)}</span>` : ''}</p>` +
		readNotes(pair)
			.map(note => `<p class="why read">${h(note)}</p>`)
			.join('') +
		figures(pair, link, id) +
		(pair.result && pair.result.layers.length > 0 ? layerTable(pair.result.layers) : '') +
		`<p class="note">${paths.join(' · ')}</p></section>`
	);
}

function allPairs(result: SuiteResult): string {
	const rows = result.pairs.map(pair => {
		const name = pair.status === 'identical' ? h(pair.path) : `<a href="#${h(`pair-${encodeURIComponent(pair.path)}`)}">${h(pair.path)}</a>`;
		const notes = readNotes(pair).map(note => `<br><span class="read">${h(note)}</span>`);
		return `<tr><td>${badge(pair.status)}</td><td>${name}${notes.join('')}</td><td class="n">${number(pair.ms)} ms</td></tr>`;
	});
	return `<h2>Every pair</h2><table><thead><tr><th>status</th><th>path</th><th>time</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/**
 * The whole report as one HTML document. Pictures and artifacts are linked relative to
 * `htmlDir`, the folder the page is written to: the report folder can be uploaded or moved whole.
 */
export function renderHtml(result: SuiteResult, htmlDir: string = process.cwd()): string {
	const link = linker(htmlDir);
	const failing = result.pairs.filter(pair => pair.status !== 'identical');
	const sections = failing.map(pair => pairSection(pair, link));
	const title = failing.length === 0 ? 'all layouts identical' : `${failing.length} of ${result.counts.total} failing`;
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${CSP}"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>lyipc-diff: ${h(title)}</title><style>${STYLE}</style></head>
<body><header><h1>lyipc-diff: ${h(title)}</h1>
<p>${h(countsLine(result))} in ${h((result.timings.totalMs / 1000).toFixed(1))} s${startupText(result) ? ` · ${h(startupText(result)!)}` : ''} · reference <code>${h(result.referenceDir)}</code> · output <code>${h(result.outputDir)}</code></p></header>
<main>${result.hint ? `<p class="why"><strong>Hint:</strong> ${h(result.hint)}</p>` : ''}${readNotesLine(result) ? `<p class="why read"><strong>Note:</strong> ${h(readNotesLine(result)!)}</p>` : ''}${sections.join('\n')}
${allPairs(result)}
<p class="note">Artifacts in <code>${h(link(result.outDir) || '.')}</code>.</p></main></body></html>
`;
}

/**
 * One HTML page: every pair listed and, for each failing pair, its pictures (an overview with
 * every difference framed; A, B and the XOR zoomed to the differences; further close-ups), a
 * click enlarging each, and the per-layer table. Written to `file`, by default `index.html` in
 * the run's report folder, beside the pictures it links to.
 */
export function htmlReporter(io: ReporterIo, file?: string): Reporter {
	return {
		wantsPictures: true,
		async onEnd(result: SuiteResult) {
			const target = path.resolve(file ?? path.join(result.outDir, 'index.html'));
			await deliver(renderHtml(result, path.dirname(target)), target, io);
		},
		reportFile(result: SuiteResult) {
			return path.resolve(file ?? path.join(result.outDir, 'index.html'));
		},
	};
}
