import {describe, expect, test} from 'vitest';
import type {TestModule, Vitest} from 'vitest/node';
import KLayoutVersionReporter, {klayoutVersion} from './helpers/klayout-version-reporter.js';
import {describeKLayout} from './helpers/run.js';

describeKLayout('the KLayout version printed per test file', () => {
	test('is what the KLayout the tests drive says', async () => {
		expect(await klayoutVersion(process.env.KLAYOUT ?? 'klayout')).toMatch(/^KLayout \d+\.\d+\.\d+/);
	});

	test('after each file, with its time and outcome', async () => {
		const lines: string[] = [];
		const reporter = new KLayoutVersionReporter();
		reporter.onInit({logger: {log: (line: string) => lines.push(line)}} as unknown as Vitest);
		await reporter.onTestRunStart();
		const module = {relativeModuleId: 'test/xor/compare.test.ts', diagnostic: () => ({duration: 12_345}), state: () => 'passed'};
		reporter.onTestModuleEnd(module as unknown as TestModule);
		expect(lines).toEqual([expect.stringMatching(/^test\/xor\/compare\.test\.ts: KLayout \d+\.\d+\.\d+ \(.*klayout\), 12\.3 s, passed$/)]);
	});
});

describe('without a KLayout', () => {
	test('says so instead of failing the run', async () => {
		expect(await klayoutVersion('/nonexistent/klayout')).toMatch(/^no KLayout \(\/nonexistent\/klayout: /);
	});
});
