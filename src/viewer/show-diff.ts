import {LyipcError} from '../errors.js';
import type {CompareResult} from '../xor/result.js';
import {resolveTarget, ViewerClient, type ViewerTarget} from './client.js';

export interface ShowDiffOptions {
	/** The viewer (default: resolveTarget(): LYIPC_TARGET, LYIPC_PORT, 127.0.0.1:11078). */
	target?: ViewerTarget;
	/** Milliseconds to wait for a connection (default 2000). */
	connectTimeout?: number;
}

/** Bounding box of all differences in µm, or null. */
function differenceBox(result: CompareResult): [number, number, number, number] | null {
	let box: [number, number, number, number] | null = null;
	for (const {bbox} of result.layers) {
		if (bbox) {
			box = box ? [Math.min(box[0], bbox[0]), Math.min(box[1], bbox[1]), Math.max(box[2], bbox[2]), Math.max(box[3], bbox[3])] : [...bbox];
		}
	}

	return box;
}

/**
 * Opens a comparison that found differences in the user's KLayout: A, B and the XOR layout in
 * one new view, the XOR layers bright on top, the marker database in the Marker Browser,
 * zoomed to the differences. Rejects with VIEWER_* errors (VIEWER_UNREACHABLE: no viewer).
 */
export async function showDiffInViewer(result: CompareResult, options: ShowDiffOptions = {}): Promise<{view: number}> {
	if (!result.artifacts.xor) {
		throw new LyipcError('USAGE', 'nothing to show: the comparison wrote no XOR layout (the layouts are identical)');
	}

	const client = await ViewerClient.connect(options.target ?? resolveTarget(), {connectTimeout: options.connectTimeout ?? 2000});
	try {
		return await client.request<{view: number}>('show_diff', {
			a: result.a.path,
			b: result.b.path,
			xor: result.artifacts.xor,
			rdb: result.artifacts.rdb,
			box: differenceBox(result),
			title: `lyipc-diff: ${result.differentLayers} layer${result.differentLayers === 1 ? '' : 's'} differ`,
		});
	} finally {
		client.close();
	}
}
