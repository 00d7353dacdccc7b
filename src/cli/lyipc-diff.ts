#!/usr/bin/env node
import {runDiff} from './diff-main.js';
import {runAsProcess} from './run-process.js';

// Ctrl+C / SIGTERM stop KLayout and remove partial output; a second Ctrl+C exits at once.
await runAsProcess(runDiff, {stopsCleanly: true, signalExitCode: 2});
