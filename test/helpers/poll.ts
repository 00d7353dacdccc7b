import {setTimeout as sleep} from 'node:timers/promises';

/**
 * Waits until `check` holds, looking every 50 ms, rather than sleeping a fixed time before an
 * assertion: fast when things are fast, patient on a loaded machine. Rejects naming `what`
 * after `timeout` ms.
 */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeout = 15_000): Promise<void> {
	const deadline = Date.now() + timeout;
	while (!(await check())) {
		if (Date.now() > deadline) {
			throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
		}

		await sleep(50);
	}
}
