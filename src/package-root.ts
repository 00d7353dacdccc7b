import {existsSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

/**
 * The folder lyipc is installed in (package.json, klayout/): found from this module upwards, so
 * it is the same whether the code runs from src/ (tests) or from dist/src/ (the package).
 */
export const PACKAGE_ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

/** The Python that runs inside KLayout. */
export const KLAYOUT_DIR = path.join(PACKAGE_ROOT, 'klayout');

function findRoot(start: string): string {
	for (let dir = start; ; dir = path.dirname(dir)) {
		if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'klayout'))) {
			return dir;
		}

		if (path.dirname(dir) === dir) {
			throw new Error(`lyipc's package folder (with package.json and klayout/) is not above ${start}: a broken installation`);
		}
	}
}
