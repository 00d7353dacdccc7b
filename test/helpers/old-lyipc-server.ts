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
				// The original server called KLayout's cm_reload (atait/klayout-ipc, lyipc/interpreter.py
				// lines 50-52, commit 9e52ed6) and sent the repr of its traceback (line 96), which ends
				// with KLayout's own message (KLayout 0.28.5, no view open).
				reply = String.raw`ERR 'Traceback (most recent call last):\n  File "lyipc/interpreter.py", line 52, in parse_message\nRuntimeError: This function needs a layout but none was available in MainWindow.cm_reload\n'`;
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
