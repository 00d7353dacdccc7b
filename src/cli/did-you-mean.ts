/** Edit distance (insertions, deletions, substitutions, swaps of neighbours) between two short words. */
function distance(a: string, b: string): number {
	const rows = Array.from({length: a.length + 1}, (_, i) => Array.from({length: b.length + 1}, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
	for (let i = 1; i <= a.length; i++) {
		for (let j = 1; j <= b.length; j++) {
			const cost = a[i - 1] === b[j - 1] ? 0 : 1;
			let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
			if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
				best = Math.min(best, rows[i - 2]![j - 2]! + 1);
			}

			rows[i]![j] = best;
		}
	}

	return rows[a.length]![b.length]!;
}

/**
 * " (did you mean --tolerance?)" for a misspelt option such as "--tolerence", else "". A
 * suggestion is made only when one option is clearly the nearest.
 */
export function didYouMean(given: string | undefined, names: readonly string[]): string {
	const word = given?.replace(/^-+/, '').split('=')[0];
	if (!word) {
		return '';
	}

	const scored = names.map(name => ({name, score: distance(word, name)})).sort((x, y) => x.score - y.score);
	const best = scored[0];
	const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
	if (!best || best.score > limit || scored[1]?.score === best.score) {
		return '';
	}

	return ` (did you mean --${best.name}?)`;
}
