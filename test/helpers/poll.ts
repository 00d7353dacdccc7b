import net from 'node:net';
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

/** Whether something accepts connections on the port. */
export async function listening(port: number): Promise<boolean> {
	return new Promise(resolve => {
		const socket = net.connect(port, '127.0.0.1');
		socket.on('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.on('error', () => {
			resolve(false);
		});
	});
}
