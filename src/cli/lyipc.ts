#!/usr/bin/env node
import {runLyipc} from './lyipc-main.js';

process.exitCode = await runLyipc(process.argv.slice(2), {stdout: process.stdout, stderr: process.stderr, env: process.env});
