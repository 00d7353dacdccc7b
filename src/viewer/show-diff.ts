import path from 'node:path';
import {LyipcError} from '../errors.js';
import {differenceBox, type CompareResult} from '../xor/result.js';
import {resolveTarget, ViewerClient, type ViewerTarget} from './client.js';
import {describeTarget} from './target.js';
import {byPathElseUpload, placeFile, showFile} from './deliver.js';
import {viewerCodeOf} from './viewer-error.js';
import {differs, plural} from '../format/text.js';

export interface ShowDiffOptions {
	/** The viewer (default: resolveTarget(): LYIPC_TARGET, LYIPCTARGET, LYIPC_PORT, 127.0.0.1:11078). */
	target?: ViewerTarget | undefined;
	/** Milliseconds to wait for a connection (default 2000). */
	connectTimeout?: number | undefined;
	/** The viewer's token when it is on another machine (default: env LYIPC_TOKEN). */
	token?: string | undefined;
	/** False when A and B are not on this machine (compared with --remote-paths): only the XOR layout and markers are shown. */
	inputsHere?: boolean | undefined;
}

export interface ShownDiff {
	/** The new view's index; null with an old lyipc server, which does not say. */
	view: number | null;
	/** Whether the files were sent over the socket (a viewer that cannot see this machine's files). */
	uploaded: boolean;
	/** Why the viewer shows the layouts without the marker database (too large for it, not readable), else null. */
	markersSkipped: string | null;
	/** The viewer, as host:port. */
	viewer: string;
	/** What the view is called in the viewer: the pair ("ring.gds", "a.gds vs b.gds"). */
	name: string;
}

/** Marker databases the viewer refuses for what they are, not for a broken connection: the layouts are shown without them. */
const SKIPPED_MARKERS = new Set(['TOO_LARGE', 'LOAD_FAILED', 'FILE_NOT_FOUND']);

/** "ring.gds" for ref/ring.gds and out/ring.gds; "a.gds vs b.gds" when the names differ. */
function pairName(result: CompareResult): string {
	const [a, b] = [path.basename(result.a.path), path.basename(result.b.path)];
	return a === b ? a : `${a} vs ${b}`;
}

/**
 * Opens a comparison that found differences in the user's KLayout: A, B and the XOR layout in
 * one view (the pair's own: shown again, it is reused), titled with the pair, layers named A, B and XOR, the XOR layers bright on top, the marker database in the Marker Browser,
 * zoomed to the differences. A marker database the viewer will not take (beyond its limits)
 * is left out, and `markersSkipped` says why. A viewer on another machine (or one that cannot read the files)
 * gets them over the socket. An old lyipc server gets A, B and the XOR as three cellviews of a
 * new view, as far as its protocol goes. Rejects with VIEWER_* errors (VIEWER_UNREACHABLE: no viewer).
 */
export async function showDiffInViewer(result: CompareResult, options: ShowDiffOptions = {}): Promise<ShownDiff> {
	const {xor, rdb} = result.artifacts;
	if (!xor) {
		throw new LyipcError('USAGE', 'nothing to show: the comparison wrote no XOR layout (the layouts are identical)');
	}

	const target = options.target ?? resolveTarget();
	const client = await ViewerClient.connect(target, {connectTimeout: options.connectTimeout ?? 2000, token: options.token});
	const shown = {viewer: describeTarget(target), name: pairName(result)};
	try {
		if (options.inputsHere === false) {
			// A and B stayed on a remote host (--remote-paths): the XOR layout and markers came back.
			const {uploaded} = await showFile(client, xor, {mode: 'new'});
			let markersSkipped: string | null = null;
			if (rdb && !uploaded && client.protocol === 2) {
				try {
					await client.request('markers', {path: rdb});
				} catch (error) {
					if (!SKIPPED_MARKERS.has(viewerCodeOf(error) ?? '')) {
						throw error;
					}

					markersSkipped = (error as Error).message;
				}
			}

			return {view: null, uploaded, markersSkipped, ...shown, name: path.basename(xor)};
		}

		if (client.protocol === 1) {
			await client.request('load', {path: result.a.path, mode: 'new'});
			await client.request('load', {path: result.b.path, mode: 'add'});
			await client.request('load', {path: xor, mode: 'add'});
			return {view: null, uploaded: false, markersSkipped: null, ...shown};
		}

		const params = {
			box: differenceBox(result),
			title: `lyipc-diff: ${shown.name}: ${plural(result.differentLayers, 'layer')} ${differs(result.differentLayers)}`,
			// The same pair shown again reuses its view rather than adding one.
			key: `${result.a.path}\n${result.b.path}`,
			names: ['A', 'B', 'XOR'],
		};
		return await byPathElseUpload(client, async upload => {
			const placed = {
				a: await placeFile(client, result.a.path, upload),
				b: await placeFile(client, result.b.path, upload),
				xor: await placeFile(client, xor, upload),
				rdb: rdb === null ? null : await placeFile(client, rdb, upload),
			};
			const {view, markersSkipped} = await client.request<{view: number; markersSkipped?: string}>('show_diff', {...params, ...placed});
			return {view, uploaded: placed.xor !== xor, markersSkipped: markersSkipped ?? null, ...shown};
		});
	} finally {
		client.close();
	}
}
