/**
 * Refreshes the screenshots of packages/dashboard/README.md (`npm run screenshots -w @airlock/dashboard`):
 * starts a server on a temporary SQLite file with the seeded demo agents, plays a day of demo
 * traffic (the calls of the four demos, on a clock set back a day that catches up with the present), then drives headless Chromium
 * at 1440×900 through the main views and writes one PNG per view to docs/screenshots/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '@airlock/server';
import type { Page } from 'playwright-core';
import { agentClient, personClient, type Client } from '../test/support/api.js';
import { launchBrowser, signInWithPassword } from '../test/support/browser.js';

const DIST = fileURLToPath(new URL('../dist', import.meta.url));
const OUT = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const VIEWPORT = { width: 1440, height: 900 };
const PASSWORD = 'screenshots password 1234';
const MINUTE = 60_000;
const HOURS = 24;

type Call = { tool: string; args: Record<string, unknown>; answer?: 'approve' | 'deny' };

const ids = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);

/** The calls of examples/demos, by agent; `answer` is what the approver does if one is asked. */
const TRAFFIC: Record<string, Call[]> = {
  'support-bot-1': [
    { tool: 'get_account', args: { account_id: 'A-17' } },
    { tool: 'issue_refund', args: { account_id: 'A-17', amount: 20, currency: 'USD' } },
    { tool: 'issue_refund', args: { account_id: 'A-18', amount: 75, currency: 'USD' }, answer: 'approve' },
    { tool: 'issue_refund', args: { account_id: 'A-19', amount: 900, currency: 'USD' } },
    { tool: 'issue_refund', args: { account_id: 'A-17', amount: 45, currency: 'USD' } },
    { tool: 'issue_refund', args: { account_id: 'A-17', amount: 40, currency: 'USD' }, answer: 'deny' },
  ],
  'devops-bot-1': [
    { tool: 'get_metrics', args: { service: 'checkout', environment: 'production' } },
    { tool: 'scale_service', args: { service: 'checkout', environment: 'staging', replicas: 4 } },
    { tool: 'scale_service', args: { service: 'checkout', environment: 'production', replicas: 12 } },
    { tool: 'provision_instance', args: { instance_type: 't3.medium', environment: 'dev' } },
  ],
  'finance-bot-1': [
    { tool: 'get_balance', args: { account_id: 'OPS-1' } },
    { tool: 'make_payment', args: { amount: 420, currency: 'USD', payee: 'Acme Supplies' } },
    { tool: 'make_payment', args: { amount: 40_000, currency: 'USD', payee: 'Unknown Ltd' } },
    { tool: 'transfer_funds', args: { amount: 300, currency: 'USD', from_account: 'OPS-1', to_account: 'EXT-9', destination: 'external' }, answer: 'deny' },
  ],
  'workflow-bot-1': [
    { tool: 'read_records', args: { system: 'crm', object: 'lead' } },
    { tool: 'create_record', args: { system: 'crm', object: 'lead', fields: { name: 'Ada' } } },
    { tool: 'update_records', args: { system: 'crm', object: 'lead', ids: ids(40, 'L') } },
    { tool: 'delete_records', args: { system: 'crm', object: 'lead', ids: ids(250, 'X') } },
  ],
};

async function main(): Promise<void> {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`${DIST} is missing: run npm run build first`);
  mkdirSync(OUT, { recursive: true });
  const dataDir = mkdtempSync(join(tmpdir(), 'airlock-screenshots-'));
  // The traffic is played from a day ago up to now on a clock that only moves forward.
  let offset = -HOURS * 60 * MINUTE;
  const clock = { now: () => Date.now() + offset };
  const options = { dataDir, port: 0, adminPassword: PASSWORD, dashboardDir: DIST, clock, print: () => undefined, logError: (message: string) => console.error(message) };
  let server = await startServer(options);
  const browser = await launchBrowser(VIEWPORT);
  try {
    const keys = Object.fromEntries((server.seeded.demoKeys ?? []).map((k) => [k.agent, k.key]));
    // Signed in again every few hours of the played day: a session does not last a day.
    let admin = await personClient(server.url, 'admin', PASSWORD);
    const agents = Object.fromEntries(Object.keys(TRAFFIC).map((agent) => [agent, agentClient(server.url, keys[agent] as string)]));
    /** One call; its approval answered a few minutes later as the traffic says (unanswered ones time out by their route). */
    const decide = async (agent: string, call: Call, answerAfter: number): Promise<string | undefined> => {
      const { body } = await (agents[agent] as Client).post<{ approval?: { id: string } }>('/v1/decide', { tool: call.tool, args: call.args });
      const id = body.approval?.id;
      if (!id || !call.answer) return id;
      offset += answerAfter;
      await admin.post(`/v1/approvals/${id}/${call.answer}`, { reason: call.answer === 'deny' ? 'not without a ticket' : 'checked' });
      return undefined;
    };
    // Every half hour up to two hours ago (a step may run long: the clock never goes back).
    const steps = (HOURS - 2) * 2;
    for (let step = 0; step < steps; step++) {
      offset = Math.max(offset, -HOURS * 60 * MINUTE + step * 30 * MINUTE);
      if (step % 8 === 0) admin = await personClient(server.url, 'admin', PASSWORD);
      // Busier in the working hours of the day played, and a burst now and then.
      const rounds = (step % 48 > 16 && step % 48 < 36 ? 2 : 1) + (step % 11 === 5 ? 2 : 0);
      for (let round = 0; round < rounds; round++) {
        for (const [agent, calls] of Object.entries(TRAFFIC)) {
          offset += MINUTE;
          await decide(agent, calls[(step + round) % calls.length] as Call, ((step * 7 + round * 3) % 9) * MINUTE + 40_000);
        }
      }
    }
    offset = -25 * MINUTE;
    admin = await personClient(server.url, 'admin', PASSWORD);
    const pause = await admin.post('/v1/pauses', { scope: 'agent', target: 'workflow-bot-1', reason: 'bulk deletes under review (INC-42)' });
    if (pause.status !== 201) throw new Error(`pause failed: HTTP ${pause.status}`);
    await decide('workflow-bot-1', TRAFFIC['workflow-bot-1']?.[0] as Call, 0);
    // Two approvals still waiting at the end, within their first tier: the overview, inbox and approval page show them.
    let pending: string | undefined;
    for (const [minutes, account] of [
      [-6, 'A-31'],
      [-2, 'A-32'],
    ] as const) {
      offset = minutes * MINUTE;
      pending ??= await decide('support-bot-1', { tool: 'issue_refund', args: { account_id: account, amount: 80, currency: 'USD' } }, 0);
    }
    // People besides the admin, and a personal token: the management screens have something to list.
    for (const person of [
      { username: 'alex', password: 'an approver password 1234', role: 'approver', groups: ['support-leads', 'support-managers'] },
      { username: 'fran', password: 'a finance password 1234', role: 'approver', groups: ['finance-approvers'] },
      { username: 'vera', password: 'a viewer password 1234', role: 'viewer', groups: [] },
    ]) {
      const created = await admin.post('/v1/users', person);
      if (created.status !== 201) throw new Error(`creating ${person.username} failed: HTTP ${created.status}`);
    }
    const token = await admin.post('/v1/tokens', { name: 'airlock CLI on laptop', expiresInDays: 90 });
    if (token.status !== 201) throw new Error(`creating a token failed: HTTP ${token.status}`);
    // A restart replays the day into the anomaly baselines, as a server that has been running would have them.
    offset = 0;
    await server.close();
    server = await startServer(options);
    admin = await personClient(server.url, 'admin', PASSWORD);

    const page = browser.page;
    page.setDefaultTimeout(20_000);
    await signInWithPassword(page, server.url, 'admin', PASSWORD);

    await shoot(page, 'overview', `${server.url}/`, async () => {
      await page.getByTestId('tile-decisions').waitFor();
      await page.getByTestId('attention-pause-link').first().waitFor();
    });
    await shoot(page, 'feed', `${server.url}/feed`, () => page.getByTestId('feed-table').waitFor());
    await shoot(page, 'feed-blocked', `${server.url}/feed?effect=block`, () => page.getByTestId('feed-table').waitFor());
    await shoot(page, 'approvals', `${server.url}/approvals`, () => page.getByRole('heading', { name: 'Approvals inbox' }).waitFor());
    if (pending) await shoot(page, 'approval', `${server.url}/approvals/${pending}`, () => page.getByTestId('approval-status').waitFor());
    await shoot(page, 'fleet', `${server.url}/fleet`, () => page.getByTestId('fleet-table').waitFor());
    await shoot(page, 'agent', `${server.url}/fleet/support-bot-1`, () => page.getByRole('heading', { name: 'support-bot-1' }).waitFor());
    await shoot(page, 'policies', `${server.url}/policies`, () => page.getByRole('heading', { name: 'Policies', exact: true }).waitFor());
    await shoot(page, 'policy-editor', `${server.url}/policies/edit`, () => page.getByTestId('validation').filter({ hasText: 'Valid' }).waitFor());
    // The editor marking a CEL type error at its column, the plain message beside it.
    const active = (await admin.get<{ active: number }>('/v1/policies')).body.active;
    const sources = (await admin.get<{ sources: { file: string; text: string }[] }>(`/v1/policies/${active}`)).body.sources;
    const support = sources.find((source) => source.file === 'customer-support.yaml')?.text ?? '';
    if (!support.includes('when: args.amount <= 50')) throw new Error('the seed refund rule moved: update the editor screenshot');
    await shoot(page, 'policy-editor-problem', `${server.url}/policies/edit`, async () => {
      await page.getByTestId('validation').filter({ hasText: 'Valid' }).waitFor();
      await page.getByLabel('customer-support.yaml source').fill(support.replace('when: args.amount <= 50', 'when: args.amount > "50"'));
      await page.getByTestId('validation').filter({ hasText: '1 problem' }).waitFor();
      await page.getByRole('button', { name: /^customer-support\.yaml:\d+:\d+$/ }).click();
      await page.locator('.cm-activeLine .cm-lintRange-error').waitFor();
    });
    await shoot(page, 'agents', `${server.url}/agents`, async () => {
      const row = page.locator('[data-testid="agents-table"] tr[data-agent="support-bot-1"]');
      await row.getByRole('button', { name: 'Keys' }).click();
      await page.getByTestId('agent-keys').locator('tr[data-key]').first().waitFor();
    });
    await shoot(page, 'users', `${server.url}/users`, () => page.locator('[data-testid="users-table"] tr[data-user="vera"]').waitFor());
    await shoot(page, 'tokens', `${server.url}/tokens`, () => page.getByTestId('tokens-table').waitFor());
    await shoot(page, 'audit', `${server.url}/audit`, () => page.getByTestId('chain-status').filter({ hasText: 'Chain intact' }).waitFor());
  } finally {
    await browser.close();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function shoot(page: Page, name: string, url: string, ready: () => Promise<unknown>): Promise<void> {
  await page.goto(url);
  await ready().catch(async (error: unknown) => {
    await page.screenshot({ path: join(tmpdir(), `airlock-screenshot-failed-${name}.png`) });
    throw error;
  });
  // Charts draw after their data arrives (the live stream keeps the network busy): let the page settle.
  await page.waitForTimeout(600);
  await page.mouse.move(0, 0);
  const path = join(OUT, `${name}.png`);
  await page.screenshot({ path });
  console.log(`${path} (${Math.round(statSync(path).size / 1024)} KiB)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
