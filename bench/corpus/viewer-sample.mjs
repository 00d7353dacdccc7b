// The viewer path on a sample of differing pairs: a real KLayout GUI under Xvfb with the lyipc
// server, and for each pair `lyipc-diff A B --view` as a user runs it (the comparison on this
// run's warm worker, then show-diff). The viewer's `status` must then list the pair's view with
// its XOR layers and its marker database; the view is closed before the next pair, so that
// each pair's memory is its own. The time and memory limits count lyipc-diff, the warm worker
// and the viewer's KLayout; a viewer killed over a limit is started again for the next pair.
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {random, startGuiViewer} from '../helpers.mjs';
import {runLimited} from './limits.mjs';
import {makePairTree, removePairTree} from './pair-tree.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIFF_CLI = path.join(ROOT, 'dist', 'src', 'cli', 'lyipc-diff.js');

/** `list` in an order fixed by `seed` (Fisher-Yates). */
export function shuffled(list, seed) {
	const order = [...list];
	const generator = random(seed);
	for (let index = order.length - 1; index > 0; index--) {
		const other = generator.int(0, index);
		[order[index], order[other]] = [order[other], order[index]];
	}

	return order;
}

/**
 * Shows up to `count` differing pairs of `candidates` (taken in the order of `seed`; a pair that
 * turns out identical or not comparable is passed over) and resolves after calling
 * `onResult(pair, result)` for each one shown. `viewers` holds the stop of the viewer running
 * (for an interrupted run).
 */
export async function runViewerSample({candidates, count, seed, cache, workDir, runner, timeoutMs, memoryMb, viewers, onResult}) {
	const {ViewerClient} = await import(path.join(ROOT, 'dist', 'src', 'index.js'));
	let viewer;
	const start = async () => {
		viewers.delete(viewer?.stop);
		viewer?.stop();
		viewer = await startGuiViewer();
		viewers.add(viewer.stop);
	};

	await start();
	let shown = 0;
	try {
		for (const pair of shuffled(candidates, seed)) {
			if (shown >= count) {
				break;
			}

			if (!viewer.alive()) {
				// Killed over a limit with the pair before, and the warm worker with it.
				await start();
				await runner.warmUp();
			}

			const tree = makePairTree(cache, pair, workDir);
			try {
				const result = await showPair(tree, {viewer, runner, timeoutMs, memoryMb, ViewerClient});
				if (result) {
					shown++;
					onResult(pair, result);
				}
			} finally {
				removePairTree(tree);
			}
		}
	} finally {
		viewers.delete(viewer.stop);
		viewer.stop();
	}
}

/** One pair's result, or null when it is no differing pair (nothing to show). */
async function showPair(tree, {viewer, runner, timeoutMs, memoryMb, ViewerClient}) {
	const args = [DIFF_CLI, tree.a, tree.b, '--view', '--target', `127.0.0.1:${viewer.port}`, '--json', '--out-dir', path.join(tree.dir, 'view'), '--timeout', '0'];
	const run = await runLimited(process.execPath, args, {
		cwd: tree.dir,
		env: runner.diffEnv,
		timeoutMs,
		memoryMb,
		helpers: () => [viewer.pid, ...runner.warmServer()],
	});
	const base = {ms: Math.round(run.ms), peakMb: run.peakMb, verdict: 'different'};
	if (run.over) {
		return {...base, status: `over ${run.over}`, reason: run.over === 'time' ? `killed after ${(run.ms / 1000).toFixed(1)} s` : `killed at ${run.peakMb} MB`};
	}

	const answer = parseJson(run.stdout);
	if (run.code === 0 || (run.code === 2 && answer?.error && !answer.error.code.startsWith('VIEWER_'))) {
		return null;
	}

	if (run.code !== 1) {
		return {...base, status: 'failed', reason: `exit ${run.code}: ${answer?.error?.message ?? run.stderr.trim()}`};
	}

	const skipped = /without the marker database: (.*)/.exec(run.stderr);
	const reason = skipped ? `markers not shown: ${skipped[1]}` : await statusReason(viewer, path.basename(tree.name), ViewerClient);
	return {...base, status: reason ? 'failed' : 'ok', reason};
}

function parseJson(text) {
	try {
		return JSON.parse(text);
	} catch {
		return null;
	}
}

/** Null when the viewer's status lists the pair's view with XOR layers and a marker database; that view is then closed. */
async function statusReason(viewer, name, ViewerClient) {
	let client;
	try {
		client = await ViewerClient.connect({host: '127.0.0.1', port: viewer.port}, {timeout: 30_000});
		const {views} = await client.request('status');
		const view = views.find(candidate => candidate.title.startsWith(`lyipc-diff: ${name}:`));
		if (!view) {
			return `no view titled for ${name} in the viewer's status (${views.map(candidate => candidate.title).join('; ')})`;
		}

		await client.request('close', {view: view.index});
		if (!view.layerNames.some(layer => layer.startsWith('XOR '))) {
			return `the view has no XOR layer (${view.layerNames.slice(0, 5).join(', ')})`;
		}

		return view.markerDatabases.length > 0 ? null : 'the view lists no marker database';
	} catch (error) {
		return `status: ${error.message}`;
	} finally {
		client?.close();
	}
}
