type Pair = {id: string; source?: string; a?: string; b?: string; aPath?: string; bPath?: string};

export const BATCH_PATHS: string[];
export function chunksOf<T extends {source: string}>(pairs: T[], size: number): T[][];
export function makeChunkTree(cache: string, pairs: Pair[], workDir: string): {dir: string; reference: string; output: string};
export function runBatch(options: Record<string, unknown>): Promise<void>;
export function judgeChunk(options: {
	chunk: Pair[];
	paths: string[];
	files: Record<string, string>;
	run: {code: number | null; stderr: string; ms: number; largest: {mb: number; command: string | null}};
	merge: {code: number | null; ms: number; over: string | null} | null;
	timeoutMs: number;
	label: string;
}): Array<{id: string; paths: Record<string, any>; batch: {chunk: string; pairs: number}}>;
export function hasPictureBudget(): boolean;
