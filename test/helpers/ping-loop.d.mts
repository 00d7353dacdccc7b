export function whilePinging<T>(port: number, work: () => Promise<T>, options?: {host?: string; interval?: number}): Promise<{result: T; longestMs: number; pings: number}>;
