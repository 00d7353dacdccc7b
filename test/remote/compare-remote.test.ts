import {existsSync} from 'node:fs';
import {copyFile, mkdir, readdir, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {expect, test} from 'vitest';
import {WorkerPool} from '../../src/engine/pool.js';
import {compareRemote} from '../../src/remote/compare-remote.js';
import {RemoteHost} from '../../src/remote/remote-host.js';
import {compareLayouts} from '../../src/xor/compare.js';
import {parseHostSpec, shQuote, splitCommand} from '../../src/remote/ssh.js';
import {describeKLayout, FAKE_KLAYOUT, fixture, inspect, processesMatching, useTempDirs} from '../helpers/run.js';
import {describeSsh, useSshd} from '../helpers/sshd.js';
import {CONTEXT_SKIPPED, skipsContextMeta} from '../helpers/newer-klayout.js';

const tempDir = useTempDirs('lyipc-remote-');

test('host specs, shell quoting and LYIPC_SSH words', () => {
	expect(parseHostSpec('me@build-3:/scratch/me')).toEqual({destination: 'me@build-3', dir: '/scratch/me'});
	expect(parseHostSpec('hpc')).toEqual({destination: 'hpc', dir: undefined});
	expect(() => parseHostSpec('-oProxyCommand=x')).toThrow(/expected \[user@\]host\[:dir\]/);
	expect(shQuote(`it's $(rm -rf ~); "x"`)).toBe(`'it'\\''s $(rm -rf ~); "x"'`);
	expect(splitCommand(`ssh -F "./my config" -o 'ProxyJump=a b'`)).toEqual(['ssh', '-F', './my config', '-o', 'ProxyJump=a b']);
});

/** Files on the test host that lyipc left in the host's temp folders. */
async function leftOnHost(home: string): Promise<string[]> {
	return existsSync(home) ? (await readdir(home)).filter(name => name.startsWith('lyipc-')) : [];
}

describeKLayout('compare on another host over ssh', () => {
	describeSsh('a real sshd on 127.0.0.1', () => {
		const sshd = useSshd();
		const remoteTmp = () => path.join(sshd.host.dir, 'home');
		const options = () => ({remote: `${sshd.host.alias}:${remoteTmp()}`, env: {...process.env, ...sshd.host.env}});

		test("A and B are sent, compared by the host's KLayout, the XOR and markers come back; the host keeps nothing", async () => {
			const outDir = await tempDir();
			const result = await compareRemote(fixture('base.gds'), fixture('via_changed.gds'), {...options(), outDir});
			expect(result).toMatchObject({status: 'different', differentLayers: 1, klayout: {path: `${sshd.host.alias}:klayout`}});
			expect(result.a.path).toBe(fixture('base.gds'));
			expect(result.layers.find(layer => layer.key === '4/0')).toMatchObject({xorCount: 10, status: 'different'});
			expect(result.artifacts).toEqual({xor: path.join(outDir, 'base_vs_via_changed.xor.gds'), rdb: path.join(outDir, 'base_vs_via_changed.xor.lyrdb')});
			const local = await inspect({layout: result.artifacts.xor, rdb: result.artifacts.rdb});
			expect(local.layout?.layers).toBeDefined();
			expect((await readdir(outDir)).sort()).toEqual(['base_vs_via_changed.xor.gds', 'base_vs_via_changed.xor.lyrdb']);
			expect(await leftOnHost(remoteTmp())).toEqual([]);
		});

		test('a file from a newer KLayout on a host whose KLayout cannot read its context cell: compared without it, as here', async () => {
			const result = await compareRemote(fixture('newer_klayout_a.gds'), fixture('newer_klayout_b.gds'), {...options(), outDir: await tempDir()});
			const older = skipsContextMeta(result.klayout!.version);
			expect(result).toMatchObject({status: 'different', differentLayers: 1, b: {readNote: older ? CONTEXT_SKIPPED : null}});
			expect(result.layers.map(layer => [layer.key, layer.status])).toEqual([
				['1/0', 'same'],
				['2/0', 'different'],
				['3/0', 'same'],
			]);
			expect(await leftOnHost(remoteTmp())).toEqual([]);
		});

		test('--remote-paths: A and B already on the host, nothing sent; a missing one is named', async () => {
			const hostDir = await tempDir(); // the "host" is this machine: its paths are ours
			await copyFile(fixture('base.gds'), path.join(hostDir, 'a.gds'));
			await copyFile(fixture('one_shape.gds'), path.join(hostDir, 'b.gds'));
			const result = await compareRemote(path.join(hostDir, 'a.gds'), path.join(hostDir, 'b.gds'), {...options(), remotePaths: true, outDir: await tempDir()});
			expect(result).toMatchObject({status: 'different', fastPath: null, a: {path: path.join(hostDir, 'a.gds'), format: 'gds', size: 828}});
			await expect(compareRemote(path.join(hostDir, 'nope.gds'), path.join(hostDir, 'b.gds'), {...options(), remotePaths: true})).rejects.toMatchObject({
				code: 'INPUT_NOT_FOUND',
				message: `${sshd.host.alias}:${path.join(hostDir, 'nope.gds')} (A): no such file on the host`,
			});
			expect(await leftOnHost(remoteTmp())).toEqual([]);
		});

		test('hostile file names travel and compare as they are: spaces, quotes, $(...), ;, leading dashes, non-ASCII', async () => {
			const dir = await tempDir();
			const names = [`it's a "ring" $(touch pwned); rm -rf x.gds`, '-rf --delete.gds', 'kreis-ä-日本.gds'];
			await mkdir(path.join(dir, 'a'));
			await mkdir(path.join(dir, 'b'));
			for (const name of names) {
				await copyFile(fixture('base.gds'), path.join(dir, 'a', name));
				await copyFile(fixture('one_shape.gds'), path.join(dir, 'b', name));
				const result = await compareRemote(path.join(dir, 'a', name), path.join(dir, 'b', name), {...options(), outDir: path.join(dir, 'out')});
				expect(result.status, name).toBe('different');
				expect(result.layers.find(layer => layer.key === '1/0')?.xorCount, name).toBe(1);
			}

			expect(existsSync(path.join(sshd.host.dir, 'home', 'pwned'))).toBe(false);
			expect(existsSync('pwned')).toBe(false);
			expect(await leftOnHost(remoteTmp())).toEqual([]);
		});

		test("in a long run on one host, each pair's copies on the host go once it is compared", async () => {
			const host = await RemoteHost.open(options().remote, {env: options().env});
			const pool = new WorkerPool({size: 1, start: async () => host.startWorker()});
			try {
				for (const b of ['one_shape.gds', 'via_changed.gds']) {
					await compareLayouts(fixture('base.gds'), fixture(b), {pool, files: host.files(), outDir: await tempDir()});
				}

				const left = await readdir(host.folder, {recursive: true, withFileTypes: true});
				const files = left.filter(entry => entry.isFile()).map(entry => path.relative(host.folder, path.join(entry.parentPath, entry.name)));
				expect(files.filter(file => !file.startsWith(`klayout${path.sep}`))).toEqual([]); // the worker code stays for the next pair
			} finally {
				await pool.close();
				await host.close();
			}
		});

		test('byte-identical or bad local inputs never reach the host', async () => {
			const result = await compareRemote(fixture('identical_a.gds'), fixture('identical_a.gds'), {...options(), remote: 'no-such-host.invalid'});
			expect(result.fastPath).toBe('byte-identical');
			await expect(compareRemote(fixture('truncated.gds'), fixture('empty.gds'), {...options(), remote: 'no-such-host.invalid'})).rejects.toMatchObject({code: 'INPUT_EMPTY'});
		});

		test('an unreachable host, a host without KLayout: REMOTE_FAILED with what to do', async () => {
			const unreachable = compareRemote(fixture('base.gds'), fixture('one_shape.gds'), {
				...options(),
				remote: 'nobody@127.0.0.1:/tmp',
				env: {...process.env, LYIPC_SSH: `ssh -F /dev/null -p 1 -o ConnectTimeout=5`},
			});
			await expect(unreachable).rejects.toMatchObject({code: 'REMOTE_FAILED', message: expect.stringMatching(/^nobody@127\.0\.0\.1: sh failed \(ssh could not connect\)/)});
			const noKLayout = compareRemote(fixture('base.gds'), fixture('one_shape.gds'), {...options(), env: {...process.env, ...sshd.host.env, LYIPC_REMOTE_KLAYOUT: 'klayout-not-installed'}});
			await expect(noKLayout).rejects.toMatchObject({code: 'REMOTE_FAILED', message: expect.stringContaining('klayout-not-installed is not on the PATH of')});
			const tooOld = compareRemote(fixture('base.gds'), fixture('one_shape.gds'), {...options(), env: {...process.env, ...sshd.host.env, LYIPC_REMOTE_KLAYOUT: path.join(FAKE_KLAYOUT, 'too-old')}});
			await expect(tooOld).rejects.toMatchObject({
				code: 'KLAYOUT_TOO_OLD',
				message: expect.stringMatching(new RegExp(`^KLayout 0\\.27\\.\\d+ at ${sshd.host.alias}:.*too-old is too old: lyipc needs 0\\.28`)),
			});
			expect(await leftOnHost(remoteTmp())).toEqual([]);
		});

		test("the host's KLayout dies in mid-job: WORKER_DIED naming it, with what it printed; the host keeps nothing", async () => {
			const crashing = compareRemote(fixture('base.gds'), fixture('one_shape.gds'), {
				...options(),
				env: {...process.env, ...sshd.host.env, LYIPC_REMOTE_KLAYOUT: path.join(FAKE_KLAYOUT, 'crash-on-job')},
			});
			await expect(crashing).rejects.toMatchObject({
				code: 'WORKER_DIED',
				message: expect.stringMatching(new RegExp(`${sshd.host.alias}:.*crash-on-job[\\s\\S]*Segmentation fault in db::Region::xor`)),
			});
			expect(await leftOnHost(remoteTmp())).toEqual([]);
		});

		test('concurrent runs against the same host, with the same file names, do not collide', async () => {
			const outs = [await tempDir(), await tempDir(), await tempDir()];
			const pairs = [
				['base.gds', 'one_shape.gds'],
				['base.gds', 'via_changed.gds'],
				['base.gds', 'base_flat.gds'],
			] as const;
			const dir = await tempDir();
			const results = await Promise.all(
				pairs.map(async ([a, b], index) => {
					// The same names each time: ref/x.gds and run/x.gds.
					await mkdir(path.join(dir, String(index), 'ref'), {recursive: true});
					await mkdir(path.join(dir, String(index), 'run'), {recursive: true});
					await copyFile(fixture(a), path.join(dir, String(index), 'ref', 'x.gds'));
					await copyFile(fixture(b), path.join(dir, String(index), 'run', 'x.gds'));
					return compareRemote(path.join(dir, String(index), 'ref', 'x.gds'), path.join(dir, String(index), 'run', 'x.gds'), {...options(), outDir: outs[index]});
				}),
			);
			expect(results.map(result => result.layers.filter(layer => layer.xorCount > 0).map(layer => layer.key))).toEqual([['1/0'], ['4/0'], []]);
			expect(await leftOnHost(remoteTmp())).toEqual([]);
		});

		test("the link dropped in mid-transfer: exit 2 material, no partial artifacts here, the host's temp folder removed", async () => {
			const dir = await tempDir();
			// A layout big enough that a slowed-down rsync is still sending it when the link drops.
			const big = path.join(dir, 'big.gds');
			await writeFile(big, Buffer.concat([await readFile(fixture('base.gds')), Buffer.alloc(3_000_000)])); // trailing zeros: still starts like GDSII
			const out = path.join(dir, 'out');
			const running = compareRemote(big, fixture('one_shape.gds'), {...options(), outDir: out, env: {...process.env, ...sshd.host.env, LYIPC_RSYNC: 'rsync --bwlimit=300'}});
			const deadline = Date.now() + 30_000;
			while ((await processesMatching('big.gds')).length === 0 && Date.now() < deadline) {
				// rsync is sending it
				await new Promise(resolve => {
					setTimeout(resolve, 50);
				});
			}

			await new Promise(resolve => {
				setTimeout(resolve, 500);
			});
			await sshd.host.dropConnections();
			await expect(running).rejects.toMatchObject({code: 'REMOTE_FAILED', message: expect.stringMatching(/^copying .*big\.gds to lyipc-test-host:.* failed \(rsync exit \d+\)/)});
			expect(existsSync(out) ? await readdir(out) : []).toEqual([]);
			expect(await leftOnHost(remoteTmp())).toEqual([]);
		});
	});
});
