/**
 * A reader that stops early (`git log -p | head`, `lyipc-diff ... | head`) closes the pipe; the
 * next write fails with EPIPE. That is the reader's choice, not an error: end quietly, as
 * git and cat do, rather than with a stack trace.
 */
export function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream, code = 0): void {
	stream.on('error', (error: NodeJS.ErrnoException) => {
		if (error.code === 'EPIPE') {
			process.exit(code);
		}

		throw error;
	});
}
