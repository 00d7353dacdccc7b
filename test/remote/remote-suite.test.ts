import {copyFile, mkdir, readFile, readdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {expect, test} from 'vitest';
import type {Pictures} from '../../src/xor/pictures.js';
import {pngColours} from '../helpers/gui.js';
import {describeKLayout, fixture, runCli, useTempDirs} from '../helpers/run.js';
import {describeSsh, netnsAllowed, useSshd} from '../helpers/sshd.js';
import {makeSuiteTree, TREE_EXPECTED} from '../helpers/suite-tree.js';

const tempDir = useTempDirs('lyipc-remote-suite-');
// The second host gets its own network namespace and address where the machine allows it (root).
const NETNS = await netnsAllowed();
if (!NETNS) {
	console.warn('no network namespaces on this machine (needs root): the second test host listens on loopback too');
}

describeKLayout('lyipc-diff REF_DIR RUN_DIR --remote host1,host2', () => {
	describeSsh('two hosts, each a real sshd', () => {
		const first = useSshd({alias: 'lyipc-host-1'});
		const second = useSshd({alias: 'lyipc-host-2', netns: NETNS});

		test('the pairs are spread over both hosts, one run, one report, the same verdicts as here', async () => {
			const root = await tempDir();
			const {reference, output} = await makeSuiteTree(root);
			// More pairs that need KLayout (same geometry, other bytes): enough to keep both hosts busy.
			const extra = ['more/a.gds', 'more/b.gds', 'more/c.gds', 'more/d.gds'];
			await mkdir(path.join(reference, 'more'));
			await mkdir(path.join(output, 'more'));
			for (const name of extra) {
				await copyFile(fixture('base.gds'), path.join(reference, name));
				await copyFile(fixture('base_flat.gds'), path.join(output, name));
			}

			const sshConfig = path.join(root, 'ssh_config');
			await writeFile(sshConfig, (await readFile(first.host.sshConfig, 'utf8')) + (await readFile(second.host.sshConfig, 'utf8')));
			const hosts = [first.host, second.host].map(host => `${host.alias}:${path.join(host.dir, 'home')}`);
			if (NETNS) {
				expect(await readFile(second.host.sshConfig, 'utf8')).toMatch(/HostName 10\.231\.\d+\.2\n/); // across a veth link
			}

			const before = [first.host.connections(), second.host.connections()];
			const run = await runCli(
				[reference, output, '--remote', hosts.join(','), '--workers', '1', '--reporter', 'json', '--reporter', `html=${path.join(root, 'report.html')}`, '--out-dir', path.join(root, 'out')],
				{env: {LYIPC_SSH: `ssh -F ${sshConfig}`}},
			);
			expect(run.exitCode, run.stderr).toBe(2); // the corrupt pair
			const result = JSON.parse(run.stdout) as {
				pairs: Array<{path: string; status: string; result: {klayout: {path: string} | null} | null; pictures: Pictures | null}>;
				workers: {size: number; started: number};
			};
			expect(Object.fromEntries(result.pairs.map(pair => [pair.path, pair.status]))).toEqual({...TREE_EXPECTED, ...Object.fromEntries(extra.map(name => [name, 'identical']))});
			expect(result.workers.size).toBe(2);
			// Pairs that needed KLayout ran on the hosts, both of them (each has one worker and
			// six such pairs start together); byte-identical ones were settled here.
			const ranOn = new Set(result.pairs.map(pair => pair.result?.klayout?.path).filter(Boolean));
			expect([...ranOn].every(where => /^lyipc-host-[12]:klayout$/.test(where!))).toBe(true);
			expect(ranOn.size).toBe(2);
			// Every step (temp folder, worker code, each pair's files, workers, fetches, clean-up)
			// shares one ssh connection per host (ControlMaster).
			expect([first.host.connections() - before[0]!, second.host.connections() - before[1]!]).toEqual([1, 1]);
			expect(await readdir(path.join(root, 'out', 'chip'))).toEqual(expect.arrayContaining(['ring.xor.gds', 'ring.xor.lyrdb']));
			// The hosts drew the pictures (KLayout there, then fetched): the same as drawn here.
			const local = await runCli([reference, output, '--reporter', `html=${path.join(root, 'local.html')}`, '--out-dir', path.join(root, 'local')]);
			expect(local.exitCode, local.stderr).toBe(2);
			const pictures = Object.fromEntries(result.pairs.map(pair => [pair.path, pair.pictures]));
			expect(pictures['chip/ring.gds']).toMatchObject({a: expect.any(String), b: expect.any(String), xor: expect.any(String), overview: expect.any(String), closeups: [], groups: 1, error: null});
			expect(pictures['only_ref.gds']).toMatchObject({a: expect.any(String), b: null, error: null});
			expect(pictures['only_run.oas']).toMatchObject({a: null, b: expect.any(String), error: null});
			for (const picture of ['chip/ring.a.png', 'chip/ring.b.png', 'chip/ring.xor.png', 'chip/ring.overview.png', 'only_ref.a.png', 'only_run.b.png']) {
				const [there, here] = await Promise.all([pngColours(path.join(root, 'out', picture)), pngColours(path.join(root, 'local', picture))]);
				expect(there, picture).toEqual(here);
				expect(there.colours.size, picture).toBeGreaterThan(2); // drawn, not blank
			}

			// Each picture once on the page and once in its enlarged view, linked relative to the page.
			expect((await readFile(path.join(root, 'report.html'), 'utf8')).match(/<img src="out\/[^"]+\.png"/g)).toHaveLength(12);
			for (const host of [first.host, second.host]) {
				expect((await readdir(path.join(host.dir, 'home'))).filter(name => name.startsWith('lyipc-'))).toEqual([]);
			}
		});
	});
});
