import {rename, rm} from 'node:fs/promises';
import {checkLayoutFile, type LayoutInput, type Side} from './input.js';
import {sameBytes} from './same-bytes.js';

/**
 * How a comparison's files meet its worker. Locally (and on a shared filesystem) the worker
 * reads and writes this machine's paths; a worker on a remote host gets inputs sent and its
 * outputs fetched (src/remote). Comparisons and pictures go through this one interface.
 */
export interface WorkerFiles {
	/** Whether the worker sees this machine's paths as they are: nothing crosses. */
	readonly shared: boolean;
	/** Checks input `file` where it is (here, or on the host for --remote-paths). */
	check(file: string, side: Side): Promise<LayoutInput>;
	/** Whether A and B are byte for byte the same; false when that cannot be told here. */
	sameBytes(a: LayoutInput, b: LayoutInput): Promise<boolean>;
	/** The worker's path for input `file` (sending it there when needed). */
	input(file: string, side: Side): Promise<string>;
	/** The worker's path for an output whose hidden local name is `local`. */
	output(local: string): string;
	/** Brings written outputs to their local names. */
	fetch(files: Array<{worker: string; local: string}>): Promise<void>;
	/** The comparison is over: what was sent to the worker, and outputs it wrote that were not fetched, may go. */
	release(files: string[]): Promise<void>;
}

/** The worker runs here: inputs are read where they are; an output fetched is renamed into place; release removes only outputs it named, never an input. */
export function localFiles(): WorkerFiles {
	const outputs = new Set<string>();
	return {
		shared: true,
		check: checkLayoutFile,
		sameBytes: async (a, b) => sameBytes(a.path, b.path, a.size, b.size),
		input: async file => file,
		output(local) {
			outputs.add(local);
			return local;
		},
		async fetch(files) {
			for (const {worker, local} of files) {
				outputs.delete(worker); // in place now: nothing left to release
				if (worker !== local) {
					await rename(worker, local);
				}
			}
		},
		async release(files) {
			const left = files.filter(file => outputs.delete(file));
			await Promise.all(left.map(async file => rm(file, {force: true})));
		},
	};
}
