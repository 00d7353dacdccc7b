import {expect, test} from 'vitest';
import {itemsOfShard, parseShard} from '../../src/suite/shard.js';

const items = Array.from({length: 50}, (_, index) => ({path: `cell_${String(index).padStart(2, '0')}.gds`, size: ((index * 7919) % 97) * 1000 + 10}));

test('the shards take every item exactly once, balanced by weight, whatever order the items come in', () => {
	const weight = (item: (typeof items)[number]) => item.size;
	const key = (item: (typeof items)[number]) => item.path;
	const shards = [1, 2, 3].map(index => itemsOfShard(items, {index, count: 3}, weight, key));
	const shuffled = [...items].reverse();
	expect([1, 2, 3].map(index => itemsOfShard(shuffled, {index, count: 3}, weight, key))).toEqual(shards);
	expect(shards.flat().map(key).sort()).toEqual(items.map(key).sort());
	const loads = shards.map(shard => shard.reduce((sum, item) => sum + item.size, 0));
	const heaviest = Math.max(...items.map(weight));
	expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(heaviest);
	expect(itemsOfShard(items, {index: 1, count: 1}, weight, key)).toHaveLength(items.length);
});

test('--shard i/n', () => {
	expect(parseShard('2/3')).toEqual({index: 2, count: 3});
	for (const bad of ['0/3', '4/3', '3', 'a/b', '1/0', '-1/2']) {
		expect(() => parseShard(bad)).toThrow(expect.objectContaining({code: 'USAGE', message: expect.stringContaining(`--shard ${bad}`)}));
	}
});
