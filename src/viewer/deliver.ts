import {hostname} from 'node:os';
import path from 'node:path';
import type {ViewerClient} from './client.js';
import {viewerCodeOf} from './viewer-error.js';

/**
 * How a file from this machine reaches the viewer: by its path when the viewer runs here and
 * can read it; else its bytes over the connection (`upload`); or, for a target given the old
 * lyipc's way (`LYIPCTARGET=user@host`), copied there with rsync.
 */

/** How a file is known to the viewer across uploads: this machine and its absolute path. */
function sourceOf(file: string): string {
	return `${hostname()}:${path.resolve(file)}`;
}

/** The old lyipc's way to a viewer elsewhere: rsync the file there, then load that copy. */
function viaSsh(client: ViewerClient): boolean {
	return client.target.ssh !== undefined && !client.sameMachine;
}

async function sendOverSsh(client: ViewerClient, file: string): Promise<string> {
	const {sendToViewerMachine} = await import('../remote/send-to-viewer.js');
	return sendToViewerMachine(file, client.target.ssh!);
}

/**
 * `attempt(false)` lets the viewer open this machine's paths; when it answers FILE_NOT_FOUND
 * (on this machine but not seeing its files: a container, a snap's private /tmp) `attempt(true)`
 * sends the bytes instead. A viewer that cannot take uploads (v1) gets the first answer.
 */
export async function byPathElseUpload<T>(client: ViewerClient, attempt: (upload: boolean) => Promise<T>): Promise<T> {
	try {
		return await attempt(false);
	} catch (error) {
		if (viewerCodeOf(error) !== 'FILE_NOT_FOUND' || client.protocol === 1) {
			throw error;
		}
	}

	return attempt(true);
}

/**
 * A path the viewer can open for a file from this machine: the file itself when the viewer is
 * on this machine (unless `upload`), else a copy uploaded into the viewer's cache.
 */
export async function placeFile(client: ViewerClient, file: string, upload = false): Promise<string> {
	if (client.sameMachine && !upload) {
		return file;
	}

	if (viaSsh(client)) {
		return sendOverSsh(client, file);
	}

	return (await client.upload<{path: string}>(file, {store: true, source: sourceOf(file)})).path;
}

/** Shows a file from this machine; `params` as for load (mode, keepView, cell, ...). */
export async function showFile(client: ViewerClient, file: string, params: Record<string, unknown> = {}): Promise<{uploaded: boolean}> {
	return deliver(client, file, params, false);
}

/**
 * Reloads a file from this machine in place wherever the viewer shows it, keeping viewbox and
 * layers; a viewer elsewhere gets the new bytes. A file not on show opens in a new view.
 * Without a file: every cellview of the current view.
 */
export async function reloadFile(client: ViewerClient, file?: string): Promise<{uploaded: boolean}> {
	if (file === undefined || client.protocol === 1) {
		await client.request('reload', file === undefined ? {} : {path: file});
		return {uploaded: false};
	}

	if (client.sameMachine && (await reloadShown(client, file))) {
		return {uploaded: false};
	}

	return deliver(client, file, {mode: 'new'}, true);
}

/** Reloads `file` wherever the viewer shows it; false when it shows it nowhere. */
async function reloadShown(client: ViewerClient, file: string): Promise<boolean> {
	try {
		await client.request('reload', {path: file});
		return true;
	} catch (error) {
		if (viewerCodeOf(error) !== 'NOT_SHOWN') {
			throw error;
		}

		return false;
	}
}

async function deliver(client: ViewerClient, file: string, params: Record<string, unknown>, inPlace: boolean): Promise<{uploaded: boolean}> {
	if (viaSsh(client)) {
		const copy = await sendOverSsh(client, file);
		if (!(inPlace && client.protocol === 2 && (await reloadShown(client, copy)))) {
			await client.request('load', {...params, path: copy});
		}

		return {uploaded: true};
	}

	const upload = async () => {
		await client.upload(file, {...params, source: sourceOf(file), ...(inPlace ? {reload: true} : {})});
		return {uploaded: true};
	};

	if (!client.sameMachine && client.protocol === 2) {
		return upload();
	}

	return byPathElseUpload(client, async viaUpload => {
		if (viaUpload) {
			return upload();
		}

		await client.request('load', {...params, path: file});
		return {uploaded: false};
	});
}
