// The warm worker server's process (started in the background by warm-worker.ts): serves
// KLayout workers at the socket given as its argument until it has been idle for a while.
import {availableParallelism} from 'node:os';
import {serveWarmWorker} from './warm-worker-server.js';

const address = process.argv[2];
const klayout = process.env.LYIPC_WARM_KLAYOUT;
const idleSeconds = Number(process.env.LYIPC_WARM_WORKER_IDLE ?? 300);
if (!address || !klayout || !Number.isFinite(idleSeconds) || idleSeconds <= 0) {
	process.stderr.write('usage: LYIPC_WARM_KLAYOUT=<klayout> [LYIPC_WARM_WORKER_IDLE=<seconds>] warm-worker-main.js <socket>\n');
	process.exit(2);
}

// Two jobs at once at most: each KLayout holds ~375 MB before it reads a layout.
await serveWarmWorker(address, {klayout, idleMs: idleSeconds * 1000, size: Math.min(2, availableParallelism())});
process.exit(0);
