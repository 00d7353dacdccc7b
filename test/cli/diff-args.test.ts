import {expect, test} from 'vitest';
import {parseDiffArgs} from '../../src/cli/diff-args.js';

test('two files and every option', () => {
	const command = parseDiffArgs([
		'a.gds',
		'b.oas',
		'--json',
		'-q',
		'--tolerance',
		'0.005',
		'--layers',
		'1/0,2/0',
		'--ignore-layers',
		'3',
		'--top-a',
		'TOP',
		'--top-b',
		'TOP2',
		'--mode',
		'tiled',
		'--structure',
		'never',
		'--threads',
		'4',
		'--tile-size',
		'250',
		'--timeout',
		'90',
		'--klayout',
		'/opt/k',
		'--out-dir',
		'o',
		'--out',
		'o/x.gds',
		'--rdb',
		'o/x.lyrdb',
		'--max-markers',
		'50',
		'--view',
		'--target',
		'viewer:9000',
		'--config',
		'ci/lyipc.json',
		'--no-warm-worker',
		'--verbose',
		'--strict-read',
	]);
	expect(command).toEqual({
		kind: 'compare',
		a: 'a.gds',
		b: 'b.oas',
		json: true,
		quiet: true,
		verbose: true,
		view: 'always',
		target: 'viewer:9000',
		warmWorker: false,
		options: {
			tolerance: 0.005,
			layers: ['1/0,2/0'],
			ignoreLayers: ['3'],
			topA: 'TOP',
			topB: 'TOP2',
			mode: 'tiled',
			structure: 'never',
			threads: 4,
			tileSize: 250,
			timeout: 90_000,
			klayout: '/opt/k',
			outDir: 'o',
			out: 'o/x.gds',
			rdb: 'o/x.lyrdb',
			maxMarkers: 50,
			strictRead: true,
		},
		suite: {include: undefined, exclude: undefined, workers: undefined, reporters: undefined, pictureSize: undefined, closeups: undefined, update: false, prune: false},
		config: {kind: 'file', file: 'ci/lyipc.json'},
		remote: undefined,
	});
	expect(parseDiffArgs(['a.gds', 'b.gds', '--remote', 'me@hpc:/scratch', '--remote-paths'])).toMatchObject({remote: {host: 'me@hpc:/scratch', remotePaths: true}});
	expect(() => parseDiffArgs(['a.gds', 'b.gds', '--remote-paths'])).toThrow(/--remote-paths needs --remote HOST/);
	expect(() => parseDiffArgs(['a.gds', 'b.gds', '--remote', 'hpc', '--klayout', '/opt/k'])).toThrow(/--klayout names a KLayout on this machine/);
});

test('unset options stay unset so library defaults apply', () => {
	expect(parseDiffArgs(['a.gds', 'b.gds'])).toEqual({
		kind: 'compare',
		a: 'a.gds',
		b: 'b.gds',
		json: false,
		quiet: false,
		verbose: false,
		view: 'try',
		target: undefined,
		warmWorker: true,
		options: {},
		suite: {include: undefined, exclude: undefined, workers: undefined, reporters: undefined, pictureSize: undefined, closeups: undefined, update: false, prune: false},
		config: {kind: 'find'},
		remote: undefined,
	});
	expect(parseDiffArgs(['a.gds', 'b.gds', '--no-config'])).toMatchObject({config: {kind: 'none'}});
	expect(() => parseDiffArgs(['a.gds', 'b.gds', '--no-config', '--config', 'x.json'])).toThrow(/--config and --no-config exclude each other/);
});

test('directory mode options: repeatable globs and reporters, a worker count', () => {
	expect(parseDiffArgs(['ref', 'run', '--include', '**/*.gds', '--include', 'x/*.oas', '--exclude', 'tmp/**', '--workers', '3', '--reporter', 'junit=r.xml', '--reporter', 'console'])).toMatchObject({
		suite: {include: ['**/*.gds', 'x/*.oas'], exclude: ['tmp/**'], workers: 3, reporters: ['junit=r.xml', 'console']},
	});
	expect(() => parseDiffArgs(['ref', 'run', '--workers', '0'])).toThrow(/--workers: expected a whole number >= 1, got '0'/);
	expect(() => parseDiffArgs(['ref', 'run', '--workers', '1.5'])).toThrow(/--workers/);
	expect(parseDiffArgs(['ref', 'run', '--picture-size', '640x400', '--closeups', '5', '-u', '--prune'])).toMatchObject({
		suite: {pictureSize: {width: 640, height: 400}, closeups: 5, update: true, prune: true},
	});
	expect(() => parseDiffArgs(['ref', 'run', '--closeups', '51'])).toThrow(/--closeups: expected a whole number from 0 to 50/);
	expect(parseDiffArgs(['ref', 'run', '--picture-budget', '2.5'])).toMatchObject({suite: {pictureBudget: 2.5}});
	expect(() => parseDiffArgs(['ref', 'run', '--picture-budget', '0'])).toThrow(/--picture-budget: expected seconds from 0.1 to 3600, got '0'/);
	expect(() => parseDiffArgs(['ref', 'run', '--picture-budget', 'soon'])).toThrow(/--picture-budget/);
});

test('a misspelt option: did you mean the nearest one', () => {
	expect(() => parseDiffArgs(['a', 'b', '--tolerence', '1'])).toThrow(/unknown option --tolerence \(did you mean --tolerance\?\)/);
	expect(() => parseDiffArgs(['a', 'b', '--reporters', 'x'])).toThrow(/unknown option --reporters \(did you mean --reporter\?\)/);
	expect(() => parseDiffArgs(['a', 'b', '--zzz'])).toThrow(/^unknown option --zzz$/);
});

test('--view and --no-view', () => {
	expect(parseDiffArgs(['a.gds', 'b.gds', '--no-view'])).toMatchObject({view: 'never'});
	expect(() => parseDiffArgs(['a.gds', 'b.gds', '--view', '--no-view'])).toThrow(/--view and --no-view exclude each other/);
});

test('--timeout 0 means no limit', () => {
	expect(parseDiffArgs(['a.gds', 'b.gds', '--timeout', '0'])).toMatchObject({options: {timeout: 0}});
});

test('a file name starting with a dash after --', () => {
	expect(parseDiffArgs(['--', '-a.gds', 'b.gds'])).toMatchObject({a: '-a.gds', b: 'b.gds'});
});

test('--help and --version win over everything else', () => {
	expect(parseDiffArgs(['a.gds', '--help'])).toEqual({kind: 'help'});
	expect(parseDiffArgs(['-V'])).toEqual({kind: 'version'});
});

test.each([
	[['--frob', 'a', 'b'], 'unknown option --frob'],
	[['-x', 'a', 'b'], 'unknown option -x'],
	[['--threads', 'many', 'a', 'b'], "--threads: expected a whole number, got 'many'"],
	[['--tile-size', '', 'a', 'b'], "--tile-size: expected a tile edge in µm, got ''"],
	[['--out'], 'option --out needs a value'],
])('usage error for %j', (argv, message) => {
	expect(() => parseDiffArgs(argv)).toThrow(expect.objectContaining({code: 'USAGE', message, hint: "Run 'lyipc-diff --help' for the options."}));
});
