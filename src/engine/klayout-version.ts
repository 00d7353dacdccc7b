/** The oldest KLayout whose pya API the worker scripts use. */
export const MIN_KLAYOUT_VERSION = '0.28';

/** Parses "0.28.5" or "KLayout 0.28.17-1" into numbers; undefined when it is no version. */
export function parseVersion(text: string): number[] | undefined {
	const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
	if (!match) {
		return undefined;
	}

	return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

export function isSupportedVersion(version: string, minimum = MIN_KLAYOUT_VERSION): boolean {
	const have = parseVersion(version);
	const need = parseVersion(minimum);
	if (!have || !need) {
		return false;
	}

	for (let i = 0; i < 3; i++) {
		if (have[i] !== need[i]) {
			return (have[i] ?? 0) > (need[i] ?? 0);
		}
	}

	return true;
}
