// The warm worker server's process (started in the background by warm-worker.ts): serves
// KLayout workers at the socket given as its argument until it has been idle for a while.
import {WARM_WORKER_SIZE} from './warm-worker.js';
import {serveWarmWorker} from './warm-worker-server.js';

const address = process.argv[2];
const klayout = process.env.LYIPC_WARM_KLAYOUT;
// 2 minutes: a re-check after an edit comes sooner; a KLayout missed costs its start-up (~1.1 s).
const idleSeconds = Number(process.env.LYIPC_WARM_WORKER_IDLE ?? 120);
if (!address || !klayout || !Number.isFinite(idleSeconds) || idleSeconds <= 0) {
	process.stderr.write('usage: LYIPC_WARM_KLAYOUT=<klayout> [LYIPC_WARM_WORKER_IDLE=<seconds>] warm-worker-main.js <socket>\n');
	process.exit(2);
}

await serveWarmWorker(address, {klayout, idleMs: idleSeconds * 1000, size: WARM_WORKER_SIZE});
process.exit(0);
