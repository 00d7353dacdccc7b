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

	test('KLayout 0.30.0 runs through chroot: another user than root is told so before any test runs', async () => {
		// As root, the script is run as nobody; as another user, as that user.
		const asNobody = process.getuid?.() === 0 ? {uid: 65_534, gid: 65_534} : {};
		const result = await execa(path.join(ROOT, 'scripts', 'test.sh'), [], {reject: false, timeout: 30_000, env: {CI: ''}, ...asNobody});
		expect(result.exitCode).toBe(2);
		expect(String(result.stderr)).toContain('KLayout 0.30.0 runs through chroot, which needs root');
	});
});
