import {parseArgs} from 'node:util';
import {isLayoutName} from '../layout-files.js';
import {resolveTarget, ViewerClient} from '../viewer/client.js';
import type {CliIo} from './io.js';
import {reportFailure, usage} from './lyipc-args.js';

/**
 * lyipc job --remote HOST [--get PATTERN]... [--show] -- COMMAND...: the command's own words
 * come after `--` and are never parsed here. Exit code: the command's, or 2 when it could not run.
 */
export async function runJob(argv: readonly string[], io: CliIo): Promise<number> {
	try {
		const split = argv.indexOf('--');
		if (split < 0) {
			throw usage('job: expected job --remote HOST [--get PATTERN]... [--show] -- COMMAND...');
		}

		const options = {remote: {type: 'string'}, get: {type: 'string', multiple: true}, show: {type: 'boolean'}, target: {type: 'string'}} as const;
		let values: ReturnType<typeof parseArgs<{options: typeof options; strict: true}>>['values'];
		try {
			({values} = parseArgs({args: argv.slice(0, split), options, strict: true}));
		} catch (error) {
			throw usage(`job: ${(error as Error).message}`);
		}

		if (!values.remote) {
			throw usage('job: --remote HOST is required');
		}

		const {runRemoteJob} = await import('../remote/job.js');
		const job = await runRemoteJob({remote: values.remote, command: argv.slice(split + 1), get: values.get, env: io.env, stdout: io.stdout, stderr: io.stderr, signal: io.signal});
		if (values.get?.length) {
			io.stderr.write(`lyipc job: brought back ${job.fetched.length} file${job.fetched.length === 1 ? '' : 's'}\n`);
		}

		const layouts = job.fetched.filter(file => isLayoutName(file));
		if (values.show && layouts.length > 0) {
			const viewer = await ViewerClient.connect(resolveTarget(values.target, io.env), {token: io.env.LYIPC_TOKEN || undefined});
			try {
				for (const [index, file] of layouts.entries()) {
					await viewer.show(file, {mode: index === 0 ? 'new' : 'add'});
				}
			} finally {
				viewer.close();
			}
		}

		return job.exitCode;
	} catch (error) {
		return reportFailure(io, error);
	}
}
