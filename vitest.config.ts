import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.ts'],
		// Every end-to-end test starts a real KLayout (~1.3 s) and some run several.
		testTimeout: 60_000,
		hookTimeout: 120_000,
		// No warm KLayout server lingers after a local test run; its own tests turn it on.
		env: {LYIPC_WARM_WORKER: '0'},
		// After each file: the KLayout version it ran on (CI runs the tests on two).
		reporters: ['default', './test/helpers/klayout-version-reporter.ts'],
	},
});
