// The report paths a user runs, each on one corpus pair (bench/corpus/pair-tree.mjs), each as
// the user runs it (a lyipc-diff process, git), under a time limit and a memory limit:
//
//   reports   lyipc-diff REF RUN with the JSON, JUnit and Markdown reporters (no pictures)
//   pictures  lyipc-diff REF RUN with the HTML reporter, which draws every differing pair
//   blob      lyipc-diff REF RUN --reporter blob=DIR (pictures too), then merge-reports DIR
//             writing every report; the merged counts must equal the run's
//   git       git diff --no-index of the two files, with lyipc's diff driver set up by
//             `lyipc git-setup --global` in a home folder of this run
//
// Directory runs and the git driver take the warm worker of this run, as they do for a user (its
// server and KLayouts are counted in the pair's memory, and killed with the run when it is over
// a limit). A result is {status: 'ok' |
// 'failed' | 'over time' | 'over memory', reason, ms, peakMb, verdict: the pair's status as
// that path saw it (identical, different, error)}.
import {execFileSync} from 'node:child_process';
import {mkdirSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {artifactsReason, gitOutput, htmlReason, jsonReport, junitReason, markdownReason, mergedReason, picturesReason} from './checks.mjs';
import {descendants, killAll, processesMentioning, processTable, runLimited} from './limits.mjs';
import {makePairTree, removePairTree} from './pair-tree.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIFF_CLI = path.join(ROOT, 'dist', 'src', 'cli', 'lyipc-diff.js');
const LYIPC_CLI = path.join(ROOT, 'dist', 'src', 'cli', 'lyipc.js');
export const PAIR_PATHS = ['reports', 'pictures', 'blob', 'git'];

/**
 * Runs the report paths on pairs: `run(name, tree, pair)` resolves the path's result; `warmUp()`
 * starts the warm worker (before anything is timed, and again after a run over a limit killed
 * it); `stop()` ends it. `env`: the environment of every process (the warm worker in `workDir`).
 */
export function pathRunner({workDir, timeoutMs, memoryMb, env}) {
	const warmDir = path.join(workDir, 'warm');
	const home = path.join(workDir, 'home');
	mkdirSync(warmDir, {recursive: true});
	mkdirSync(home, {recursive: true});
	const {XDG_CONFIG_HOME: _xdg, ...rest} = env;
	const diffEnv = {...rest, LYIPC_WARM_WORKER: '1', LYIPC_WARM_WORKER_DIR: warmDir, LYIPC_WARM_WORKER_IDLE: String(timeoutMs / 1000 + 60), NO_COLOR: '1'};
	const gitEnv = {...diffEnv, HOME: home, GIT_CONFIG_NOSYSTEM: '1'};
	execFileSync(process.execPath, [LYIPC_CLI, 'git-setup', '--global'], {env: gitEnv, stdio: 'ignore'});
	const warmServer = () => processesMentioning(warmDir);

	/** One process of a path, in the pair's folder, within what is left of the pair's time. */
	const step = (command, args, tree, leftMs, helpers = warmServer) => runLimited(command, args, {cwd: tree.dir, env: command === 'git' ? gitEnv : diffEnv, timeoutMs: leftMs, memoryMb, helpers});
	// No timeout of lyipc's own: this run's limit decides, and stops the warm worker's KLayouts too.
	const lyipcDiff = (args, tree, leftMs = timeoutMs) => step(process.execPath, [DIFF_CLI, ...args, ...(args[0] === 'merge-reports' ? [] : ['--timeout', '0'])], tree, leftMs);

	const paths = {
		async reports(tree) {
			const out = path.join(tree.dir, 'reports');
			const files = {json: path.join(out, 'report.json'), junit: path.join(out, 'junit.xml'), markdown: path.join(out, 'summary.md')};
			const run = await lyipcDiff(
				[tree.reference, tree.output, '--reporter', `json=${files.json}`, '--reporter', `junit=${files.junit}`, '--reporter', `markdown=${files.markdown}`, '--out-dir', path.join(out, 'artifacts')],
				tree,
			);
			return judged(run, () => {
				const {pair, reason} = jsonReport(files.json, tree.name, run.code);
				return {verdict: pair?.status, reason: reason ?? junitReason(files.junit, tree.name, pair.status) ?? markdownReason(files.markdown, tree.name, pair.status) ?? artifactsReason(pair)};
			});
		},

		async pictures(tree) {
			const out = path.join(tree.dir, 'pictures');
			const json = path.join(out, 'report.json');
			const run = await lyipcDiff([tree.reference, tree.output, '--reporter', 'html', '--reporter', `json=${json}`, '--out-dir', path.join(out, 'html')], tree);
			return judged(run, () => {
				const {pair, reason} = jsonReport(json, tree.name, run.code);
				// The pair's own time is its comparison and its pictures.
				const picturesMs = pair?.result ? Math.max(0, pair.ms - pair.result.timings.totalMs) : null;
				return {verdict: pair?.status, picturesMs, reason: reason ?? htmlReason(path.join(out, 'html', 'index.html'), tree.name) ?? picturesReason(pair)};
			});
		},

		async blob(tree) {
			const out = path.join(tree.dir, 'blob');
			const blob = path.join(out, 'blob');
			const files = {run: path.join(out, 'run.json'), merged: path.join(out, 'merged.json'), junit: path.join(out, 'merged.xml'), markdown: path.join(out, 'merged.md')};
			const run = await lyipcDiff([tree.reference, tree.output, '--reporter', `blob=${blob}`, '--reporter', `json=${files.run}`, '--out-dir', path.join(out, 'shard')], tree);
			if (run.over) {
				return judged(run);
			}

			const reporters = ['--reporter', `json=${files.merged}`, '--reporter', 'html', '--reporter', `junit=${files.junit}`, '--reporter', `markdown=${files.markdown}`];
			const merge = await lyipcDiff(['merge-reports', blob, ...reporters, '--out-dir', path.join(out, 'merged')], tree, timeoutMs - run.ms);
			const both = {...merge, ms: run.ms + merge.ms, peakMb: Math.max(run.peakMb, merge.peakMb)};
			return judged(both, () => {
				const single = jsonReport(files.run, tree.name, run.code);
				const merged = jsonReport(files.merged, tree.name, merge.code);
				const status = merged.pair?.status;
				const reason =
					single.reason ??
					merged.reason ??
					mergedReason(single.report, merged.report, run.code, merge.code) ??
					junitReason(files.junit, tree.name, status) ??
					markdownReason(files.markdown, tree.name, status) ??
					htmlReason(path.join(out, 'merged', 'index.html'), tree.name) ??
					picturesReason(merged.pair);
				return {verdict: status, reason};
			});
		},

		async git(tree, pair) {
			const run = await step('git', ['diff', '--no-index', '--ext-diff', path.relative(tree.dir, tree.a), path.relative(tree.dir, tree.b)], tree, timeoutMs);
			// The cache names files by their contents: one file, the same bytes.
			return judged(run, () => gitOutput(run, pair.a === pair.b));
		},
	};

	const warmUp = async () => {
		const tree = makePairTree(ROOT, {a: 'fixtures/base.gds', b: 'fixtures/one_shape.gds', bPath: 'warm-up.gds'}, workDir);
		await paths.reports(tree);
		removePairTree(tree);
	};

	return {
		async run(name, tree, pair) {
			const result = await paths[name](tree, pair);
			if (result.status.startsWith('over')) {
				await warmUp();
			}

			return result;
		},
		warmUp,
		warmServer,
		diffEnv,
		stop() {
			killAll(descendants(processTable(), warmServer()));
		},
	};
}

/** A path's result from its process (or processes) and the check of what it wrote. */
function judged(run, check = () => ({})) {
	const base = {ms: Math.round(run.ms), peakMb: run.peakMb};
	if (run.over) {
		return {...base, status: `over ${run.over}`, reason: run.over === 'time' ? `killed after ${(run.ms / 1000).toFixed(1)} s` : `killed at ${run.peakMb} MB`, verdict: null};
	}

	let outcome;
	try {
		outcome = check();
	} catch (error) {
		// A report missing or not parseable.
		outcome = {reason: error.message};
	}

	const {reason = null, verdict = null, ...extra} = outcome;
	const said = run.stderr.trim().split('\n').at(-1);
	return {...base, ...extra, status: reason ? 'failed' : 'ok', reason: reason && said ? `${reason} (stderr: ${said})` : reason, verdict};
}

/**
 * The paths must agree on the pair: each one that answered with another verdict than the first
 * is marked failed.
 */
export function crossCheck(results) {
	const answered = Object.entries(results).filter(([, result]) => result.status === 'ok' && result.verdict);
	const [first, verdict] = answered.length > 0 ? [answered[0][0], answered[0][1].verdict] : [];
	for (const [name, result] of answered.slice(1)) {
		if (result.verdict !== verdict) {
			results[name] = {...result, status: 'failed', reason: `says ${result.verdict}, ${first} says ${verdict}`};
		}
	}

	return results;
}
