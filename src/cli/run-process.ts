import type {CliIo} from './io.js';
import {exitQuietlyOnClosedPipe} from './quiet-pipe.js';

export interface RunProcessOptions {
	/** Whether the first Ctrl+C / SIGTERM asks the command to stop cleanly (else the process exits at once). */
	stopsCleanly: boolean;
	/** The exit code when the process exits on a signal without waiting. */
	signalExitCode: number;
}

/**
 * Runs a command as this process: its streams, environment and arguments; a closed pipe ends it
 * quietly; Ctrl+C / SIGTERM abort its signal (KLayout stops, partial output goes), and a second
 * one exits at once.
 */
export async function runAsProcess(main: (argv: string[], io: CliIo) => Promise<number>, options: RunProcessOptions): Promise<void> {
	const controller = new AbortController();
	const stop = () => {
		if (!options.stopsCleanly || controller.signal.aborted) {
			process.exit(options.signalExitCode);
		}

		controller.abort();
	};

	exitQuietlyOnClosedPipe(process.stdout);
	exitQuietlyOnClosedPipe(process.stderr);
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
	process.exitCode = await main(process.argv.slice(2), {stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal});
}
