import {expect, test} from 'vitest';
import {isSupportedVersion, parseVersion} from '../../src/engine/klayout-version.js';

test('parseVersion', () => {
	expect(parseVersion('0.28.5')).toEqual([0, 28, 5]);
	expect(parseVersion('KLayout 0.29.1-1')).toEqual([0, 29, 1]);
	expect(parseVersion('0.30')).toEqual([0, 30, 0]);
	expect(parseVersion('unknown')).toBeUndefined();
});

test.each([
	['0.28', true],
	['0.28.5', true],
	['0.28.17', true],
	['0.30.1', true],
	['1.0.0', true],
	['0.27.13', false],
	['0.9.9', false],
	['garbage', false],
])('KLayout %s supported: %s', (version, supported) => {
	expect(isSupportedVersion(version)).toBe(supported);
});
