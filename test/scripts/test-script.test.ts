import path from 'node:path';
import {execa} from 'execa';
import {describe, expect, test} from 'vitest';
import {ROOT} from '../helpers/run.js';

// npm test's test run (scripts/test.sh): both KLayout versions in CI, whatever the environment says.
describe('scripts/test.sh', () => {
	test('in CI, skipping KLayout 0.30.0 is refused before any test runs', async () => {
		const result = await execa(path.join(ROOT, 'scripts', 'test.sh'), [], {reject: false, timeout: 30_000, env: {CI: 'true', LYIPC_TEST_SKIP_KLAYOUT_030: '1'}});
		expect(result.exitCode).toBe(2);
		expect(String(result.stderr)).toContain('LYIPC_TEST_SKIP_KLAYOUT_030=1 is refused in CI');
		expect(String(result.stdout)).toBe('');
	});
});
