/**
 * lyipc/vitest: import it in `setupFiles` and `toMatchLayout` is registered:
 *
 *     await expect('out/ring.gds').toMatchLayout();
 *
 * For the matcher alone, without the side effect: lyipc/vitest/matcher.
 */
import {expect} from 'vitest';
import {toMatchLayout} from './matcher.js';

expect.extend({toMatchLayout});

export {toMatchLayout, type LayoutMatchMeta} from './matcher.js';
export {configureLayoutMatcher, DEFAULT_MATCHER_TIMEOUT_MS, type LayoutMatcherOptions} from './settings.js';
export type {} from './types.js';
