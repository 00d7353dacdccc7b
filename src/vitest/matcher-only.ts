/** The layout matcher without registering it: `expect.extend({toMatchLayout})` yourself. */
export {toMatchLayout, type LayoutMatchMeta} from './matcher.js';
export {configureLayoutMatcher, DEFAULT_MATCHER_TIMEOUT_MS, type LayoutMatcherOptions} from './settings.js';
export type {} from './types.js';
