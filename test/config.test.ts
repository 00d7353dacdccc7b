import {mkdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {expect, test} from 'vitest';
import {compareDefaults, findConfig, loadConfigFile, validateConfig} from '../src/config.js';
import {useTempDirs} from './helpers/run.js';

const tempDir = useTempDirs('lyipc-config-');

test('a config is checked key by key, naming the file', () => {
	expect(validateConfig({tolerance: 0.002, layers: '1/0,2', mode: 'deep', structure: 'never', strictRead: true, workers: 3, reporters: ['console'], open: 'never'}, 'x.json')).toEqual({
		tolerance: 0.002,
		layers: ['1/0,2'],
		mode: 'deep',
		structure: 'never',
		strictRead: true,
		workers: 3,
		reporters: ['console'],
		open: 'never',
	});
	const cases: Array<[unknown, RegExp]> = [
		[[], /x\.json: the lyipc settings must be a JSON object/],
		[{tolerence: 1}, /x\.json: unknown key 'tolerence'/],
		[{tolerance: -1}, /tolerance: expected a number >= 0, got -1/],
		[{workers: 1.5}, /workers: expected a whole number >= 1, got 1.5/],
		[{layers: ['1/x']}, /layers: invalid layer '1\/x'/],
		[{mode: 'fast'}, /mode: expected one of auto, deep, flat, tiled, got "fast"/],
		[{structure: 'maybe'}, /structure: expected one of auto, always, never, got "maybe"/],
		[{reporters: 'junit'}, /reporters: expected a list of strings/],
		[{strictRead: 'yes'}, /strictRead: expected true or false, got "yes"/],
		[{open: 'sometimes'}, /open: expected one of on-failure, never, always/],
	];
	for (const [value, message] of cases) {
		expect(() => validateConfig(value, 'x.json')).toThrow(message);
	}
});

test('the nearest lyipc.config.json or package.json "lyipc" key, from a folder up', async () => {
	const root = await tempDir();
	const deep = path.join(root, 'project', 'packages', 'chip', 'src');
	await mkdir(deep, {recursive: true});
	expect(await findConfig(deep)).toEqual({config: {}, file: null});

	await writeFile(path.join(root, 'project', 'package.json'), JSON.stringify({name: 'p', lyipc: {tolerance: 0.001}}));
	await writeFile(path.join(root, 'project', 'packages', 'chip', 'package.json'), JSON.stringify({name: 'chip'})); // no key: keep looking
	expect(await findConfig(deep)).toEqual({config: {tolerance: 0.001}, file: path.join(root, 'project', 'package.json')});

	await writeFile(path.join(root, 'project', 'packages', 'lyipc.config.json'), JSON.stringify({mode: 'flat', timeout: 60}));
	const found = await findConfig(deep);
	expect(found).toEqual({config: {mode: 'flat', timeout: 60}, file: path.join(root, 'project', 'packages', 'lyipc.config.json')});
	expect(compareDefaults(found.config)).toEqual({mode: 'flat', timeout: 60_000});
	expect(compareDefaults({strictRead: true, tolerance: 0.001})).toEqual({strictRead: true, tolerance: 0.001});

	await writeFile(path.join(root, 'project', 'packages', 'lyipc.config.json'), '{"mode": ');
	await expect(findConfig(deep)).rejects.toMatchObject({code: 'USAGE', message: expect.stringMatching(/lyipc\.config\.json: not valid JSON/)});
	await expect(loadConfigFile(path.join(root, 'nope.json'))).rejects.toMatchObject({code: 'INPUT_NOT_FOUND'});
	expect(await loadConfigFile(path.join(root, 'project', 'package.json'))).toMatchObject({config: {tolerance: 0.001}});
});
