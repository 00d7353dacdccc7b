import {describe} from 'vitest';

/**
 * `describe` for tests that need a real part (KLayout, a browser, sshd). They run everywhere,
 * CI included. Locally the environment variable `flag=1` skips them and says why; under
 * CI=true the flag is ignored, so nothing is skipped there.
 */
export function describeNeeding(flag: string, what: string): typeof describe | typeof describe.skip {
	const skip = process.env[flag] === '1' && process.env.CI !== 'true';
	if (skip) {
		console.warn(`${flag}=1: skipping the tests that ${what}`);
	}

	return skip ? describe.skip : describe;
}
