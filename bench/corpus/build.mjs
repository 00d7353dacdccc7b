#!/usr/bin/env node
// Builds the real-layout corpus (bench/corpus/sources.json) into a cache folder: every layout
// file once, named by its git blob id, and manifest.json listing the pairs to compare.
//
// Usage: node bench/corpus/build.mjs [--cache DIR] [--git OWNER/NAME=GITDIR]...
//   --cache  where the corpus goes (default $LYIPC_CORPUS, else ~/.cache/lyipc/corpus)
//   --git    use this local clone (a git directory, bare or not) of a source's repository;
//            without it the repository is cloned from GitHub into the cache (needs network).
// Files are fetched from git, never committed to lyipc: their licences differ (sources.json).
// A 'rewrite' source also writes a file again in the other format with KLayout's strm2gds.
import {execFileSync, spawn} from 'node:child_process';
import {existsSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs';
import {homedir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {findStrmxor} from '../../test/helpers/strmxor.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const LAYOUT = /\.(gds|gds2|gdsii|oas)(\.gz)?$/i;
// The blobs of fetched snapshots may lack big files; a pair needs both of its files.
const MAX_BYTES = 64 * 1024 * 1024;

const {values} = parseArgs({options: {cache: {type: 'string'}, git: {type: 'string', multiple: true, default: []}}});
const cache = path.resolve(values.cache ?? process.env.LYIPC_CORPUS ?? path.join(homedir(), '.cache', 'lyipc', 'corpus'));
const localGit = new Map(
	values.git.map(spec => {
		const at = spec.indexOf('=');
		if (at < 1) {
			fail(`--git takes OWNER/NAME=GITDIR, got '${spec}'`);
		}

		return [spec.slice(0, at), path.resolve(spec.slice(at + 1))];
	}),
);
const {sources} = JSON.parse(readFileSync(path.join(HERE, 'sources.json'), 'utf8'));

function fail(message) {
	console.error(`corpus: ${message}`);
	process.exit(2);
}

function git(gitDir, args) {
	return execFileSync('git', ['--git-dir', gitDir, ...args], {encoding: 'utf8', maxBuffer: 512 * 1024 * 1024});
}

/** The git directory of a source's repository: a local clone if given, else one in the cache. */
function repository(repo) {
	const given = localGit.get(repo);
	if (given) {
		return existsSync(path.join(given, '.git')) ? path.join(given, '.git') : given;
	}

	const target = path.join(cache, 'repos', repo.replace('/', '+') + '.git');
	if (!existsSync(target)) {
		console.error(`corpus: cloning https://github.com/${repo} ...`);
		mkdirSync(path.dirname(target), {recursive: true});
		execFileSync('git', ['clone', '--mirror', '--quiet', `https://github.com/${repo}.git`, target], {stdio: 'inherit'});
	}

	return target;
}

/** Pairs of blob ids of a 'neighbours' source: each layout file with the next in its folder. */
function neighbourPairs(gitDir, source) {
	const listing = git(gitDir, ['ls-tree', '-r', '-l', source.commit, '--', source.under]);
	const byFolder = new Map();
	for (const line of listing.split('\n')) {
		const match = /^\d+ blob ([0-9a-f]{40}) +(\d+|-)\t(.*)$/.exec(line);
		if (!match || !LAYOUT.test(match[3])) {
			continue;
		}

		const folder = path.posix.dirname(match[3]);
		byFolder.set(folder, [...(byFolder.get(folder) ?? []), {blob: match[1], path: match[3]}]);
	}

	const pairs = [];
	for (const files of byFolder.values()) {
		files.sort((x, y) => (x.path < y.path ? -1 : 1));
		for (let i = 0; i + 1 < files.length; i++) {
			pairs.push({a: files[i], b: files[i + 1]});
		}
	}

	return pairs;
}

/** Pairs of a 'history' source: each version of a layout file with its next version. */
function historyPairs(gitDir, source) {
	const versions = new Map(); // path -> [blob ids, oldest first]
	for (const ref of source.refs) {
		const log = git(gitDir, ['log', '--reverse', '--no-renames', '--format=C %H', '--raw', '--no-abbrev', ref, '--', source.under || '.']);
		for (const line of log.split('\n')) {
			const match = /^:\d+ \d+ [0-9a-f]{40} ([0-9a-f]{40}) [AM]\t(.*)$/.exec(line);
			if (!match || !LAYOUT.test(match[2])) {
				continue;
			}

			const list = versions.get(match[2]) ?? [];
			if (list.at(-1) !== match[1]) {
				list.push(match[1]);
			}

			versions.set(match[2], list);
		}
	}

	const pairs = [];
	const seen = new Set();
	for (const [file, blobs] of versions) {
		for (let i = 0; i + 1 < blobs.length; i++) {
			const key = `${blobs[i]}:${blobs[i + 1]}`;
			if (blobs[i] !== blobs[i + 1] && !seen.has(key)) {
				seen.add(key);
				pairs.push({a: {blob: blobs[i], path: file}, b: {blob: blobs[i + 1], path: file}});
			}
		}
	}

	return pairs;
}

/** Pairs of a 'rewrite' source: each file against itself written in the other format. */
async function rewritePairs(gitDir, source) {
	const pairs = [];
	for (const file of source.paths) {
		const blob = git(gitDir, ['rev-parse', `${source.commit}:${file}`]).trim();
		const original = {blob, path: file};
		await extract(gitDir, [original]);
		const toGds = /\.oas(\.gz)?$/i.test(file);
		const rewritten = path.join(cache, 'files', `${blob}.rewrite${toGds ? '.gds' : '.oas'}`);
		if (!existsSync(rewritten)) {
			const tool = path.join(path.dirname(strmxor()), toGds ? 'strm2gds' : 'strm2oas');
			execFileSync(tool, [blobPath(original), rewritten + '.tmp' + (toGds ? '.gds' : '.oas')], {env: {...process.env, LD_LIBRARY_PATH: path.dirname(tool)}, stdio: 'inherit'});
			renameSync(rewritten + '.tmp' + (toGds ? '.gds' : '.oas'), rewritten);
		}

		pairs.push({a: {blob: `${blob}.rewrite`, path: file.replace(/\.oas(\.gz)?$/i, toGds ? '.gds' : '.oas')}, b: original, ready: true});
	}

	return pairs;
}

/** strmxor's path: its sibling buddy tools convert formats. */
function strmxor() {
	const found = findStrmxor();
	if (!found) {
		fail('strmxor not found next to KLayout (its strm2gds makes the rewrites); set STRMXOR=/path/to/strmxor');
	}

	return found;
}

/** Writes blobs into the cache with `git cat-file --batch`; returns the ids it could write. */
async function extract(gitDir, files) {
	const wanted = [...new Map(files.map(file => [file.blob, file])).values()].filter(file => !existsSync(blobPath(file)));
	const present = new Set(files.map(file => file.blob).filter(blob => !wanted.some(file => file.blob === blob)));
	if (wanted.length === 0) {
		return present;
	}

	const child = spawn('git', ['--git-dir', gitDir, 'cat-file', '--batch'], {stdio: ['pipe', 'pipe', 'inherit']});
	let buffer = Buffer.alloc(0);
	let index = 0;
	const done = new Promise((resolve, reject) => {
		child.on('error', reject);
		child.on('close', resolve);
	});
	child.stdout.on('data', chunk => {
		buffer = Buffer.concat([buffer, chunk]);
		for (;;) {
			const newline = buffer.indexOf(10);
			if (newline < 0 || index >= wanted.length) {
				return;
			}

			const header = buffer.subarray(0, newline).toString('utf8');
			if (header.endsWith(' missing')) {
				buffer = buffer.subarray(newline + 1);
				index++;
				continue;
			}

			const size = Number(header.split(' ')[2]);
			if (buffer.length < newline + 1 + size + 1) {
				return;
			}

			const file = wanted[index++];
			if (size > 0 && size <= MAX_BYTES) {
				const target = blobPath(file);
				writeFileSync(target + '.tmp', buffer.subarray(newline + 1, newline + 1 + size));
				renameSync(target + '.tmp', target);
				present.add(file.blob);
			}

			buffer = buffer.subarray(newline + 1 + size + 1);
		}
	});
	child.stdin.end(wanted.map(file => file.blob).join('\n') + '\n');
	await done;
	return present;
}

function extension(file) {
	return LAYOUT.exec(file.path)[0].toLowerCase();
}

function blobPath(file) {
	return path.join(cache, 'files', file.blob + extension(file));
}

mkdirSync(path.join(cache, 'files'), {recursive: true});
const manifest = {built: new Date().toISOString(), sources: [], pairs: []};
for (const source of sources) {
	const gitDir = repository(source.repo);
	const pairs = source.kind === 'neighbours' ? neighbourPairs(gitDir, source) : source.kind === 'rewrite' ? await rewritePairs(gitDir, source) : historyPairs(gitDir, source);
	const present = await extract(
		gitDir,
		pairs.filter(pair => !pair.ready).flatMap(pair => [pair.a, pair.b]),
	);
	for (const pair of pairs.filter(pair => pair.ready)) {
		present.add(pair.a.blob).add(pair.b.blob);
	}

	const usable = pairs.filter(pair => present.has(pair.a.blob) && present.has(pair.b.blob));
	manifest.sources.push({name: source.name, what: source.what, repo: source.repo, pairs: usable.length, skipped: pairs.length - usable.length});
	for (const [index, pair] of usable.entries()) {
		manifest.pairs.push({
			source: source.name,
			id: `${source.name}/${index}`,
			a: path.relative(cache, blobPath(pair.a)),
			b: path.relative(cache, blobPath(pair.b)),
			aPath: pair.a.path,
			bPath: pair.b.path,
		});
	}

	console.error(`corpus: ${source.name}: ${usable.length} pairs (${pairs.length - usable.length} skipped: a file missing, empty or over ${MAX_BYTES / 1024 / 1024} MB)`);
}

writeFileSync(path.join(cache, 'manifest.json.tmp'), JSON.stringify(manifest, null, '\t') + '\n');
renameSync(path.join(cache, 'manifest.json.tmp'), path.join(cache, 'manifest.json'));
console.error(`corpus: ${manifest.pairs.length} pairs in ${cache}`);
