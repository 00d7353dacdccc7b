#!/usr/bin/env node
import {exitQuietlyOnClosedPipe} from './quiet-pipe.js';
import {runLyipc} from './lyipc-main.js';

// Ctrl+C / SIGTERM end `lyipc watch`, `animate` and `job` cleanly (a job's temp folder on the
// host is removed); anything else (or a second one) exits at once.
const controller = new AbortController();
const [command] = process.argv.slice(2).filter(arg => !arg.startsWith('-'));
const watching = command === 'watch' || command === 'animate' || command === 'job';
const stop = () => {
	if (!watching || controller.signal.aborted) {
		process.exit(130);
	}

	controller.abort();
};

exitQuietlyOnClosedPipe(process.stdout);
exitQuietlyOnClosedPipe(process.stderr);
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.exitCode = await runLyipc(process.argv.slice(2), {stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal});
