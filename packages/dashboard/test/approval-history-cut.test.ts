import type { RunningServer } from '@airlock/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentClient, refund } from './support/api.js';
import { launchBrowser, reportPageOnFailure, signInWithPassword, type TestBrowser } from './support/browser.js';
import { startConsoleServer, type ConsoleServer } from './support/console-server.js';

const ADMIN_PASSWORD = 'correct horse battery staple';
const WAIT_MS = 15_000;

/**
 * An approval's page shows the agent's latest decisions, at most about 1 MiB of them: an agent
 * whose calls carry large arguments gets a shorter history, and the page says older decisions
 * were left out and links to all of them.
 */
describe('approval page: a history cut for its size', () => {
  let harness: ConsoleServer;
  let server: RunningServer;
  let browser: TestBrowser;
  let approvalId: string;
  reportPageOnFailure(() => browser);
  beforeAll(async () => {
    harness = await startConsoleServer('airlock-dashboard-history-cut-', ADMIN_PASSWORD);
    server = harness.server;
    const support = agentClient(server.url, harness.keys['support-bot-1'] as string);
    const note = 'x'.repeat(400_000);
    for (let i = 0; i < 6; i++) {
      const stuffed = await support.post<{ effect: string }>('/v1/decide', { tool: 'issue_refund', args: { ...refund(`BIG-${i}`, 10).args, note } });
      expect(stuffed.body.effect).toBe('block');
    }
    const asked = await support.post<{ approval?: { id: string } }>('/v1/decide', refund('CUT-1', 80));
    approvalId = asked.body.approval?.id as string;
    expect(approvalId).toBeTruthy();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    expect(harness?.errors).toEqual([]);
  });

  it('says older decisions are left out and links to the agent’s decisions', async () => {
    const { page } = browser;
    page.setDefaultTimeout(WAIT_MS);
    await signInWithPassword(page, server.url, 'admin', ADMIN_PASSWORD);
    await page.goto(`${server.url}/approvals/${approvalId}`);
    const note = page.getByTestId('history-cut');
    await note.waitFor();
    expect(await note.innerText()).toContain('Older decisions are left out');
    const rows = await page.getByTestId('history').locator('tbody tr').count();
    expect(rows).toBeGreaterThan(1);
    expect(rows).toBeLessThan(7);
    await note.getByRole('link', { name: "All of support-bot-1's decisions" }).click();
    await page.waitForURL((url) => url.pathname === '/audit' && url.searchParams.get('agent') === 'support-bot-1' && url.searchParams.get('type') === 'decision');
  });
});
