import {mkdtemp, rm} from 'node:fs/promises';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {randomBytes} from 'node:crypto';
import {WorkerPool, type WorkerPoolOptions} from '../engine/pool.js';
import {compareWithPictures, type LayoutJob} from '../xor/compare-with-pictures.js';
import {answerLines} from '../json-lines.js';

/** Longest request line accepted: a job is a few hundred bytes. */
const MAX_LINE = 1 << 20;

export interface PoolServer {
	/** Where clients connect: a Unix socket path (a named pipe on Windows). */
	address: string;
	pool: WorkerPool;
	close(): Promise<void>;
}

/**
 * One worker pool for a whole Vitest run, served to the test workers (other threads or
 * processes) over a local socket: JSON lines `{id, job}` in, `{id, ok, result | error}` out,
 * any number of jobs in flight per connection. The socket sits in a private temp folder.
 */
export async function startPoolServer(options: WorkerPoolOptions = {}): Promise<PoolServer> {
	const pool = new WorkerPool(options);
	const folder = process.platform === 'win32' ? null : await mkdtemp(path.join(tmpdir(), 'lyipc-pool-'));
	const address = folder ? path.join(folder, 'pool.sock') : `\\\\.\\pipe\\lyipc-pool-${randomBytes(8).toString('hex')}`;
	const sockets = new Set<net.Socket>();
	const server = net.createServer(socket => {
		sockets.add(socket);
		socket.on('close', () => sockets.delete(socket));
		socket.on('error', () => undefined); // a test worker that went away
		answerLines(socket, async request => compareWithPictures(pool, request.job as LayoutJob), {maxLine: MAX_LINE});
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(address, resolve);
	});
	return {
		address,
		pool,
		async close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			await new Promise(resolve => {
				server.close(resolve);
			});
			await pool.close();
			if (folder) {
				await rm(folder, {recursive: true, force: true});
			}
		},
	};
}
