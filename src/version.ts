import {readFileSync} from 'node:fs';

/** This package's version, read once from its package.json (next to dist/ and src/). */
export const LYIPC_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version: string}).version;
