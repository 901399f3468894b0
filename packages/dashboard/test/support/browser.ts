import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { afterEach } from 'vitest';

/** Debian's Chromium (`.ci/run` installs the `chromium` package when it is missing). */
export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught page errors seen since the last `takeConsoleErrors`. */
  takeConsoleErrors(expected?: (message: ConsoleMessage) => boolean): string[];
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile directory, one page, and every console error recorded. */
export async function launchBrowser(viewport = { width: 1280, height: 800 }): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'airlock-chromium-'));
  // Playwright passes the profile as --user-data-dir itself.
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport });
  const page = context.pages()[0] ?? (await context.newPage());
  const seen: { message?: ConsoleMessage; text: string }[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') seen.push({ message, text: `${message.type()}: ${message.text()} (${message.location().url})` });
  });
  page.on('pageerror', (error) => seen.push({ text: `page error: ${error.message}` }));
  return {
    context,
    page,
    takeConsoleErrors(expected = () => false) {
      const unexpected = seen.filter((entry) => !(entry.message && expected(entry.message))).map((entry) => entry.text);
      seen.length = 0;
      return unexpected;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Most characters of a page's text a failure report prints. */
const REPORTED_TEXT = 4_000;

/**
 * Registers, in the calling describe, a hook that prints what the page showed when one of its tests
 * failed: its URL and visible text (cut at REPORTED_TEXT characters). A CI log holds nothing else,
 * and "locator not found" alone cannot tell a page signed out from one showing an error view or
 * still loading.
 */
export function reportPageOnFailure(browser: () => TestBrowser | undefined): void {
  afterEach(async (context) => {
    if (context.task.result?.state !== 'fail') return;
    const page = browser()?.page;
    if (!page || page.isClosed()) return;
    const text = await Promise.race([
      page.evaluate<string>('document.body ? document.body.innerText : ""'),
      new Promise<string>((resolve) => setTimeout(resolve, 5_000, '(the page did not answer within 5 s)')),
    ]).catch((error: unknown) => `(unreadable: ${String(error)})`);
    console.error(`The page when "${context.task.name}" failed: ${page.url()}\n${text.length > REPORTED_TEXT ? `${text.slice(0, REPORTED_TEXT)}…` : text}`);
  });
}

/** Where the screenshots go (gitignored): test-output/dashboard at the repository root. */
export const SCREENSHOTS = new URL('../../../../test-output/dashboard/', import.meta.url);

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // From the top, so the sticky header is drawn where it belongs in a full-page picture.
  await page.evaluate('window.scrollTo(0, 0)');
  // No chart tooltip from wherever the last click left the pointer.
  await page.mouse.move(0, 0);
  await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });
}

/** Signs in with the console's password form and waits for the overview it opens on. */
export async function signInWithPassword(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('Password').press('Enter');
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
}

/**
 * The console errors a step expects: Chromium logs every 4xx answer, so a step that provokes one
 * (a 401 before signing in, the 422 of an invalid draft) names it by status and path.
 */
export function answered(...expected: { status: number; path: string }[]): (message: ConsoleMessage) => boolean {
  return (message) => expected.some(({ status, path }) => message.text().includes(`status of ${status}`) && new URL(message.location().url).pathname === path);
}
