import {toLyipcError} from '../errors.js';

/** The CLI kit the lyipc-diff and lyipc commands share: exit codes, streams, printing a failure. */
export const EXIT_SAME = 0;
export const EXIT_DIFFERENT = 1;
export const EXIT_ERROR = 2;

export interface CliIo {
	stdout: NodeJS.WriteStream;
	stderr: NodeJS.WriteStream;
	env: NodeJS.ProcessEnv;
	signal?: AbortSignal;
}

/** "program: message" and the hint on stderr; the exit code for it. */
export function printFailure(io: Pick<CliIo, 'stderr'>, program: string, error: unknown): number {
	const failure = toLyipcError(error);
	io.stderr.write(`${program}: ${failure.message}\n${failure.hint ? `${failure.hint}\n` : ''}`);
	return EXIT_ERROR;
}
