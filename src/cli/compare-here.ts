import {compareLayouts, type CompareOptions} from '../xor/compare.js';
import type {CompareResult} from '../xor/result.js';

/**
 * One pair on this machine: on the warm worker when wanted (src/engine/warm-worker.ts), else on
 * a KLayout of its own. lyipc-diff and git's diff driver both come here: git starts the driver
 * once per file, so without the warm worker every file would pay KLayout's start-up.
 */
export async function compareHere(a: string, b: string, options: CompareOptions, warm: boolean, env: NodeJS.ProcessEnv): Promise<CompareResult> {
	const {WarmWorkerClient, warmWorkerWanted} = await import('../engine/warm-worker.js');
	if (!warm || !warmWorkerWanted(env)) {
		return compareLayouts(a, b, options);
	}

	const worker = new WarmWorkerClient({klayout: options.klayout, env});
	try {
		return await compareLayouts(a, b, {...options, worker});
	} finally {
		await worker.close();
	}
}
