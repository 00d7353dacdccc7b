export function findStrmxor(klayout?: string): string | null;
export function strmxorEnv(strmxor: string, env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
