import {mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {spawn} from 'node:child_process';
import type {Readable, Writable} from 'node:stream';
import {execa} from 'execa';
import {describeNeeding} from './skip.js';

/** A profile folder goes even while a Chromium process that is still exiting writes into it (ENOTEMPTY). */
const PROFILE_REMOVAL = {recursive: true, force: true, maxRetries: 10, retryDelay: 100} as const;

/** Debian's Chromium (scripts/setup.sh installs it); LYIPC_TEST_CHROMIUM points elsewhere. */
export const CHROMIUM = process.env.LYIPC_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Tests that need headless Chromium: LYIPC_TEST_SKIP_BROWSER=1 skips them locally (never under CI=true). */
export const describeBrowser = describeNeeding('LYIPC_TEST_SKIP_BROWSER', 'open reports in headless Chromium');

/**
 * A screenshot (PNG at `shot`) of a local HTML file as headless Chromium draws it, at 1 CSS pixel per pixel.
 * No network (the report must not need one) and a throw-away profile.
 */
export async function screenshotPage(file: string, size: {width: number; height: number}, shot: string): Promise<void> {
	const profile = await mkdtemp(path.join(tmpdir(), 'lyipc-chromium-'));
	try {
		await execa(
			CHROMIUM,
			[
				'--headless',
				'--no-sandbox',
				'--disable-gpu',
				'--disable-quic',
				'--no-first-run',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync',
				'--force-device-scale-factor=1',
				'--hide-scrollbars',
				`--user-data-dir=${profile}`,
				`--window-size=${size.width},${size.height}`,
				`--screenshot=${shot}`,
				pathToFileURL(file).href,
			],
			{timeout: 60_000},
		);
	} finally {
		await rm(profile, PROFILE_REMOVAL);
	}
}

/** A page open in headless Chromium, driven over the DevTools protocol. */
export interface OpenPage {
	/** A DevTools method on the page's session. */
	send<T>(method: string, params?: Record<string, unknown>): Promise<T>;
	/** The value of a JavaScript expression in the page (awaited when it is a promise). */
	evaluate<T>(expression: string): Promise<T>;
	close(): Promise<void>;
}

/**
 * Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4, messages ended by
 * NUL), with a throw-away profile: opens a local page at 1 CSS pixel per pixel and resolves once
 * it has loaded (its pictures too).
 */
export async function openPage(file: string, size: {width: number; height: number}): Promise<OpenPage> {
	const profile = await mkdtemp(path.join(tmpdir(), 'lyipc-chromium-'));
	// node:child_process: fd 3 is written to and fd 4 read from, both as plain pipes.
	const browser = spawn(
		CHROMIUM,
		[
			'--headless',
			'--no-sandbox',
			'--disable-gpu',
			'--no-first-run',
			'--disable-background-networking',
			'--disable-component-update',
			'--disable-sync',
			'--hide-scrollbars',
			`--user-data-dir=${profile}`,
			'--remote-debugging-pipe',
			'about:blank',
		],
		// A group of its own: closing kills its renderer and helper processes too, which write into the profile.
		{stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'], detached: true},
	);
	const exited = new Promise(resolve => {
		browser.once('close', resolve);
	});
	const close = async () => {
		try {
			process.kill(-browser.pid!, 'SIGKILL');
		} catch {
			browser.kill('SIGKILL'); // the group is gone already
		}

		await exited;
		await rm(profile, PROFILE_REMOVAL);
	};

	const toBrowser = browser.stdio[3] as Writable;
	const fromBrowser = browser.stdio[4] as Readable;
	// biome-ignore lint/suspicious/noExplicitAny: each DevTools method answers its own shape; callers say which
	const pending = new Map<number, {resolve(value: any): void; reject(error: Error): void}>();
	const events: Array<{method: string; sessionId?: string | undefined}> = [];
	let buffer = '';
	fromBrowser.on('data', (chunk: Buffer) => {
		buffer += chunk.toString('utf8');
		for (let end = buffer.indexOf('\0'); end >= 0; end = buffer.indexOf('\0')) {
			const message = JSON.parse(buffer.slice(0, end)) as {id?: number; result?: unknown; error?: {message: string}; method?: string; sessionId?: string};
			buffer = buffer.slice(end + 1);
			if (message.id !== undefined) {
				const waiting = pending.get(message.id);
				pending.delete(message.id);
				if (message.error) {
					waiting?.reject(new Error(message.error.message));
				} else {
					waiting?.resolve(message.result);
				}
			} else if (message.method) {
				events.push({method: message.method, sessionId: message.sessionId});
			}
		}
	});
	let next = 0;
	const send = async <T>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> =>
		new Promise((resolve, reject) => {
			const id = ++next;
			pending.set(id, {resolve, reject});
			toBrowser.write(JSON.stringify({id, method, params, ...(sessionId ? {sessionId} : {})}) + '\0');
		});
	const until = async (check: () => boolean, what: string) => {
		const deadline = Date.now() + 20_000;
		while (!check()) {
			if (Date.now() > deadline) {
				throw new Error(`Chromium: no ${what} within 20 s`);
			}

			await new Promise(resolve => {
				setTimeout(resolve, 20);
			});
		}
	};

	try {
		const {targetId} = await send<{targetId: string}>('Target.createTarget', {url: 'about:blank'});
		const {sessionId} = await send<{sessionId: string}>('Target.attachToTarget', {targetId, flatten: true});
		await send('Page.enable', {}, sessionId);
		await send('Emulation.setDeviceMetricsOverride', {width: size.width, height: size.height, deviceScaleFactor: 1, mobile: false}, sessionId);
		await send('Page.navigate', {url: pathToFileURL(file).href}, sessionId);
		await until(() => events.some(event => event.method === 'Page.loadEventFired' && event.sessionId === sessionId), 'page load');
		const onPage = async <T>(method: string, params: Record<string, unknown> = {}) => send<T>(method, params, sessionId);
		return {
			send: onPage,
			async evaluate<T>(expression: string) {
				const {result, exceptionDetails} = await onPage<{result: {value: T}; exceptionDetails?: {text: string}}>('Runtime.evaluate', {expression, returnByValue: true, awaitPromise: true});
				if (exceptionDetails) {
					throw new Error(`Chromium: ${expression}: ${exceptionDetails.text}`);
				}

				return result.value;
			},
			close,
		};
	} catch (error) {
		await close();
		throw error;
	}
}

/** Opens a local page, clicks the centre of the element `selector` finds, as a user's mouse would, and saves a screenshot of what the page then shows. */
export async function clickAndScreenshot(file: string, size: {width: number; height: number}, selector: string, shot: string): Promise<void> {
	const page = await openPage(file, size);
	try {
		const expression = `(() => { const e = document.querySelector(${JSON.stringify(selector)}); if (!e) return null; e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`;
		const centre = await page.evaluate<[number, number] | null>(expression);
		if (!centre) {
			throw new Error(`Chromium: nothing matches ${selector}`);
		}

		const [x, y] = centre;
		for (const type of ['mouseMoved', 'mousePressed', 'mouseReleased']) {
			await page.send('Input.dispatchMouseEvent', {type, x, y, button: 'left', clickCount: type === 'mouseMoved' ? 0 : 1});
		}

		// Let the page lay out what the click opened before taking the picture.
		await page.evaluate('new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))');
		const {data} = await page.send<{data: string}>('Page.captureScreenshot', {format: 'png'});
		await writeFile(shot, Buffer.from(data, 'base64'));
	} finally {
		await page.close();
	}
}
