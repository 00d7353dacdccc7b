import {link, rename, stat, unlink} from 'node:fs/promises';
import type net from 'node:net';
import path from 'node:path';

/** A socket path this process listens at; `release` removes it only while it is still this process's socket. */
export interface OwnedSocket {
	release(): Promise<void>;
}

let serial = 0;

/**
 * Listens at the Unix socket `address` unless another server answers there (then null; `server`
 * is closed). The socket is bound under a private name and linked to `address`: the link fails
 * when the address is taken, and Node's close() unlinks only the private name, so a server that
 * stops never removes a socket that replaced its own (its address deleted, a new server there).
 * A socket left by a server that died is replaced. On Windows, a named pipe: nothing on disk.
 */
export async function listenOwned(server: net.Server, address: string, answersAt: (address: string) => Promise<boolean>): Promise<OwnedSocket | null> {
	if (process.platform === 'win32') {
		return (await listen(server, address)) ? {release: async () => undefined} : null;
	}

	const own = path.join(path.dirname(address), `.${process.pid}-${++serial}.listen`);
	await unlink(own).catch(() => undefined); // left by a process that had this pid
	if (!(await listen(server, own))) {
		return null;
	}

	const mine = await stat(own);
	try {
		await link(own, address);
		await unlink(own);
	} catch {
		try {
			if (await answersAt(address)) {
				throw new Error('another server answers');
			}

			await rename(own, address); // atomically over a dead server's socket
		} catch {
			await close(server);
			return null;
		}
	}

	return {
		async release() {
			const now = await stat(address).catch(() => undefined);
			if (now?.ino === mine.ino && now.dev === mine.dev) {
				await unlink(address).catch(() => undefined);
			}
		},
	};
}

async function listen(server: net.Server, address: string): Promise<boolean> {
	return new Promise(resolve => {
		const failed = () => {
			resolve(false);
		};

		server.once('error', failed);
		server.listen(address, () => {
			server.off('error', failed);
			resolve(true);
		});
	});
}

async function close(server: net.Server): Promise<void> {
	await new Promise<void>(resolve => {
		server.close(() => {
			resolve();
		});
	});
}
