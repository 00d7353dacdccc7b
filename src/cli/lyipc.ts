#!/usr/bin/env node
import {runLyipc} from './lyipc-main.js';

// Ctrl+C / SIGTERM end `lyipc watch` and `animate` cleanly; anything else (or a second one) exits at once.
const controller = new AbortController();
const watching = process.argv.slice(2).some(arg => arg === 'watch' || arg === 'animate');
const stop = () => {
	if (!watching || controller.signal.aborted) {
		process.exit(130);
	}

	controller.abort();
};

process.on('SIGINT', stop);
process.on('SIGTERM', stop);
process.exitCode = await runLyipc(process.argv.slice(2), {stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal});
