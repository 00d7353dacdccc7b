// A child process run with a time limit and a memory limit. The memory is the resident size
// (RSS) of every process the run uses, read from /proc while it runs: the child's descendants,
// and processes outside its tree that work for it (the warm worker server and its KLayouts,
// which lyipc-diff starts detached so that they outlive it). RLIMIT_AS would not do: it holds
// each process apart, and counts address space never touched (Node reserves ~1 GB).
import {spawnCapturing} from '../helpers.mjs';
import {readdirSync, readFileSync} from 'node:fs';
import {performance} from 'node:perf_hooks';

const PAGE_BYTES = 4096;
const POLL_MS = 100;
const MB = 1024 * 1024;
/** Children running now, each with the pids that work for it: what an interrupted run kills. */
const running = new Map();

/** Every process now: pid -> {ppid, rssMb, command}; processes gone while reading are skipped. */
export function processTable() {
	const table = new Map();
	for (const name of readdirSync('/proc')) {
		if (!/^\d+$/.test(name)) {
			continue;
		}

		try {
			// The command (field 2) is in parentheses and may hold spaces: fields count from its end.
			const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			const rssPages = Number(readFileSync(`/proc/${name}/statm`, 'utf8').split(' ')[1]);
			table.set(Number(name), {ppid: Number(fields[1]), rssMb: (rssPages * PAGE_BYTES) / MB, command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))});
		} catch {
			// ended between readdir and read
		}
	}

	return table;
}

/** `roots` and all their descendants in `table`. */
export function descendants(table, roots) {
	const children = new Map();
	for (const [pid, {ppid}] of table) {
		children.set(ppid, [...(children.get(ppid) ?? []), pid]);
	}

	const found = new Set();
	const stack = roots.filter(pid => table.has(pid));
	while (stack.length > 0) {
		const pid = stack.pop();
		if (!found.has(pid)) {
			found.add(pid);
			stack.push(...(children.get(pid) ?? []));
		}
	}

	return [...found];
}

/** Processes whose command line contains `text` (a folder only this run uses): the warm worker server of this run. */
export function processesMentioning(text) {
	const pids = [];
	for (const name of readdirSync('/proc')) {
		if (/^\d+$/.test(name) && Number(name) !== process.pid) {
			try {
				if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(text)) {
					pids.push(Number(name));
				}
			} catch {}
		}
	}

	return pids;
}

/** SIGKILL to each pid (and its process group when it leads one), ignoring those already gone. */
export function killAll(pids) {
	for (const pid of pids) {
		try {
			process.kill(pid, 'SIGKILL');
		} catch {}
	}
}

/** Kills every child runLimited started that still runs, and the processes working for it. */
export function killRunning() {
	const table = processTable();
	for (const [pid, helperPids] of running) {
		killAll(descendants(table, [pid, ...helperPids]));
	}
}

/**
 * Runs `command` in a process group of its own; resolves {code, signal, stdout, stderr, ms,
 * peakMb, largest, over}. `peakMb` is the largest sum of RSS seen over the child's tree and the
 * trees of `helpers()` (pids of processes outside the tree that work for it); `largest` is the
 * largest RSS of any one of those processes, {mb, command}; `over` is 'time' past `timeoutMs`,
 * 'memory' past `memoryMb` (the sum, or with `memoryOf: 'largest'` any one process), else null.
 * Over either limit, the child's tree and the helpers' trees are killed.
 */
export function runLimited(command, args, {cwd, env, timeoutMs, memoryMb, helpers = () => [], memoryOf = 'sum'} = {}) {
	return new Promise(resolve => {
		const started = performance.now();
		const {child, output} = spawnCapturing(command, args, {cwd, env, detached: true});
		let over = null;
		let peakMb = 0;
		let largest = {mb: 0, command: null};
		let helperPids = [];
		const stop = reason => {
			if (over) {
				return;
			}

			over = reason;
			const table = processTable();
			killAll(descendants(table, [child.pid, ...helperPids]));
		};

		const poll = () => {
			helperPids = helpers();
			running.set(child.pid, helperPids);
			const table = processTable();
			const pids = descendants(table, [child.pid, ...helperPids]);
			const mb = pids.reduce((sum, pid) => sum + table.get(pid).rssMb, 0);
			peakMb = Math.max(peakMb, mb);
			let now = 0;
			for (const pid of pids) {
				const {rssMb, command: name} = table.get(pid);
				now = Math.max(now, rssMb);
				if (rssMb > largest.mb) {
					largest = {mb: rssMb, command: name};
				}
			}

			if (memoryMb !== undefined && (memoryOf === 'largest' ? now : mb) > memoryMb) {
				stop('memory');
			}
		};

		const poller = setInterval(poll, POLL_MS);
		const timer = setTimeout(() => stop('time'), timeoutMs);
		running.set(child.pid, []);
		child.on('close', (code, signal) => {
			running.delete(child.pid);
			clearInterval(poller);
			clearTimeout(timer);
			resolve({code, signal, ...output(), ms: performance.now() - started, peakMb: Math.round(peakMb), largest: {...largest, mb: Math.round(largest.mb)}, over});
		});
	});
}
