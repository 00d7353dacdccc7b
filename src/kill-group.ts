/** A child process as node:child_process and execa both describe it. */
interface Killable {
	pid?: number | undefined;
	exitCode: number | null;
	signalCode: NodeJS.Signals | null;
	kill(signal?: NodeJS.Signals | number): boolean;
}

/**
 * Kills a child started `detached` and everything it started (its process group), at once. On
 * Windows, where there are no process groups, the child itself. A child already gone is left alone.
 */
export function killGroup(child: Killable): void {
	if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
		return;
	}

	try {
		if (process.platform === 'win32') {
			child.kill('SIGKILL');
		} else {
			process.kill(-child.pid, 'SIGKILL');
		}
	} catch {
		try {
			child.kill('SIGKILL');
		} catch {
			// gone meanwhile
		}
	}
}
