#!/usr/bin/env node
// Hostile blobs for `lyipc-diff merge-reports`: one real blob of a small run, then a fixed-seed
// set of malformed copies (null and wrong-typed fields at every level, huge numbers, markup,
// `..`, absolute and symlinked paths, FIFOs, missing files, duplicates, cut JSON, other
// formats), each merged by the built CLI. A case is clean when the merge is refused with exit 2
// and a coded error (not INTERNAL) that names the blob, with the last report left as it was, or
// when it merges correctly (every file a regular file in the report folder, no secret in it,
// no script in the page). Anything else (INTERNAL, a stack, a crash, a hang, a file escaped, the
// last report touched by a refused merge) counts as internal.
//
// Usage: node bench/fuzz/blobs.mjs [--seed N] [--seconds S]       (after npm run build)
// As a module: `await run({seed, deadlineMs, log})` resolves {set: 'blobs', cases, clean,
// internal, notes}; deadlineMs is a time (Date.now()) after which no new case starts, or, when
// smaller than a day, the milliseconds the set may take.
import {spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {copyFile, cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {snapshot} from '../../test/helpers/snapshot.mjs';
import {random, runChild} from '../helpers.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'lyipc-diff.js');
/** One merge may take this long; longer is a hang. */
const CASE_TIMEOUT_MS = 30_000;
const SECRET = 'LYIPC-FUZZ-SECRET';

/** Runs `args` with node; resolves {code, stdout, stderr, hung}. */
async function runNode(args, cwd) {
	return runChild(process.execPath, args, {cwd, timeoutMs: CASE_TIMEOUT_MS});
}

/** Every path in a JSON value ("result.pairs.0.result.layers.1.countA"), objects and arrays included. */
function pathsOf(value, prefix = []) {
	if (value === null || typeof value !== 'object') {
		return [];
	}

	return Object.entries(value).flatMap(([key, child]) => [[...prefix, key], ...pathsOf(child, [...prefix, key])]);
}

function setAt(target, keys, value) {
	const parent = keys.slice(0, -1).reduce((object, key) => object[key], target);
	if (value === undefined) {
		delete parent[keys.at(-1)];
	} else {
		parent[keys.at(-1)] = value;
	}
}

/** The first pair with `status` in a blob's JSON. */
function pairOf(blob, status) {
	return blob.result.pairs.find(pair => pair.status === status);
}

/** Each entry under `dir`: kind and a hash of its contents (a symlink by its target). */

/** Why a merged report is wrong (a file escaped, a symlink or secret in it, a script in the page), or null. */
async function wrongMerge(result, report) {
	for (const entry of await readdir(report, {recursive: true, withFileTypes: true})) {
		const file = path.join(entry.parentPath, entry.name);
		if (!entry.isFile() && !entry.isDirectory()) {
			return `${file} in the report is not a regular file`;
		}

		if (entry.isFile() && (await readFile(file, 'latin1')).includes(SECRET)) {
			return `${file} in the report holds the secret`;
		}
	}

	const files = result.pairs.flatMap(pair => [
		pair.result?.artifacts?.xor,
		pair.result?.artifacts?.rdb,
		pair.pictures?.a,
		pair.pictures?.b,
		pair.pictures?.xor,
		pair.pictures?.overview,
		...(pair.pictures?.closeups ?? []),
	]);
	for (const file of files.filter(Boolean)) {
		const relative = path.relative(report, file);
		if (relative.startsWith('..') || path.isAbsolute(relative) || !(await lstat(file).catch(() => undefined))?.isFile()) {
			return `${file} is not a regular file in the report folder`;
		}
	}

	const page = await readFile(path.join(report, 'index.html'), 'utf8').catch(() => '');
	if (!page.includes('http-equiv="Content-Security-Policy"') || /<script|<img src=x/i.test(page.replace(/"[^"]*"/g, '""'))) {
		return 'the HTML report runs markup of its own or lacks its Content-Security-Policy';
	}

	return null;
}

/**
 * The cases: [name, make(dir) -> {dirs, outDir?}] where make writes the hostile blob(s) into
 * `dir` from `good` (the real blob). The seed picks the fields and values.
 */
function cases(good, json, next) {
	const pick = list => list[Math.floor(next() * list.length)];
	const text = JSON.stringify(json, null, 2);
	/** A copy of the good blob at `dir`, its JSON changed by `edit` (a text back replaces it). */
	const blob =
		edit =>
		async (dir, name = 'blob') => {
			const target = path.join(dir, name);
			await cp(good, target, {recursive: true});
			const copy = JSON.parse(text);
			const written = await edit(copy, target);
			await writeFile(path.join(target, 'lyipc-blob.json'), typeof written === 'string' || Buffer.isBuffer(written) ? written : JSON.stringify(copy, null, 2));
			return {dirs: [target]};
		};
	const field = (keys, value) => blob(copy => setAt(copy, keys, value));
	const inPair = (status, keys, value) =>
		blob(copy => {
			setAt(pairOf(copy, status), keys, value);
		});

	const every = pathsOf(json).filter(keys => keys[0] === 'result');
	const shuffled = [...every].sort(() => next() - 0.5);
	const WRONG = ['<script>document.title="pwned"</script>', 42, -1, true, [], {}, '../../etc/passwd', 'x'.repeat(20_000), [null], {length: 1}];
	const list = [];
	// Null at every level: the seed picks twelve fields, from the result down to a layer's count.
	for (const keys of pickByDepth(shuffled, 12)) {
		list.push([`null at ${keys.join('.')}`, field(keys, null)]);
	}

	// Wrong types: twelve more fields, each given a value of another type.
	for (const keys of pickByDepth(shuffled.slice(12), 12)) {
		const value = pick(WRONG);
		list.push([`${JSON.stringify(value).slice(0, 20)} at ${keys.join('.')}`, field(keys, value)]);
	}

	list.push(
		['a huge count', inPair('different', ['result', 'layers', 0, 'countA'], 1e308)],
		['a count past 2^53', inPair('different', ['result', 'layers', 0, 'xorCount'], 2 ** 60)],
		['Infinity in the JSON text', blob(() => text.replace(/"ms": \d+/, '"ms": 1e999'))],
		['a huge shard count', field(['result', 'shard'], {index: 1, count: Number.MAX_SAFE_INTEGER})],
		['a huge picture width', inPair('different', ['pictures', 'size', 'width'], 1e300)],
		['markup in a pair name', inPair('different', ['path'], `<img src=x onerror=alert(${Math.floor(next() * 100)})>ring.gds`)],
		['markup in a message', inPair('identical', ['error'], {code: 'READ_ERROR', message: '<script>alert(1)</script>', hint: '[x](javascript:alert(1))'})],
		['markup in a layer name', inPair('different', ['result', 'layers', 0, 'name'], '<svg onload=alert(1)>')],
		['markup in the reference folder', field(['result', 'referenceDir'], '"><script>alert(1)</script>')],
		['a terminal escape in a message', inPair('missing-output', ['pictures', 'error'], 'no pictures: \u001b[2J\u001b]0;pwned\u0007')],
		['half a UTF-16 pair in a name', inPair('identical', ['path'], 'sub/\ud800.gds')],
		['a picture by ..', inPair('different', ['pictures', 'a'], '../../../../etc/passwd')],
		['a picture by absolute path', inPair('different', ['pictures', 'b'], '/etc/passwd')],
		['a picture under files/ with ..', inPair('different', ['pictures', 'xor'], 'files/../../outside.png')],
		['a picture with backslashes', inPair('different', ['pictures', 'overview'], 'files/..\\..\\outside.png')],
		['an artifact that is a page', inPair('different', ['result', 'artifacts', 'xor'], 'files/evil.html')],
		['a pair name with ..', inPair('identical', ['path'], '../escape.gds')],
		[
			'a symlink to a secret',
			blob(async (copy, target) => {
				await rm(path.join(target, pairOf(copy, 'different').pictures.a));
				await symlink(path.join(path.dirname(good), 'secret.png'), path.join(target, pairOf(copy, 'different').pictures.a));
			}),
		],
		[
			'a symlinked folder',
			blob(async (copy, target) => {
				await symlink(path.join(path.dirname(good), 'outside'), path.join(target, 'files', 'sub'));
				pairOf(copy, 'different').pictures.a = 'files/sub/secret.png';
			}),
		],
		[
			'a symlinked lyipc-blob.json',
			async dir => {
				const {dirs} = await blob(() => undefined)(dir);
				await copyFile(path.join(dirs[0], 'lyipc-blob.json'), path.join(dir, 'real.json'));
				await rm(path.join(dirs[0], 'lyipc-blob.json'));
				await symlink(path.join(dir, 'real.json'), path.join(dirs[0], 'lyipc-blob.json'));
				return {dirs};
			},
		],
		[
			'a FIFO for a picture',
			blob(async (copy, target) => {
				const file = path.join(target, pairOf(copy, 'different').pictures.xor);
				await rm(file);
				spawnSync('mkfifo', [file]);
			}),
		],
		[
			'a FIFO for lyipc-blob.json',
			async dir => {
				const target = path.join(dir, 'blob');
				await cp(good, target, {recursive: true});
				await rm(path.join(target, 'lyipc-blob.json'));
				spawnSync('mkfifo', [path.join(target, 'lyipc-blob.json')]);
				return {dirs: [target]};
			},
		],
		['a picture missing', blob(async (copy, target) => rm(path.join(target, pairOf(copy, 'different').pictures.overview)))],
		['files/ missing', blob(async (_, target) => rm(path.join(target, 'files'), {recursive: true}))],
		[
			'a pair twice in one blob',
			blob(copy => {
				copy.result.pairs.push(copy.result.pairs[Math.floor(next() * copy.result.pairs.length)]);
			}),
		],
		[
			'a pair in two blobs',
			async dir => {
				const first = await field(['result', 'shard'], {index: 1, count: 2})(dir, 'first');
				const second = await field(['result', 'shard'], {index: 2, count: 2})(dir, 'second');
				return {dirs: [...first.dirs, ...second.dirs]};
			},
		],
		[
			'one blob given twice',
			async dir => {
				const {dirs} = await blob(() => undefined)(dir);
				return {dirs: [dirs[0], dirs[0]]};
			},
		],
		['JSON cut short', blob(() => text.slice(0, Math.floor(next() * text.length)))],
		['an empty lyipc-blob.json', blob(() => '')],
		['bytes that are not UTF-8', blob(() => Buffer.concat([Buffer.from(text.slice(0, 200)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(text.slice(200))]))],
		['blob format 2', field(['blobFormat'], 2)],
		['blob format "1"', field(['blobFormat'], '1')],
		['no blob format', field(['blobFormat'], undefined)],
		['result format 1', field(['result', 'formatVersion'], 1)],
		['a shard past its count', field(['result', 'shard'], {index: 3, count: 2})],
		[
			'the blob is a file',
			async dir => {
				await writeFile(path.join(dir, 'blob'), text);
				return {dirs: [path.join(dir, 'blob')]};
			},
		],
		[
			'--out-dir inside the blob',
			async dir => {
				const {dirs} = await blob(() => undefined)(dir);
				return {dirs, outDir: path.join(dirs[0], 'files', 'report')};
			},
		],
		[
			'the blob in the report folder, by a symlink',
			async dir => {
				const {dirs} = await blob(() => undefined)(path.join(dir, 'report'), 'shard');
				await symlink(dirs[0], path.join(dir, 'shard-link'));
				return {dirs: [path.join(dir, 'shard-link')]};
			},
		],
	);
	return list;
}

/** `count` paths spread over the depths: a field of the result, of a pair, of its result, of a layer, ... */
function pickByDepth(paths, count) {
	const byDepth = new Map();
	for (const keys of paths) {
		byDepth.set(keys.length, [...(byDepth.get(keys.length) ?? []), keys]);
	}

	const depths = [...byDepth.keys()].sort((x, y) => x - y);
	const picked = [];
	for (let round = 0; picked.length < count && round < paths.length; round++) {
		for (const depth of depths) {
			const keys = byDepth.get(depth)[round];
			if (keys && picked.length < count) {
				picked.push(keys);
			}
		}
	}

	return picked;
}

/** A small tree from the fixtures: a differing pair, an identical one in a folder, a reference without output. */
async function makeTree(root) {
	const fixture = name => path.join(ROOT, 'fixtures', name);
	for (const dir of ['ref/sub', 'run/sub']) {
		await mkdir(path.join(root, dir), {recursive: true});
	}

	await copyFile(fixture('base.gds'), path.join(root, 'ref', 'ring.gds'));
	await copyFile(fixture('one_shape.gds'), path.join(root, 'run', 'ring.gds'));
	await copyFile(fixture('base.gds'), path.join(root, 'ref', 'sub', 'same.gds'));
	await copyFile(fixture('base.gds'), path.join(root, 'run', 'sub', 'same.gds'));
	await copyFile(fixture('base.gds'), path.join(root, 'ref', 'only.gds'));
}

export async function run({seed = 1, deadlineMs = 10 * 60_000, log = () => undefined} = {}) {
	const deadline = deadlineMs < 86_400_000 ? Date.now() + deadlineMs : deadlineMs;
	if (!existsSync(CLI)) {
		throw new Error(`bench/fuzz/blobs.mjs: ${CLI} is missing; run npm run build first`);
	}

	const work = await mkdtemp(path.join(tmpdir(), 'lyipc-fuzz-blobs-'));
	const notes = [];
	let clean = 0;
	let internal = 0;
	let done = 0;
	try {
		await makeTree(work);
		const good = path.join(work, 'good');
		const made = await runNode([CLI, 'ref', 'run', '--shard', '1/1', '--workers', '1', '--out-dir', 'out', '--reporter', `blob=${good}`, '-q'], work);
		if (made.code !== 1) {
			throw new Error(`bench/fuzz/blobs.mjs: the real blob was not made (exit ${made.code}): ${made.stderr}`);
		}

		await writeFile(path.join(work, 'secret.png'), `${SECRET}\n`, {mode: 0o600});
		await mkdir(path.join(work, 'outside'));
		await writeFile(path.join(work, 'outside', 'secret.png'), `${SECRET}\n`);
		const json = JSON.parse(await readFile(path.join(good, 'lyipc-blob.json'), 'utf8'));
		const all = cases(good, json, random(seed).next);
		for (const [index, [name, make]] of all.entries()) {
			if (Date.now() > deadline) {
				notes.push(`deadline: ${all.length - index} of ${all.length} cases not run`);
				break;
			}

			const dir = path.join(work, `case-${index}`);
			await mkdir(dir);
			// The last report of a good merge: a refused merge must leave it as it was.
			const last = await runNode([CLI, 'merge-reports', good, '--out-dir', path.join(dir, 'report'), '--reporter', 'html', '-q'], dir);
			const {dirs, outDir = path.join(dir, 'report')} = await make(dir);
			const before = JSON.stringify(await snapshot(path.join(dir, 'report')));
			const merged = await runNode([CLI, 'merge-reports', ...dirs, '--out-dir', outDir, '--reporter', 'json', '--reporter', 'html', '--json'], dir);
			const verdict = await judge(merged, dirs, outDir, before, path.join(dir, 'report'), last.code);
			done++;
			if (verdict === null) {
				clean++;
			} else {
				internal++;
				notes.push(`case ${index} (${name}): ${verdict}`);
			}

			log(`${verdict === null ? 'clean   ' : 'INTERNAL'} ${index} ${name}${verdict ? `: ${verdict}` : ''}`);
			await rm(dir, {recursive: true, force: true});
		}
	} finally {
		await rm(work, {recursive: true, force: true});
	}

	return {set: 'blobs', cases: done, clean, internal, notes};
}

/** null when the merge was refused cleanly or merged correctly, else why not. */
async function judge(merged, dirs, outDir, before, report, lastCode) {
	if (merged.hung) {
		return `no answer within ${CASE_TIMEOUT_MS / 1000} s`;
	}

	if (/unexpected failure|\n\s+at /.test(merged.stderr)) {
		return `a stack: ${merged.stderr.slice(0, 300)}`;
	}

	let output;
	try {
		output = JSON.parse(merged.stdout);
	} catch {
		return `exit ${merged.code}, no JSON on stdout: ${merged.stderr.slice(0, 300)}`;
	}

	if (output.status === 'error' && output.error) {
		const {code, message} = output.error;
		if (merged.code !== 2 || code === 'INTERNAL' || typeof code !== 'string') {
			return `exit ${merged.code}, ${code}: ${message}`;
		}

		if (!dirs.some(dir => message.includes(dir))) {
			return `${code} does not name the blob: ${message}`;
		}

		if (lastCode === 1 && JSON.stringify(await snapshot(report)) !== before) {
			return `refused (${code}), but the last report changed`;
		}

		return null;
	}

	const expected = output.status === 'error' ? 2 : output.status === 'different' ? 1 : 0;
	if (merged.code !== expected || !Array.isArray(output.pairs)) {
		return `exit ${merged.code} for a merged result of status ${output.status}`;
	}

	return wrongMerge(output, path.resolve(outDir));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const {values} = parseArgs({options: {seed: {type: 'string', default: '1'}, seconds: {type: 'string', default: '600'}, verbose: {type: 'boolean', short: 'v'}}});
	const started = Date.now();
	const result = await run({seed: Number(values.seed), deadlineMs: Number(values.seconds) * 1000, log: values.verbose ? line => console.log(line) : undefined});
	for (const note of result.notes) {
		console.log(`  ${note}`);
	}

	console.log(`blobs, seed ${values.seed}: ${result.cases} cases, ${result.clean} clean, ${result.internal} internal (${((Date.now() - started) / 1000).toFixed(1)} s)`);
	process.exitCode = result.internal === 0 ? 0 : 1;
}
