#!/usr/bin/env node
import {exitQuietlyOnClosedPipe} from './quiet-pipe.js';
import {runDiff} from './diff-main.js';

// Ctrl+C / SIGTERM stop KLayout and remove partial output; a second Ctrl+C exits at once.
const controller = new AbortController();
const stop = () => {
	if (controller.signal.aborted) {
		process.exit(2);
	}

	controller.abort();
};

exitQuietlyOnClosedPipe(process.stdout);
exitQuietlyOnClosedPipe(process.stderr);
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.exitCode = await runDiff(process.argv.slice(2), {stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal});
