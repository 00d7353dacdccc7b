export function snapshot(dir: string): Promise<Record<string, string>>;
