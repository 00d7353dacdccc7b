import {isLyipcError, LyipcError, type LyipcErrorOptions} from '../errors.js';

/**
 * A request the viewer answered with an error (code VIEWER_ERROR): `viewerCode` is the viewer's
 * own code (FILE_NOT_FOUND, NOT_SHOWN, LOAD_FAILED, ... in docs/protocol.md), or what the client
 * found out about the viewer (V1_ONLY, UNSUPPORTED, V1_ERROR).
 */
export class ViewerError extends LyipcError {
	readonly viewerCode: string;

	constructor(viewerCode: string, message: string, options: LyipcErrorOptions = {}) {
		super('VIEWER_ERROR', message, options);
		this.viewerCode = viewerCode;
	}

	override toJSON(): ReturnType<LyipcError['toJSON']> & {viewerCode: string} {
		return {...super.toJSON(), viewerCode: this.viewerCode};
	}
}

/** The viewer's error code (FILE_NOT_FOUND, NOT_SHOWN, ...) carried by a VIEWER_ERROR. */
export function viewerCodeOf(error: unknown): string | undefined {
	if (!isLyipcError(error) || !('viewerCode' in error)) {
		return undefined;
	}

	return typeof error.viewerCode === 'string' ? error.viewerCode : undefined;
}
