import {expect, test} from 'vitest';

// Two tests with one title: their automatic references would be one file.
test('same title', async () => {
	await expect('out/ring.gds').toMatchLayout();
});

test('same title', async () => {
	await expect('out/ring.gds').toMatchLayout();
});
