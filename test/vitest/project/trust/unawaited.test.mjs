import {expect, test} from 'vitest';

test('a forgotten await', () => {
	expect('out/ring.gds').toMatchLayout();
});
