import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium: the tests drive the browser users have, and download none. */
export const CHROMIUM = '/usr/bin/chromium';

const QUIET_ARGS = ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Chromium with `args` besides the quiet defaults; an error that says how to install it when it is missing. */
export async function launchChromium(args: string[], what: string): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run ${what}`);
  return chromium.launch({ executablePath: CHROMIUM, args: [...QUIET_ARGS, ...args] });
}

/** A page at `url` that records console errors, page errors and every request outside `allowed` (which it aborts). */
export async function openPage(browser: Browser, url: string, allowed: (url: string) => boolean): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  await page.route('**/*', (route) => {
    if (allowed(route.request().url())) return route.continue();
    problems.push(`network request: ${route.request().url()}`);
    return route.abort();
  });
  await page.goto(url);
  return { page, problems };
}
