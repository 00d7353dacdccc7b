import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {mkdtemp, readFile, rm, stat, symlink, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, expect, test} from 'vitest';
import {execa} from 'execa';
import {type BlobEdit, copyBlob, inBlob, inPair, makeSmallTree, pairOf, snapshot} from '../helpers/blobs.js';
import {describeBrowser, openPage} from '../helpers/chromium.js';
import {describeKLayout, runCli, useTempDirs} from '../helpers/run.js';

const tempDir = useTempDirs('lyipc-merge-');

describeKLayout('merge-reports takes blobs as untrusted input', () => {
	let made: string;
	/** A real blob, written by `lyipc-diff REF RUN --shard 1/1 --reporter blob=DIR`. */
	let source: string;

	beforeAll(async () => {
		made = await mkdtemp(path.join(tmpdir(), 'lyipc-merge-source-'));
		const {reference, output} = await makeSmallTree(made);
		source = path.join(made, 'blob');
		const run = await runCli([reference, output, '--shard', '1/1', '--workers', '1', '--out-dir', path.join(made, 'out'), '--reporter', `blob=${source}`, '-q']);
		expect(run.exitCode, run.stderr).toBe(1);
	});

	afterAll(async () => {
		await rm(made, {recursive: true, force: true});
	});

	/** A workspace with the last report of a good merge, HTML included, in report/. */
	async function workspace(): Promise<{root: string; report: string}> {
		const root = await tempDir();
		const report = path.join(root, 'report');
		const merged = await runCli(['merge-reports', source, '--out-dir', report, '--reporter', 'html', '-q']);
		expect(merged.exitCode, merged.stderr).toBe(1);
		return {root, report};
	}

	/** merge-reports of `dirs` exits 2 with `message` on stderr, `code` in --json's error, and leaves the last report as it was. */
	async function expectRefused(dirs: string[], report: string, code: string, message: RegExp): Promise<void> {
		const before = await snapshot(report);
		const run = await runCli(['merge-reports', ...dirs, '--out-dir', report, '--reporter', 'html', '--json']);
		expect(run.exitCode, run.stderr).toBe(2);
		expect(run.stderr).toMatch(message);
		expect(run.stderr).not.toMatch(/unexpected failure|INTERNAL|\n\s+at /);
		expect((JSON.parse(run.stdout) as {error: {code: string}}).error.code).toBe(code);
		expect(await snapshot(report)).toEqual(before);
	}

	test('a symlink in a blob is not followed: exit 2 naming the blob and the field; the secret is not copied, the last report stays', async () => {
		const {root, report} = await workspace();
		const secret = path.join(root, 'shadow');
		await writeFile(secret, 'root:TOP-SECRET-HASH:19000:0:99999:7:::\n', {mode: 0o600});
		const blob = await copyBlob(source, path.join(root, 'blob'));
		await rm(path.join(blob, 'files', 'ring.a.png'));
		await symlink(secret, path.join(blob, 'files', 'ring.a.png'));
		await expectRefused([blob], report, 'BAD_BLOB', new RegExp(`^lyipc-diff: ${blob}: pairs\\[\\d\\]\\.pictures\\.a: files/ring\\.a\\.png is a symbolic link; a blob holds regular files only$`));
		for (const file of Object.keys(await snapshot(report))) {
			expect(await readFile(path.join(report, file), 'utf8').catch(() => '')).not.toContain('TOP-SECRET');
		}
	});

	test('malformed blobs: exit 2 with a BAD_BLOB error naming the blob and the field, never INTERNAL; the last report stays', async () => {
		const {root, report} = await workspace();
		// The edit, the field named (a pair's field after "pairs[N]."), and the rest of the message.
		const cases: Array<[BlobEdit, string, string]> = [
			[
				inPair('different', 'result.layers.0.countA', '<script>document.title="pwned"</script>'),
				'result.layers[0].countA',
				'expected a whole number >= 0, got "<script>document.title=\\"pwned\\"</script>"',
			],
			[inPair('different', 'status', '<script>x()</script>'), 'status', 'expected one of "identical", "different", "missing-reference", "missing-output", "error", got "<script>x()</script>"'],
			[inPair('identical', 'ms', '<b>1</b>'), 'ms', 'expected a number >= 0, got "<b>1</b>"'],
			[inPair('different', 'pictures.size', null), 'pictures.size', 'expected an object, got null'],
			[inPair('different', 'result.layers', null), 'result.layers', 'expected a list, got null'],
			[inPair('different', 'result.a.topCells', [null]), 'result.a.topCells[0]', 'expected text without control characters, got null'],
			[inPair('different', 'pictures.a', '../../../../etc/shadow'), 'pictures.a', 'expected a path under files/ ending in .png (no ".." part, not absolute) or null, got "../../../../etc/shadow"'],
			[inPair('different', 'result.artifacts.rdb', '/etc/shadow'), 'result.artifacts.rdb', 'expected a path under files/ ending in .lyrdb (no ".." part, not absolute) or null, got "/etc/shadow"'],
			[inPair('identical', 'path', 'sub/\uD800.gds'), 'path', 'expected a relative path (no ".." part, not absolute), got "sub/\\ud800.gds"'],
			[inBlob('result.pairs.0', null), '', 'pairs[0]: expected an object, got null'],
			[inBlob('result.counts', 7), '', 'counts: expected an object, got 7'],
			[inBlob('result.workers.warm', 'yes'), '', 'workers.warm: expected true or false, got "yes"'],
		];
		const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
		for (const [index, [edit, field, rest]] of cases.entries()) {
			const blob = await copyBlob(source, path.join(root, `blob-${index}`), edit);
			const at = field ? `pairs\\[\\d\\]\\.${literal(field)}: ` : '';
			await expectRefused([blob], report, 'BAD_BLOB', new RegExp(`^lyipc-diff: ${literal(blob)}: ${at}${literal(rest)}$`));
		}
	});

	test('a blob given by a symlink into the marked --out-dir is refused, not deleted', async () => {
		const {root, report} = await workspace();
		const inside = await copyBlob(source, path.join(report, 'shard-1'));
		await symlink(inside, path.join(root, 'shard-1'));
		await expectRefused([path.join(root, 'shard-1')], report, 'USAGE', /--out-dir .*report contains the blob .*shard-1/);
		await expect(readFile(path.join(inside, 'lyipc-blob.json'), 'utf8')).resolves.toContain('"blobFormat": 1');
	});

	test('a report onto a FIFO is refused before anything is written, and the FIFO stays', async () => {
		const {root, report} = await workspace();
		const blob = await copyBlob(source, path.join(root, 'shard-1'));
		const fifo = path.join(root, 'report.json');
		await execa('mkfifo', [fifo]);
		const before = await snapshot(report);
		const run = await runCli(['merge-reports', blob, '--out-dir', report, '--reporter', `json=${fifo}`], {timeout: 30_000});
		expect(run.exitCode, run.stderr).toBe(2);
		expect(run.stderr).toMatch(/--reporter json=.*report\.json is a FIFO; it must be a regular file or a new path/);
		expect((await stat(fifo)).isFIFO()).toBe(true);
		expect(await snapshot(report)).toEqual(before);
	});

	test('a pair in two blobs is refused before the last report is emptied', async () => {
		const {root, report} = await workspace();
		const first = await copyBlob(source, path.join(root, 'first'), inBlob('result.shard', {index: 1, count: 2}));
		const second = await copyBlob(source, path.join(root, 'second'), inBlob('result.shard', {index: 2, count: 2}));
		await expectRefused([first, second], report, 'USAGE', /merge-reports: \S+\.gds is in more than one blob \(.*first and .*second\)/);
	});

	describeBrowser('the merged HTML report in headless Chromium', () => {
		test('markup from a blob runs no script and makes no request, also where the page itself is changed (CSP); the pictures load', async () => {
			const requests: string[] = [];
			const server = createServer((request, response) => {
				requests.push(request.url ?? '');
				response.end('');
			});
			await new Promise<void>(resolve => {
				server.listen(0, '127.0.0.1', resolve);
			});
			const {port} = server.address() as AddressInfo;
			const script = `<script>document.title='pwned';fetch('http://127.0.0.1:${port}/script')</script>`;
			const image = `<img src="http://127.0.0.1:${port}/img" onerror="document.title='pwned'">`;
			const markup = `${script}${image}`;
			try {
				const {root, report} = await workspace();
				// Markup in every text the page shows: a pair's name (no slashes there), messages, layer names, folders.
				const blob = await copyBlob(source, path.join(root, 'blob'), json => {
					const different = pairOf(json, 'different');
					different.path = `<img src=x onerror="document.title='pwned'">ring.gds`;
					different.result.layers[0].key = markup;
					different.result.layers[0].name = markup;
					Object.assign(pairOf(json, 'identical'), {status: 'error', error: {code: 'READ_ERROR', message: markup, hint: markup}});
					pairOf(json, 'missing-output').pictures.error = markup;
					json.result.referenceDir = markup;
					json.result.outputDir = markup;
					return undefined;
				});
				const merged = await runCli(['merge-reports', blob, '--out-dir', report, '--reporter', 'html', '-q']);
				expect(merged.exitCode, merged.stderr).toBe(2);
				const html = path.join(report, 'index.html');

				// The page as written: the markup is text, the pictures of the differing pair load.
				let page = await openPage(html, {width: 1200, height: 900});
				try {
					expect(await page.evaluate('document.title')).toBe('lyipc-diff: 3 of 3 failing');
					expect(await page.evaluate('document.scripts.length')).toBe(0);
					expect(await page.evaluate(`document.querySelector('meta[http-equiv="Content-Security-Policy"]').content`)).toMatch(/^default-src 'none'; img-src 'self';/);
					expect(await page.evaluate('document.body.textContent.includes("document.title=\'pwned\'")')).toBe(true);
					const pictures = await page.evaluate<Array<{src: string; width: number}>>(
						`[...document.querySelectorAll('figure img')].map(img => ({src: img.getAttribute('src'), width: img.naturalWidth}))`,
					);
					expect(pictures.map(picture => picture.src).sort()).toEqual(['ring.a.png', 'ring.b.png', 'ring.overview.png', 'ring.xor.png']);
					expect(pictures.every(picture => picture.width === 960)).toBe(true); // drawn at twice 480
				} finally {
					await page.close();
				}

				// The same page with the markup put into it as it is: the CSP stops the script and the foreign picture.
				const changed = path.join(report, 'changed.html');
				await writeFile(changed, (await readFile(html, 'utf8')).replace('<main>', `<main>${markup}`));
				page = await openPage(changed, {width: 1200, height: 900});
				try {
					expect(await page.evaluate('document.scripts.length')).toBe(1);
					expect(await page.evaluate('document.title')).toBe('lyipc-diff: 3 of 3 failing');
					expect(await page.evaluate(`[...document.querySelectorAll('figure img')].every(img => img.naturalWidth === 960)`)).toBe(true);
				} finally {
					await page.close();
				}

				expect(requests).toEqual([]);
			} finally {
				server.close();
			}
		});
	});
});
