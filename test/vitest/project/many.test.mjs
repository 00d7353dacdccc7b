import {expect, test} from 'vitest';

// Fifty layout assertions in one file: they share the run's KLayout workers.
test('fifty assertions', async () => {
	for (let index = 0; index < 50; index++) {
		await expect('out/chip.gds').toMatchLayout('refs/chip.gds', {layers: ['2/0']});
	}
});
