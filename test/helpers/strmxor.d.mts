export function findStrmxor(klayout?: string): string | null;
export function strmxorEnv(strmxor: string, env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
export interface StrmxorVerdict {
	identical: boolean;
	/** Differing layers: their count of difference polygons, or "missing" for a layer in one file only. */
	layers: Record<string, number | 'missing'>;
}
export function flatXorOfAllTops(a: string, b: string, folder: string, options?: {klayout?: string; timeoutMs?: number}): Promise<StrmxorVerdict>;
export function parseStrmxor(text: string): StrmxorVerdict;
