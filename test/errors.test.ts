import {expect, test} from 'vitest';
import {isLyipcError, LyipcError, toLyipcError} from '../src/errors.js';

test("isLyipcError knows lyipc's errors by a mark, also from another copy of the module", () => {
	expect(isLyipcError(new LyipcError('USAGE', 'x'))).toBe(true);
	// What a second install or a bundled copy makes: another class, the same registered symbol.
	const fromAnotherCopy = Object.assign(new Error('y'), {[Symbol.for('lyipc.error')]: true, code: 'READ_ERROR'});
	expect(isLyipcError(fromAnotherCopy)).toBe(true);
	for (const value of [new Error('z'), {code: 'USAGE', message: 'looks alike'}, null, undefined, 'USAGE']) {
		expect(isLyipcError(value)).toBe(false);
	}
});

test("toLyipcError: lyipc's errors as they are, anything else INTERNAL with its stack", () => {
	const own = new LyipcError('TIMEOUT', 't');
	expect(toLyipcError(own)).toBe(own);
	const bug = toLyipcError(new TypeError('x is undefined'));
	expect(bug.code).toBe('INTERNAL');
	expect(bug.message).toMatch(/^unexpected failure: TypeError: x is undefined\n\s+at /);
	expect(toLyipcError('a string').message).toBe('unexpected failure: a string');
});
