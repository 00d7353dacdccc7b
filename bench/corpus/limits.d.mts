export interface LimitedRun {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
	ms: number;
	peakMb: number;
	largest: {mb: number; command: string | null};
	over: 'time' | 'memory' | null;
}

export function processTable(): Map<number, {ppid: number; rssMb: number; command: string}>;
export function descendants(table: Map<number, {ppid: number}>, roots: number[]): number[];
export function processesMentioning(text: string): number[];
export function killAll(pids: number[]): void;
export function killRunning(): void;
export function runLimited(
	command: string,
	args: string[],
	options?: {cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; memoryMb?: number; helpers?: () => number[]; memoryOf?: 'sum' | 'largest'},
): Promise<LimitedRun>;
