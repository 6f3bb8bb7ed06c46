import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import path from 'node:path';

/**
 * A real Chromium for page tests: Debian's package (CHROMIUM_PATH overrides). The flags keep it off the
 * network it would otherwise try to reach at start-up (updates, sync, field trials), which stalls it on a
 * closed network. playwright's launch() gives every run a fresh temporary profile.
 */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A context with JavaScript switched off: every page must work without it. */
export async function newVisitor(browser: Browser, options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ javaScriptEnabled: false, ...options });
  return { context, page: await context.newPage() };
}

/** Saves a screenshot when PAGES_SCREENSHOT_DIR is set, so a person can look at the pages. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.PAGES_SCREENSHOT_DIR;
  if (dir) await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
}
