import net from 'node:net';

/**
 * A stand-in for the old Python lyipc server (../shared/reference/lyipc-wire.md), for the
 * client's v1 fallback: one line per connection, `ACK None` or `ERR <repr>` with no newline,
 * then close; anything it does not know is acknowledged. It records the raw bytes of each line.
 */
export interface OldLyipcServer {
	port: number;
	/** The raw bytes received, one entry per connection, line terminator included. */
	readonly received: string[];
	close(): Promise<void>;
}

export async function startOldLyipcServer(): Promise<OldLyipcServer> {
	const received: string[] = [];
	let loaded = false;
	const server = net.createServer(socket => {
		let text = '';
		socket.on('data', (chunk: Buffer) => {
			text += chunk.toString('utf8');
			const newline = text.indexOf('\n');
			if (newline < 0) {
				return;
			}

			received.push(text.slice(0, newline + 1));
			const line = text.slice(0, newline).replace(/\r$/, '');
			let reply = 'ACK None';
			if (line === 'reload view' && !loaded) {
				reply = String.raw`ERR 'Traceback (most recent call last):\n  File "lyipc/server.py", line 61\nRuntimeError: Needs a layout'`;
			} else if (line.startsWith('load ')) {
				loaded = true;
			}

			socket.end(reply);
		});
		socket.on('error', () => undefined);
	});
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	return {
		port: (server.address() as net.AddressInfo).port,
		received,
		async close() {
			await new Promise(resolve => server.close(resolve));
		},
	};
}
