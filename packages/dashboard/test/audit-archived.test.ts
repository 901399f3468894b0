import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveSqliteAudit, type RunningServer } from '@airlock/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../server/test/support/manual-clock.js';
import { agentClient, refund } from './support/api.js';
import { launchBrowser, reportPageOnFailure, signInWithPassword, type TestBrowser } from './support/browser.js';
import { startConsoleServer, type ConsoleServer } from './support/console-server.js';

const ADMIN_PASSWORD = 'correct horse battery staple';
const WAIT_MS = 15_000;
const DAY = 24 * 60 * 60 * 1000;

/** The audit page says where the trail starts once old records were archived (`airlock audit archive`). */
describe('audit page after archiving', () => {
  let harness: ConsoleServer;
  let server: RunningServer;
  let browser: TestBrowser;
  const out = mkdtempSync(join(tmpdir(), 'airlock-dashboard-archive-'));
  reportPageOnFailure(() => browser);
  beforeAll(async () => {
    // Everything this server records is stamped 30 days ago.
    harness = await startConsoleServer('airlock-dashboard-archived-', ADMIN_PASSWORD, { clock: new ManualClock(Date.now() - 30 * DAY) });
    server = harness.server;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    rmSync(out, { recursive: true, force: true });
  });

  it('shows the chain intact from the archived base, naming the archive and the record that attests it', async () => {
    const support = agentClient(server.url, harness.keys['support-bot-1'] as string);
    for (let i = 0; i < 5; i++) expect((await support.post<{ effect: string }>('/v1/decide', refund(`ARCH-${i}`, 10))).body.effect).toBe('allow');
    const archived = await archiveSqliteAudit(server.databaseFile, join(out, 'old.db'), { beforeMs: Date.now() - 20 * DAY, nowMs: Date.now(), actor: 'system' });
    expect(archived.kind).toBe('archived');
    const { through, attestedBy } = archived as { through: number; attestedBy: number };

    const { page } = browser;
    page.setDefaultTimeout(WAIT_MS);
    await signInWithPassword(page, server.url, 'admin', ADMIN_PASSWORD);
    await page.goto(`${server.url}/audit`);
    const status = page.getByTestId('chain-status');
    await status.filter({ hasText: 'Chain intact' }).waitFor();
    expect((await page.getByTestId('chain-base').innerText()).trim()).toBe(`· records up to #${through.toLocaleString('en-US')} archived to old.db (record #${attestedBy.toLocaleString('en-US')} says so)`);
  });
});
