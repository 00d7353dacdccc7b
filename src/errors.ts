/**
 * Every failure lyipc reports carries a stable code (for programs) and a message that
 * names the file and the cause (for people). "Could not compare" in all its forms is one
 * class, so callers can tell it apart from "different" without parsing text.
 */
export const ERROR_CODES = [
	'USAGE',
	'INPUT_NOT_FOUND',
	'INPUT_NOT_FILE',
	'INPUT_EMPTY',
	'INPUT_UNREADABLE',
	'INPUT_NOT_LAYOUT',
	'BAD_BLOB',
	'READ_ERROR',
	'TOP_CELL_NOT_FOUND',
	'TOP_CELL_AMBIGUOUS',
	'WRITE_ERROR',
	'KLAYOUT_NOT_FOUND',
	'KLAYOUT_TOO_OLD',
	'WORKER_START_FAILED',
	'WORKER_DIED',
	'TIMEOUT',
	'ABORTED',
	'BAD_REQUEST',
	'VIEWER_UNREACHABLE',
	'VIEWER_TIMEOUT',
	'VIEWER_CLOSED',
	'VIEWER_UNAUTHORIZED',
	'VIEWER_ERROR',
	'REMOTE_FAILED',
	'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Whether `value` is one of lyipc's error codes (a reply from another process may carry anything). */
export function isErrorCode(value: unknown): value is ErrorCode {
	return (ERROR_CODES as readonly unknown[]).includes(value);
}

export interface LyipcErrorOptions {
	/** The file the error is about, when there is one. */
	path?: string | undefined;
	/** What to do about it, printed after the message. */
	hint?: string | undefined;
	/** More for the curious: another process's traceback of an INTERNAL error. */
	detail?: string | undefined;
	cause?: unknown | undefined;
}

/** Marks lyipc's errors across copies of this module (two installs, a bundled copy), as execa does. */
const MARK = Symbol.for('lyipc.error');

export class LyipcError extends Error {
	override readonly name = 'LyipcError';
	readonly [MARK] = true;
	readonly code: ErrorCode;
	readonly path: string | undefined;
	readonly hint: string | undefined;
	readonly detail: string | undefined;

	constructor(code: ErrorCode, message: string, options: LyipcErrorOptions = {}) {
		super(message, options.cause === undefined ? undefined : {cause: options.cause});
		this.code = code;
		this.path = options.path;
		this.hint = options.hint;
		this.detail = options.detail;
	}

	/** The error as it appears in `--json` output and reporters. */
	toJSON(): {code: ErrorCode; message: string; path?: string; hint?: string; detail?: string} {
		return {
			code: this.code,
			message: this.message,
			...(this.path === undefined ? {} : {path: this.path}),
			...(this.hint === undefined ? {} : {hint: this.hint}),
			...(this.detail === undefined ? {} : {detail: this.detail}),
		};
	}
}

export function isLyipcError(value: unknown): value is LyipcError {
	return typeof value === 'object' && value !== null && (value as {[MARK]?: unknown})[MARK] === true;
}

/** `error` itself when it is lyipc's, else an INTERNAL error that keeps its stack: a bug to report. */
export function toLyipcError(error: unknown): LyipcError {
	if (isLyipcError(error)) {
		return error;
	}

	return new LyipcError('INTERNAL', `unexpected failure: ${(error as Error | undefined)?.stack ?? String(error)}`, {cause: error});
}
