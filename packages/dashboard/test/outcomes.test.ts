import type { RunningServer } from '@airlock/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentClient, personClient, refund } from './support/api.js';
import { launchBrowser, reportPageOnFailure, signInWithPassword, type TestBrowser } from './support/browser.js';
import { startConsoleServer, type ConsoleServer } from './support/console-server.js';

/** The approval detail says what ran on a redeemed approval (issue 21 item 2), in headless Chromium. */
const ADMIN_PASSWORD = 'correct horse battery staple';
const WAIT_MS = 15_000;

describe('approval detail: the outcome of the approved call', () => {
  let harness: ConsoleServer;
  let server: RunningServer;
  let browser: TestBrowser;
  reportPageOnFailure(() => browser);
  beforeAll(async () => {
    harness = await startConsoleServer('airlock-dashboard-outcomes-', ADMIN_PASSWORD);
    server = harness.server;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await harness?.close();
  });

  it('shows "approved …, ran …, succeeded in 210 ms" once the agent reports the run', async () => {
    const support = agentClient(server.url, harness.keys['support-bot-1'] as string);
    const admin = await personClient(server.url, 'admin', ADMIN_PASSWORD);
    const decision = (await support.post<{ id: string; at: string; approval: { id: string } }>('/v1/decide', refund('DASH-OUT-1', 75))).body;
    const approvalId = decision.approval.id;
    expect((await admin.post(`/v1/approvals/${approvalId}/approve`, { reason: 'ok' })).status).toBe(200);
    expect((await support.post(`/v1/approvals/${approvalId}/redeem`, refund('DASH-OUT-1', 75))).status).toBe(200);
    const reported = await support.post<{ recorded: number }>('/v1/outcomes', {
      outcomes: [{ decisionId: decision.id, decidedAt: decision.at, status: 'succeeded', at: Date.now(), durationMs: 210, result: { digest: 'b'.repeat(64), size: 2 } }],
    });
    expect(reported.body.recorded).toBe(1);

    const { page } = browser;
    page.setDefaultTimeout(WAIT_MS);
    await signInWithPassword(page, server.url, 'admin', ADMIN_PASSWORD);
    await page.goto(`${server.url}/approvals/${approvalId}`);
    const line = page.getByTestId('execution');
    await line.waitFor();
    expect(await line.textContent()).toMatch(/approved .+, ran .+, succeeded in 210 ms/);
  });
});
