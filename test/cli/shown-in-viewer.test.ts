import path from 'node:path';
import {expect, test} from 'vitest';
import {pairWithDifferences} from '../helpers/diff-pairs.js';
import {useGuiViewer, viewerStatus} from '../helpers/gui.js';
import {describeKLayout, runCli} from '../helpers/run.js';
import {makeSuiteTree} from '../helpers/suite-tree.js';

describeKLayout('lyipc-diff says where it showed the differences', () => {
	const gui = useGuiViewer();
	const env = () => ({LYIPC_PORT: String(gui.viewer.port), CI: 'false'});
	const where = () => `lyipc-diff: shown in the KLayout viewer at 127.0.0.1:${gui.viewer.port}, view `;

	test('two files: one line on stderr naming the viewer, the view and the pair; --json stdout stays the result alone; -q says nothing', async () => {
		const [a, b] = await pairWithDifferences(gui.temp, 'said', 300);
		const text = await runCli([a, b, '--out-dir', path.join(gui.temp, 'text')], {env: env(), extendEnv: true});
		expect(text.exitCode).toBe(1);
		const {views} = await viewerStatus(gui.viewer.port);
		const index = views.findIndex(view => view.current);
		expect(text.stderr).toBe(`${where()}${index} 'said_a.gds vs said_b.gds'`);
		const json = await runCli([a, b, '--json', '--out-dir', path.join(gui.temp, 'json')], {env: env(), extendEnv: true});
		expect(json.exitCode).toBe(1);
		expect(JSON.parse(json.stdout)).toMatchObject({status: 'different'});
		expect(json.stderr).toBe(`${where()}${index} 'said_a.gds vs said_b.gds'`); // the same pair: its view again
		const quiet = await runCli([a, b, '-q', '--out-dir', path.join(gui.temp, 'quiet')], {env: env(), extendEnv: true});
		expect(quiet.exitCode).toBe(1);
		expect(quiet.stderr).toBe('');
	});

	test('two directories with --view: the line names the first differing pair and its view', async () => {
		const {reference, output} = await makeSuiteTree(gui.temp);
		const run = await runCli([reference, output, '--view', '--reporter', 'json', '--exclude', 'corrupt.gds', '--out-dir', path.join(gui.temp, 'suite-out')], {env: env(), extendEnv: true});
		expect(run.exitCode, run.stderr).toBe(1);
		expect(JSON.parse(run.stdout)).toBeTypeOf('object');
		const {views} = await viewerStatus(gui.viewer.port);
		const index = views.findIndex(view => view.current);
		expect(run.stderr.trim().split('\n').at(-1)).toBe(`${where()}${index} 'ring.gds'`);
	});
});
