/** What a result says of a file read without its context cell (result format: `readNote`). */
export const CONTEXT_SKIPPED = 'context meta data skipped: written by a newer KLayout';

/** Whether KLayout `version` (e.g. "0.28.5") is older than 0.29, the first that reads the meta data newer files hold in their context cell. */
export function skipsContextMeta(version: string): boolean {
	return /^0\.(?:\d|1\d|2[0-8])\./.test(version);
}
