import {execFile} from 'node:child_process';
import {promisify} from 'node:util';
import type {Reporter, TestModule, Vitest} from 'vitest/node';

const execFileAsync = promisify(execFile);

/** What `klayout -b -v` prints ("KLayout 0.30.0"), or why there is none. */
export async function klayoutVersion(klayout: string): Promise<string> {
	try {
		const {stdout} = await execFileAsync(klayout, ['-b', '-v'], {timeout: 60_000});
		return stdout.trim() || `${klayout} printed no version`;
	} catch (error) {
		return `no KLayout (${klayout}: ${(error as Error).message.split('\n')[0]})`;
	}
}

/**
 * Prints, after each test file, the KLayout the tests drove ($KLAYOUT, else `klayout` on PATH)
 * and how long the file took, so that a run on several KLayout versions says which ran where.
 */
export default class KLayoutVersionReporter implements Reporter {
	private vitest: Vitest | undefined;
	private version = '';

	onInit(vitest: Vitest): void {
		this.vitest = vitest;
	}

	async onTestRunStart(): Promise<void> {
		const klayout = process.env.KLAYOUT ?? 'klayout';
		this.version = `${await klayoutVersion(klayout)} (${klayout})`;
	}

	onTestModuleEnd(testModule: TestModule): void {
		const seconds = (testModule.diagnostic().duration / 1000).toFixed(1);
		this.vitest?.logger.log(`${testModule.relativeModuleId}: ${this.version}, ${seconds} s, ${testModule.state()}`);
	}
}
