import {describe, expect, test} from 'vitest';
import {describeTarget, isLoopbackHost, resolveTarget} from '../../src/viewer/target.js';
import {v1Line} from '../../src/viewer/v1.js';

describe('resolveTarget', () => {
	test('default, LYIPC_PORT, LYIPC_TARGET, an explicit target, a bad one', () => {
		expect(resolveTarget(undefined, {})).toEqual({host: '127.0.0.1', port: 11078});
		expect(resolveTarget(undefined, {LYIPC_PORT: '12000'})).toEqual({host: '127.0.0.1', port: 12000});
		expect(resolveTarget(undefined, {LYIPC_TARGET: 'viewer.local:9000'})).toEqual({host: 'viewer.local', port: 9000});
		expect(resolveTarget('[::1]:9001', {LYIPC_TARGET: 'other'})).toEqual({host: '::1', port: 9001});
		expect(resolveTarget('box', {})).toEqual({host: 'box', port: 11078});
		expect(() => resolveTarget('a:b:c', {})).toThrow(/expected host\[:port\]/);
	});

	test("the old LYIPCTARGET (user@host) names the viewer's machine, below LYIPC_TARGET", () => {
		expect(resolveTarget(undefined, {LYIPCTARGET: 'alice@workstation'})).toEqual({host: 'workstation', port: 11078, ssh: 'alice@workstation'});
		expect(resolveTarget(undefined, {LYIPCTARGET: 'workstation', LYIPC_PORT: '12001'})).toEqual({host: 'workstation', port: 12001, ssh: 'workstation'});
		expect(resolveTarget(undefined, {LYIPCTARGET: 'alice@workstation', LYIPC_TARGET: 'other:1'})).toEqual({host: 'other', port: 1});
		expect(resolveTarget('given', {LYIPCTARGET: 'alice@workstation'})).toEqual({host: 'given', port: 11078});
	});

	test('loopback hosts, and how a target is written', () => {
		expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1'].every(host => isLoopbackHost(host))).toBe(true);
		expect(['192.0.2.2', 'workstation', '::', '0.0.0.0'].some(host => isLoopbackHost(host))).toBe(false);
		expect(describeTarget({host: '::1', port: 5})).toBe('[::1]:5');
		expect(describeTarget({host: 'box', port: 5})).toBe('box:5');
	});
});

describe('v1Line: what the old lyipc client would have sent', () => {
	const target = {host: '127.0.0.1', port: 11078};

	test('load in each mode, a name with a space quoted and only then; reload; ping', () => {
		expect(v1Line('load', {path: '/d/a.gds'}, target)).toBe('load /d/a.gds 0');
		expect(v1Line('load', {path: '/d/a.gds', mode: 'replace'}, target)).toBe('load /d/a.gds 0');
		expect(v1Line('load', {path: '/d/a.gds', mode: 'new'}, target)).toBe('load /d/a.gds 1');
		expect(v1Line('load', {path: '/d/my chip.gds', mode: 'add'}, target)).toBe('load "/d/my chip.gds" 2');
		expect(v1Line('reload', {}, target)).toBe('reload view');
		expect(v1Line('ping', {}, target)).toBe('ping');
	});

	test('what v1 cannot say is refused, not mangled', () => {
		for (const [method, params] of [
			['status', {}],
			['screenshot', {width: 10, height: 10}],
			['load', {path: '/d/a.gds', mode: 'sideways'}],
			['load', {path: '/d/a"b.gds'}],
			['load', {path: '/d/a\nping'}],
			['load', {}],
		] as const) {
			expect(() => v1Line(method, params, target)).toThrow(expect.objectContaining({code: 'VIEWER_ERROR', viewerCode: 'UNSUPPORTED'}));
		}
	});
});
