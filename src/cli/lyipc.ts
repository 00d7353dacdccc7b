#!/usr/bin/env node
import {runLyipc} from './lyipc-main.js';

// Ctrl+C / SIGTERM end `lyipc watch` cleanly; anything else (or a second one) exits at once.
const controller = new AbortController();
const watching = process.argv.slice(2).includes('watch');
const stop = () => {
	if (!watching || controller.signal.aborted) {
		process.exit(130);
	}

	controller.abort();
};

process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.exitCode = await runLyipc(process.argv.slice(2), {stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal});
