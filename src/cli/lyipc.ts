#!/usr/bin/env node
import {runLyipc} from './lyipc-main.js';
import {runAsProcess} from './run-process.js';

// Ctrl+C / SIGTERM end `lyipc watch`, `animate` and `job` cleanly (a job's temp folder on the
// host is removed); anything else (or a second one) exits at once.
const [command] = process.argv.slice(2).filter(arg => !arg.startsWith('-'));
await runAsProcess(runLyipc, {stopsCleanly: command === 'watch' || command === 'animate' || command === 'job', signalExitCode: 130});
