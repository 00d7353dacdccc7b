// A user's project: the plugin registers the matcher, shares one KLayout pool for the run
// and sets a timeout fit for XOR work.
import {defineConfig} from 'vitest/config';
import {layoutMatcher} from 'lyipc/vitest/plugin';

export default defineConfig({
	plugins: [layoutMatcher()],
	test: {include: ['*.test.mjs']},
});
