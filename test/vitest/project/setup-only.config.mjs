// The other way in: only the setup file (each test worker keeps one KLayout).
import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {include: ['*.test.mjs'], setupFiles: ['lyipc/vitest'], testTimeout: 120_000},
});
