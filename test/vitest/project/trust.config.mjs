// The same project, running the files about reference names and forgotten awaits.
import {defineConfig} from 'vitest/config';
import {layoutMatcher} from 'lyipc/vitest/plugin';

export default defineConfig({
	plugins: [layoutMatcher()],
	test: {include: ['trust/*.test.mjs']},
});
