import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import {expect, test} from 'vitest';
import {describeKLayout, ROOT, useTempDirs} from '../helpers/run.js';

// The request framing the worker and the viewer server share (klayout/lyipc_errors.py), in the
// KLayout under test: its Python parses JSON nested ~1000 levels (3.11, KLayout 0.28 on
// Debian 12) or ~10000 (3.13, KLayout 0.30 on Debian 13); the answer must not depend on which.
const SCRIPT = `
import json, sys
sys.path.insert(0, ${JSON.stringify(path.join(ROOT, 'klayout'))})
from lyipc_errors import JobError, parse
for line in open(lines_file, "rb"):
    request = parse(line.rstrip(b"\\n"))
    print(json.dumps(request.to_json() if isinstance(request, JobError) else {"id": request["id"]}))
`;

describeKLayout('JSON requests nested deeply', () => {
	const tempDir = useTempDirs('lyipc-request-depth-');

	test('more than 512 levels are BAD_REQUEST on every KLayout; 512 are parsed', async () => {
		const dir = await tempDir();
		const deep = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
		// The request object is one level, params another: 510 arrays make 512 levels.
		const lines = [510, 511, 900, 3000, 5000].map(arrays => `{"id": ${arrays}, "method": "ping", "params": {"x": ${deep(arrays)}}}`);
		lines.push(`{"id": ${deep(600)}, "method": "ping"}`);
		const linesFile = path.join(dir, 'lines.jsonl');
		await writeFile(linesFile, lines.join('\n') + '\n');
		const script = path.join(dir, 'parse.py');
		await writeFile(script, SCRIPT);
		const {stdout} = await execa(process.env.KLAYOUT ?? 'klayout', ['-b', '-rd', `lines_file=${linesFile}`, '-r', script], {timeout: 60_000});
		const answers = String(stdout)
			.split('\n')
			.filter(line => line.startsWith('{'))
			.map(line => JSON.parse(line) as unknown);
		const tooDeep = {code: 'BAD_REQUEST', message: 'JSON nested too deeply'};
		expect(answers).toEqual([{id: 510}, tooDeep, tooDeep, tooDeep, tooDeep, tooDeep]);
	});
});
