import {mkdir, realpath, symlink} from 'node:fs/promises';
import path from 'node:path';
import {expect, test} from 'vitest';
import {isWithin, realPathOf} from '../src/paths.js';
import {useTempDirs} from './helpers/run.js';

const tempDir = useTempDirs('lyipc-paths-');

test('realPathOf resolves the symlinks of what exists and keeps the rest of the path', async () => {
	const root = await realpath(await tempDir());
	await mkdir(path.join(root, 'real'));
	await symlink(path.join(root, 'real'), path.join(root, 'link'));
	await symlink(path.join(root, 'gone'), path.join(root, 'dangling'));
	expect(await realPathOf(path.join(root, 'link', 'not', 'yet'))).toBe(path.join(root, 'real', 'not', 'yet'));
	expect(await realPathOf(path.join(root, 'link'))).toBe(path.join(root, 'real'));
	// A write through a dangling symlink lands at its target.
	expect(await realPathOf(path.join(root, 'dangling', 'blob'))).toBe(path.join(root, 'gone', 'blob'));
	await symlink(path.join(root, 'loop'), path.join(root, 'loop'));
	expect(await realPathOf(path.join(root, 'loop', 'x'))).toMatch(/loop\/x$/);
	expect(await realPathOf('/')).toBe('/');
});

test('isWithin: the folder itself and what lies below it, nothing beside it', () => {
	expect(isWithin('/a/b', '/a')).toBe(true);
	expect(isWithin('/a', '/a')).toBe(true);
	expect(isWithin('/ab', '/a')).toBe(false);
	expect(isWithin('/a/../b', '/a')).toBe(false);
	expect(isWithin('/a/..b', '/a')).toBe(true); // a name that starts with two dots
	expect(isWithin('/a/..', '/a')).toBe(false);
});
