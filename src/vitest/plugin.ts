import {createRequire} from 'node:module';
import {DEFAULT_MATCHER_TIMEOUT_MS} from './settings.js';

const here = createRequire(import.meta.url);

/**
 * lyipc/vitest/plugin: `plugins: [layoutMatcher()]` in vitest.config registers toMatchLayout
 * in every test file, runs one shared KLayout pool for the run, and gives tests a timeout that
 * suits XOR work (unless testTimeout is set).
 */
export function layoutMatcher(): {name: string; config(user: {test?: {testTimeout?: number}}): {test: Record<string, unknown>}} {
	return {
		name: 'lyipc:layout-matcher',
		config(user: {test?: {testTimeout?: number}}) {
			return {
				test: {
					setupFiles: [here.resolve('./index.js')],
					globalSetup: [here.resolve('./global-setup.js')],
					...(user.test?.testTimeout === undefined ? {testTimeout: DEFAULT_MATCHER_TIMEOUT_MS + 30_000} : {}),
				},
			};
		},
	};
}

// The matcher's types come with the plugin: a project whose TypeScript sees vitest.config.ts
// knows `toMatchLayout` with no further setup.
export type {} from './types.js';
