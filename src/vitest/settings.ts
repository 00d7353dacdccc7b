import {compareDefaults, findConfig, OPEN_CHOICES, type LyipcConfig, type OpenChoice} from '../config.js';
import {LyipcError} from '../errors.js';
import type {XorOptions} from '../xor/options.js';

/** Options of `toMatchLayout` (and of `configureLayoutMatcher`, for every call). */
export interface LayoutMatcherOptions extends XorOptions {
	/** Milliseconds one comparison may take before KLayout is stopped (default 120 s; 0 = no limit). */
	timeout?: number | undefined;
	/** Open a failure in a running KLayout viewer: 'on-failure' (default), 'never', 'always'. Env LYIPC_OPEN wins; never under CI. */
	open?: OpenChoice | undefined;
	/** KLayout executable. */
	klayout?: string | undefined;
}

export const DEFAULT_MATCHER_TIMEOUT_MS = 120_000;

let defaults: LayoutMatcherOptions = {};
let fromConfig: Promise<LyipcConfig> | undefined;

/** Defaults for every `toMatchLayout` call in this test worker (e.g. in a setup file); per-call options win. */
export function configureLayoutMatcher(options: LayoutMatcherOptions): void {
	defaults = {...defaults, ...options};
}

/** The options one call runs with: lyipc.config.json, then configureLayoutMatcher, then the call's own. */
export async function matcherOptions(call: LayoutMatcherOptions | undefined, cwd: string): Promise<LayoutMatcherOptions> {
	fromConfig ??= findConfig(cwd).then(found => found.config);
	const config = await fromConfig;
	return {timeout: DEFAULT_MATCHER_TIMEOUT_MS, ...compareDefaults(config), ...(config.open ? {open: config.open} : {}), ...defaults, ...call};
}

/** When to open the viewer: never under CI, else LYIPC_OPEN, else the option, else on failure. */
export function openChoice(option: OpenChoice | undefined, env: NodeJS.ProcessEnv): OpenChoice {
	if (env.CI === 'true' || env.CI === '1') {
		return 'never';
	}

	const fromEnv = env.LYIPC_OPEN;
	if (fromEnv) {
		if (!OPEN_CHOICES.includes(fromEnv as OpenChoice)) {
			throw new LyipcError('USAGE', `LYIPC_OPEN: expected one of ${OPEN_CHOICES.join(', ')}, got '${fromEnv}'`);
		}

		return fromEnv as OpenChoice;
	}

	return option ?? 'on-failure';
}
