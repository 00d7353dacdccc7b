import type {LayoutMatcherOptions} from './settings.js';

// The matcher's types for Vitest 4 (Vitest 5 changed the generic signature).
declare module 'vitest' {
	// biome-ignore lint/suspicious/noExplicitAny: the declaration merges with Vitest's own, which reads `Matchers<T = any>`
	interface Matchers<T = any> {
		/**
		 * The received layout file (a path) against its reference layout, compared with KLayout's
		 * XOR. Reference: `__layouts__/<test file>/<file name>` beside the test file, or the given
		 * path relative to the test file. Must be awaited.
		 */
		toMatchLayout(reference?: string, options?: LayoutMatcherOptions): Promise<void>;
		toMatchLayout(options: LayoutMatcherOptions): Promise<void>;
	}
}
