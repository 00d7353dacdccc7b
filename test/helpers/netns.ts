import {execa} from 'execa';

export interface Netns {
	name: string;
	/** The namespace's address. */
	address: string;
	/** This side's address of the link (the namespace's default route leads there). */
	hostAddress: string;
	remove(): Promise<void>;
}

/**
 * A network namespace joined to this one by a veth pair: another host on its own address,
 * reached over a (virtual) network link. Null where the machine does not allow it (not root).
 */
export async function makeNetns(): Promise<Netns | null> {
	const id = Math.floor(Math.random() * 200) + 20;
	const name = `lyipc-test-${process.pid}-${id}`;
	const here = `lyv${process.pid % 10_000}h${id}`.slice(0, 15);
	const there = `lyv${process.pid % 10_000}t${id}`.slice(0, 15);
	const address = `10.231.${id}.2`;
	const steps = [
		['netns', 'add', name],
		['link', 'add', here, 'type', 'veth', 'peer', 'name', there],
		['link', 'set', there, 'netns', name],
		['addr', 'add', `10.231.${id}.1/30`, 'dev', here],
		['link', 'set', here, 'up'],
		['netns', 'exec', name, 'ip', 'addr', 'add', `${address}/30`, 'dev', there],
		['netns', 'exec', name, 'ip', 'link', 'set', there, 'up'],
		['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up'],
		// Beyond the link: what listens here on other addresses (srun's ports, for a Slurm node there).
		['netns', 'exec', name, 'ip', 'route', 'add', 'default', 'via', `10.231.${id}.1`],
	];
	const remove = async () => {
		await execa('ip', ['link', 'del', here], {reject: false});
		await execa('ip', ['netns', 'del', name], {reject: false});
	};

	for (const step of steps) {
		if ((await execa('ip', step, {reject: false})).exitCode !== 0) {
			await remove();
			return null;
		}
	}

	return {name, address, hostAddress: `10.231.${id}.1`, remove};
}
