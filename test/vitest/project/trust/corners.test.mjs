import {describe, expect, test} from 'vitest';

// Two corners of one cell: the same file name, checked twice in one test.
describe('cell', () => {
	test('corners a and b', async () => {
		await expect('out/a/cell.gds').toMatchLayout();
		await expect('out/b/cell.gds').toMatchLayout();
	});
});
