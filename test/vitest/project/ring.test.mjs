import {expect, test} from 'vitest';

test('the ring layout matches its reference', async () => {
	await expect('out/ring.gds').toMatchLayout();
});

test('an explicit reference, relative to this file, and per-call options', async () => {
	await expect('out/chip.gds').toMatchLayout('refs/chip.gds', {layers: ['2/0', '3/0']});
});
