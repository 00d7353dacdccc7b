import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {findKLayout, knownLocations} from '../../src/engine/find-klayout.js';

function only(...executables: string[]) {
	const set = new Set(executables);
	return async (file: string) => set.has(file);
}

describe('findKLayout', () => {
	test('--klayout wins over KLAYOUT, which wins over PATH', async () => {
		const env = {KLAYOUT: '/env/klayout', PATH: '/bin1'};
		const isExecutable = only('/opt/k/klayout', '/env/klayout', '/bin1/klayout');
		expect(await findKLayout({klayout: '/opt/k/klayout', env, platform: 'linux', isExecutable})).toEqual({path: '/opt/k/klayout', source: 'option'});
		expect(await findKLayout({env, platform: 'linux', isExecutable})).toEqual({path: '/env/klayout', source: 'env'});
		expect(await findKLayout({env: {PATH: '/nothing:/bin1'}, platform: 'linux', isExecutable})).toEqual({path: '/bin1/klayout', source: 'path'});
	});

	test('an explicit choice that is not executable is an error, not a fallback', async () => {
		const isExecutable = only('/usr/bin/klayout');
		await expect(findKLayout({klayout: '/nope/klayout', env: {}, platform: 'linux', isExecutable})).rejects.toMatchObject({
			code: 'KLAYOUT_NOT_FOUND',
			message: '--klayout /nope/klayout: not an executable file',
		});
		await expect(findKLayout({env: {KLAYOUT: 'rel/klayout'}, platform: 'linux', isExecutable})).rejects.toMatchObject({
			code: 'KLAYOUT_NOT_FOUND',
			message: 'KLAYOUT rel/klayout: not an executable file',
		});
	});

	test('falls back to the usual install locations', async () => {
		expect(await findKLayout({env: {PATH: '/empty'}, platform: 'linux', isExecutable: only('/usr/bin/klayout')})).toEqual({path: '/usr/bin/klayout', source: 'known-location'});
		const mac = '/Applications/KLayout/klayout.app/Contents/MacOS/klayout';
		expect(await findKLayout({env: {PATH: '/usr/bin'}, platform: 'darwin', isExecutable: only(mac)})).toEqual({path: mac, source: 'known-location'});
		const windows = path.win32.join('C:\\Program Files', 'KLayout', 'klayout_app.exe');
		expect(await findKLayout({env: {Path: 'C:\\Windows', ProgramFiles: 'C:\\Program Files'}, platform: 'win32', isExecutable: only(windows)})).toEqual({path: windows, source: 'known-location'});
	});

	test('nothing found: says where it looked and how to install KLayout', async () => {
		const error = await findKLayout({env: {PATH: '/a:/b'}, platform: 'linux', isExecutable: only()}).catch((error_: unknown) => error_);
		expect(error).toMatchObject({code: 'KLAYOUT_NOT_FOUND'});
		expect((error as Error).message).toContain('/usr/bin/klayout');
		expect((error as {hint: string}).hint).toContain('sudo apt-get install klayout');
		expect((error as {hint: string}).hint).toContain('--klayout PATH');
	});

	test('known locations per platform', () => {
		expect(knownLocations('linux', {})).toContain('/usr/bin/klayout');
		expect(knownLocations('darwin', {})).toContain('/Applications/klayout.app/Contents/MacOS/klayout');
		expect(knownLocations('win32', {APPDATA: 'C:\\Users\\u\\AppData\\Roaming'})).toEqual(['C:\\Users\\u\\AppData\\Roaming\\KLayout\\klayout_app.exe']);
	});
});
