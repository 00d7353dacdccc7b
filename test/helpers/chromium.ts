import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {execa} from 'execa';
import {describe} from 'vitest';

/** Debian's Chromium (scripts/setup.sh installs it); LYIPC_TEST_CHROMIUM points elsewhere. */
export const CHROMIUM = process.env.LYIPC_TEST_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Tests that open pages in a real browser run everywhere, CI included. Locally,
 * LYIPC_TEST_SKIP_BROWSER=1 skips them, and says so; under CI=true the flag is ignored.
 */
const skipBrowser = process.env.LYIPC_TEST_SKIP_BROWSER === '1' && process.env.CI !== 'true';
if (skipBrowser) {
	console.warn('LYIPC_TEST_SKIP_BROWSER=1: skipping the tests that open reports in headless Chromium');
}

export const describeBrowser = skipBrowser ? describe.skip : describe;

/**
 * A screenshot (PNG at `shot`) of a local HTML file as headless Chromium draws it, at 1 CSS pixel per pixel;
 * `fragment` ("#id") opens the page as a click on a link to that id does.
 * No network (the report must not need one) and a throw-away profile.
 */
export async function screenshotPage(file: string, size: {width: number; height: number}, shot: string, fragment = ''): Promise<void> {
	const profile = await mkdtemp(path.join(tmpdir(), 'lyipc-chromium-'));
	try {
		await execa(CHROMIUM, [
			'--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			'--force-device-scale-factor=1', '--hide-scrollbars', `--user-data-dir=${profile}`,
			`--window-size=${size.width},${size.height}`, `--screenshot=${shot}`, pathToFileURL(file).href + fragment,
		], {timeout: 60_000});
	} finally {
		await rm(profile, {recursive: true, force: true});
	}
}
