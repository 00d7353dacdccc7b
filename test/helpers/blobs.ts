import {copyFile, cp, mkdir, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
export {snapshot} from './snapshot.mjs';
import {fixture} from './run.js';

/**
 * A small tree with a differing pair (pictures and artifacts in the blob), an identical one in a
 * subfolder and a reference without output: enough for a real blob to tamper with.
 */
export async function makeSmallTree(root: string): Promise<{reference: string; output: string}> {
	const reference = path.join(root, 'ref');
	const output = path.join(root, 'run');
	await mkdir(path.join(reference, 'sub'), {recursive: true});
	await mkdir(path.join(output, 'sub'), {recursive: true});
	await copyFile(fixture('base.gds'), path.join(reference, 'ring.gds'));
	await copyFile(fixture('one_shape.gds'), path.join(output, 'ring.gds'));
	await copyFile(fixture('base.gds'), path.join(reference, 'sub', 'same.gds'));
	await copyFile(fixture('base.gds'), path.join(output, 'sub', 'same.gds'));
	await copyFile(fixture('base.gds'), path.join(reference, 'only.gds'));
	return {reference, output};
}

// biome-ignore lint/suspicious/noExplicitAny: a blob's JSON is edited into any shape, that is the point
export type BlobJson = {blobFormat: unknown; result: any};

/** A change to a blob's JSON: made in place, or a whole new text returned. */
export type BlobEdit = (blob: BlobJson) => string | undefined;

/** A copy of the blob `source` at `dir`, its lyipc-blob.json changed by `edit`. */
export async function copyBlob(source: string, dir: string, edit: BlobEdit = () => undefined): Promise<string> {
	await cp(source, dir, {recursive: true});
	const file = path.join(dir, 'lyipc-blob.json');
	const blob = JSON.parse(await readFile(file, 'utf8')) as BlobJson;
	const text = edit(blob);
	await writeFile(file, typeof text === 'string' ? text : JSON.stringify(blob, null, 2));
	return dir;
}

/** The first pair of `blob` with the given status (the tests edit that one). */
// biome-ignore lint/suspicious/noExplicitAny: see BlobJson
export function pairOf(blob: BlobJson, status: string): any {
	// biome-ignore lint/suspicious/noExplicitAny: see BlobJson
	const pair = blob.result.pairs.find((each: any) => each.status === status);
	if (!pair) {
		throw new Error(`the blob has no ${status} pair`);
	}

	return pair;
}

/** Sets `field` ("result.layers.0.countA") below `target` to `value`; undefined removes it. */
// biome-ignore lint/suspicious/noExplicitAny: see BlobJson
function setField(target: any, field: string, value: unknown): void {
	const keys = field.split('.');
	const last = keys.pop()!;
	const parent = keys.reduce((object, key) => object[key], target);
	if (value === undefined) {
		delete parent[last];
	} else {
		parent[last] = value;
	}
}

/** An edit setting `field` of the blob's JSON ("blobFormat", "result.shard") to `value`. */
export function inBlob(field: string, value: unknown): BlobEdit {
	return blob => {
		setField(blob, field, value);
		return undefined;
	};
}

/** An edit setting `field` of the first pair with `status` ("result.layers.0.countA") to `value`. */
export function inPair(status: string, field: string, value: unknown): BlobEdit {
	return blob => {
		setField(pairOf(blob, status), field, value);
		return undefined;
	};
}
