// How long the viewer's window could not answer while something ran: a second connection pings
// it (v2 `ping`, answered at once by a free GUI thread) every `interval` ms and times each round
// trip. For the viewer tests and bench/fuzz/viewer.mjs.
import net from 'node:net';

/**
 * Runs `work()` while pinging; resolves {result, longestMs, pings}. `longestMs` is the longest
 * round trip, a ping still unanswered when `work` ends counted up to that moment.
 */
export async function whilePinging(port, work, {host = '127.0.0.1', interval = 20} = {}) {
	const socket = net.connect(port, host);
	await new Promise((resolve, reject) => {
		socket.once('connect', resolve);
		socket.once('error', reject);
	});
	socket.on('error', () => undefined);
	let longest = 0;
	let pings = 0;
	let sentAt = 0;
	let outstanding = false;
	let timer;
	const send = () => {
		sentAt = Date.now();
		outstanding = true;
		socket.write('{"id":"ping","method":"ping"}\n');
	};

	let buffer = '';
	socket.on('data', chunk => {
		buffer += chunk.toString('utf8');
		for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
			buffer = buffer.slice(newline + 1);
			longest = Math.max(longest, Date.now() - sentAt);
			outstanding = false;
			pings++;
			timer = setTimeout(send, interval);
		}
	});
	send();
	try {
		const result = await work();
		if (outstanding) {
			longest = Math.max(longest, Date.now() - sentAt);
		}

		return {result, longestMs: longest, pings};
	} finally {
		clearTimeout(timer);
		socket.destroy();
	}
}
