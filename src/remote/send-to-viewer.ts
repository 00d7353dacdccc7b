import {createHash} from 'node:crypto';
import {hostname} from 'node:os';
import path from 'node:path';
import {rsync, runRemote, sshCommand} from './ssh.js';

/**
 * The old lyipc's remote mode (`LYIPCTARGET=user@host`): copies a layout to the viewer's
 * machine with rsync over ssh, into `~/.cache/lyipc/sent/<id>/` where the id stands for this
 * machine and the file's full path, so two files with the same name never overwrite each
 * other while sending the same file again replaces its copy (a reload sees the new bytes).
 * Resolves with the copy's absolute path on the viewer's machine.
 */
export async function sendToViewerMachine(file: string, destination: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
	const absolute = path.resolve(file);
	const id = createHash('sha256').update(`${hostname()}\0${absolute}`).digest('hex').slice(0, 16);
	const ssh = sshCommand(env);
	const dir = (await runRemote(ssh, destination, ['sh', '-c', 'd="$HOME/.cache/lyipc/sent/$1" && mkdir -p "$d" && cd "$d" && pwd', 'lyipc', id])).trim();
	await rsync(ssh, [absolute], `${destination}:${dir}/`, {env});
	return `${dir}/${path.basename(absolute)}`;
}
