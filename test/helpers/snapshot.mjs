// What a refused run must leave as it was: every entry under a folder, files by a hash of their
// bytes, symlinks by their target (never followed), FIFOs and devices by kind (never opened).
import {createHash} from 'node:crypto';
import {readdir, readFile, readlink} from 'node:fs/promises';
import path from 'node:path';

/** `{relative path: sha256 | '-> target' | 'folder' | 'other'}`; a missing folder is `{}`. */
export async function snapshot(dir) {
	const entries = {};
	const found = await readdir(dir, {recursive: true, withFileTypes: true}).catch(() => []);
	for (const entry of found.sort((x, y) => path.join(x.parentPath, x.name).localeCompare(path.join(y.parentPath, y.name)))) {
		const file = path.join(entry.parentPath, entry.name);
		const name = path.relative(dir, file);
		if (entry.isSymbolicLink()) {
			entries[name] = `-> ${await readlink(file)}`;
		} else if (entry.isFile()) {
			entries[name] = createHash('sha256')
				.update(await readFile(file))
				.digest('hex');
		} else {
			entries[name] = entry.isDirectory() ? 'folder' : 'other';
		}
	}

	return entries;
}
