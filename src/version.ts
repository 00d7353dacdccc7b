import {readFileSync} from 'node:fs';
import path from 'node:path';
import {PACKAGE_ROOT} from './package-root.js';

/** This package's version, read once from its package.json (next to dist/ and src/). */
export const LYIPC_VERSION: string = (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {version: string}).version;
