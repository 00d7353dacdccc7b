/**
 * lyipc/vitest/global-setup: one KLayout worker pool for the whole Vitest run, shared by
 * every test file (the matcher finds it through `inject('lyipc:pool')`). Without it each
 * test worker keeps one KLayout of its own.
 */
import type {TestProject} from 'vitest/node';
import {findConfig} from '../config.js';
import {startPoolServer} from './pool-server.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
	const {config} = await findConfig(project.config.root);
	const server = await startPoolServer({size: config.workers});
	project.provide('lyipc:pool', server.address);
	return async () => server.close();
}
