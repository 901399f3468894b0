import type { RunningServer } from '@airlock/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentClient, refund } from './support/api.js';
import { launchBrowser, reportPageOnFailure, signInWithPassword, type TestBrowser } from './support/browser.js';
import { startConsoleServer, type ConsoleServer } from './support/console-server.js';

const ADMIN_PASSWORD = 'correct horse battery staple';
const WAIT_MS = 15_000;
const SCAN_LIMIT = 25;

/**
 * A search the server answers in bounded steps (a filter no single index serves examines at
 * most `auditScanLimit` records a page): the audit page says how far it searched and continues
 * older on request, until the one blocked refund among 60 allowed ones is found.
 */
describe('audit page: a search answered in steps', () => {
  let harness: ConsoleServer;
  let server: RunningServer;
  let browser: TestBrowser;
  reportPageOnFailure(() => browser);
  beforeAll(async () => {
    harness = await startConsoleServer('airlock-dashboard-scan-bound-', ADMIN_PASSWORD, { auditScanLimit: SCAN_LIMIT });
    server = harness.server;
    const support = agentClient(server.url, harness.keys['support-bot-1'] as string);
    expect((await support.post<{ effect: string }>('/v1/decide', refund('SCAN-BLOCKED', 600))).body.effect).toBe('block');
    for (let i = 0; i < 60; i++) expect((await support.post<{ effect: string }>('/v1/decide', refund(`SCAN-${i}`, 10))).body.effect).toBe('allow');
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    expect(harness?.errors).toEqual([]);
  });

  it('says where the search stopped, and "Search older records" goes on until the match and the oldest record', async () => {
    const { page } = browser;
    page.setDefaultTimeout(WAIT_MS);
    await signInWithPassword(page, server.url, 'admin', ADMIN_PASSWORD);
    await page.goto(`${server.url}/audit?effect=block`);
    const paging = page.getByTestId('audit-paging');
    await paging.filter({ hasText: 'Searched back to record #' }).waitFor();
    await page.getByText('No record matches these filters in the newest records searched.').waitFor();
    const more = page.getByRole('button', { name: 'Search older records' });
    const rows = page.getByTestId('audit-table').locator('tbody tr[data-seq]');
    const stops: number[] = [];
    // 61 decisions and the records before them, SCAN_LIMIT a step: a few clicks reach the oldest.
    for (let clicks = 0; (await more.count()) > 0; clicks++) {
      expect(clicks).toBeLessThan(10);
      const text = await paging.innerText();
      stops.push(Number(/Searched back to record #(\d+)/.exec(text)?.[1]));
      await more.click();
      await expect.poll(async () => (await paging.innerText()) !== text && !(await paging.innerText()).includes('Loading')).toBe(true);
    }
    expect(stops.length).toBeGreaterThanOrEqual(2);
    // Each step starts where the previous one stopped, SCAN_LIMIT records further down.
    for (let i = 1; i < stops.length; i++) expect((stops[i - 1] ?? 0) - (stops[i] ?? 0)).toBe(SCAN_LIMIT);
    expect(await rows.count()).toBe(1);
    expect((await paging.innerText()).trim()).toBe('1 record shown.');
    expect(await page.getByTestId('audit-table').innerText()).toContain('block');
  });
});
