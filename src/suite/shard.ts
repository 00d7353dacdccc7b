import {LyipcError} from '../errors.js';

/** Shard `index` (1-based) of `count`, as in `--shard 2/3`. */
export interface Shard {
	index: number;
	count: number;
}

/** `i/n` with 1 <= i <= n, as Vitest and Playwright take it. */
export function parseShard(text: string): Shard {
	const match = /^(\d+)\/(\d+)$/.exec(text.trim());
	const index = Number(match?.[1]);
	const count = Number(match?.[2]);
	if (!match || count < 1 || index < 1 || index > count) {
		throw new LyipcError('USAGE', `--shard ${text}: expected i/n with 1 <= i <= n, e.g. --shard 2/3`);
	}

	return {index, count};
}

/**
 * The items of one shard. Every shard computes the same split from the same items, so the
 * shards of a CI matrix together take each item exactly once: heaviest first (ties by key), each
 * to the shard with the least weight so far (ties to the lower shard). Weights should be what
 * every machine sees alike (the size of a committed reference).
 */
export function itemsOfShard<T>(items: readonly T[], shard: Shard, weight: (item: T) => number, key: (item: T) => string): T[] {
	const load = Array.from({length: shard.count}, () => 0);
	const order = [...items].sort((x, y) => weight(y) - weight(x) || (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
	const mine: T[] = [];
	for (const item of order) {
		const lightest = load.indexOf(Math.min(...load));
		load[lightest]! += weight(item);
		if (lightest === shard.index - 1) {
			mine.push(item);
		}
	}

	return mine;
}
