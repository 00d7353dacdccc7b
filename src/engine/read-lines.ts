import type net from 'node:net';

/** Calls `onLine` for each `\n`-terminated line the socket sends; a peer that sends a longer line than `maxLine` is cut off. */
export function readLines(socket: net.Socket, onLine: (line: string) => void, maxLine = Number.POSITIVE_INFINITY): void {
	let buffer = '';
	socket.setEncoding('utf8');
	socket.on('data', (chunk: string) => {
		buffer += chunk;
		let newline;
		while ((newline = buffer.indexOf('\n')) >= 0) {
			const line = buffer.slice(0, newline);
			buffer = buffer.slice(newline + 1);
			onLine(line);
		}

		if (buffer.length > maxLine) {
			socket.destroy();
		}
	});
}
