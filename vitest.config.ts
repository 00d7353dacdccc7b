import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.ts'],
		// Every end-to-end test starts a real KLayout (~1.3 s) and some run several.
		testTimeout: 60_000,
		hookTimeout: 120_000,
	},
});
