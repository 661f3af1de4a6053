/**
 * Headless Chromium for end-to-end tests: the system's Debian Chromium driven by playwright-core
 * (nothing is downloaded). Screenshots go to `test-results/` (git-ignored) for people to look at.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Where the browser lives; override with `AIRLOCK_CHROMIUM`. */
export const CHROMIUM_PATH = process.env.AIRLOCK_CHROMIUM ?? '/usr/bin/chromium';

/** Folder for screenshots; created on first use. */
export const RESULTS_DIR = path.resolve(__dirname, '..', '..', 'test-results');

/** True when the Chromium binary exists. */
function hasChromium(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** Launches headless Chromium with flags that keep it quiet and offline apart from the pages it opens. */
export async function launchBrowser(): Promise<Browser> {
  if (!hasChromium()) throw new Error(`No Chromium at ${CHROMIUM_PATH}: install Debian's chromium (apt-get install -y chromium, as .ci/run does) or set AIRLOCK_CHROMIUM`);
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** A fresh context (own cookies and storage) with a desktop-sized viewport and one page. */
export async function newPage(browser: Browser, options: { baseURL?: string } = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: options.baseURL, viewport: { width: 1920, height: 1080 }, locale: 'en-US', timezoneId: 'UTC' });
  const page = await context.newPage();
  return { context, page };
}

/** Saves a full-page screenshot as `test-results/<name>.png` and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.png`);
  await page.mouse.move(0, 0); // no hover effects or tooltips from the last click
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
