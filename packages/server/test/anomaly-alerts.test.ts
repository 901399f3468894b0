import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookSignature, type AnomalyAlert } from '../src/index.js';
import type { Person } from './support/http.js';
import { eventually } from './support/people.js';
import { httpReceiver, type Inbox, type ReceivedRequest } from './support/receivers.js';
import { startTestServer, type TestServer } from './support/server.js';

const SECRET = 'whsec-anomaly-0123456789';
const BUCKET = 5 * 60_000;

/**
 * Anomaly alerts end to end: decisions through the API build each agent's baseline bucket by
 * bucket on the test clock; a burst of blocked exports by the support bot is flagged, audited,
 * listed and sent to a real webhook receiver, signed; steady traffic raises nothing.
 */
describe('anomaly alerts', () => {
  let t: TestServer;
  let admin: Person;
  let receiver: { url: string; inbox: Inbox<ReceivedRequest>; close: () => Promise<void> };

  beforeAll(async () => {
    receiver = await httpReceiver();
    t = await startTestServer({ notifications: { channels: [{ name: 'hook', kind: 'webhook', url: receiver.url, secret: SECRET }] } });
    admin = await t.admin();
    // Start 2 s into a bucket, so each step below fills exactly one, and each move of the clock
    // passes the check of the bucket just filled (it runs 1 s after the bucket closes).
    await t.clock.advance(BUCKET - (t.clock.now() % BUCKET) + 2_000);
  });
  afterAll(async () => {
    await t.dispose();
    await receiver.close();
  });

  const support = () => t.agent('support-bot-1');
  const finance = () => t.agent('finance-bot-1');

  /** One bucket of ordinary work for two agents, then the clock moves past the bucket's check. */
  async function steadyBucket(i: number): Promise<void> {
    for (let n = 0; n < 3 + (i % 3); n++) await support().post('/v1/decide', { tool: 'get_account', args: { account_id: `A-${i}-${n}` } });
    await support().post('/v1/decide', { tool: 'issue_refund', args: { account_id: `R-${i}`, amount: 10 + i, currency: 'USD' } });
    await finance().post('/v1/decide', { tool: 'get_balance', args: { account_id: `F-${i}` } });
    await t.clock.advance(BUCKET);
  }

  it('raises nothing over two hours of steady traffic', async () => {
    for (let i = 0; i < 24; i++) await steadyBucket(i);
    const { body } = await admin.get<{ alerts: AnomalyAlert[] }>('/v1/anomalies');
    expect(body.alerts).toEqual([]);
    expect(receiver.inbox.all.filter((r) => r.headers['x-airlock-event'] === 'anomaly.flagged')).toEqual([]);
  });

  it('flags a support bot suddenly attempting exports: audited, listed, and sent to the webhook signed', async () => {
    for (let n = 0; n < 12; n++) await support().post('/v1/decide', { tool: 'export_customers', args: {} });
    await finance().post('/v1/decide', { tool: 'get_balance', args: { account_id: 'F-x' } });
    await t.clock.advance(BUCKET);

    const { body } = await admin.get<{ alerts: AnomalyAlert[] }>('/v1/anomalies');
    expect(body.alerts).toHaveLength(1);
    const [alert] = body.alerts;
    expect(alert?.agent).toBe('support-bot-1');
    expect(alert?.anomalies.map((a) => `${a.code}/${a.tool}/${a.metric}/${a.count}`).sort()).toEqual([
      'new_tool/export_customers/calls/12',
      'rate_spike/export_customers/blocks/12',
    ]);

    const audit = await admin.get<{ records: { type: string; agent: string; data: AnomalyAlert }[] }>('/v1/audit?type=anomaly.flagged');
    expect(audit.body.records.map((r) => [r.agent, r.data.id])).toEqual([['support-bot-1', alert?.id]]);

    const delivered = await eventually(async () => {
      const found = receiver.inbox.all.find((r) => r.headers['x-airlock-event'] === 'anomaly.flagged');
      if (!found) throw new Error('not yet');
      return found;
    });
    const timestamp = String(delivered.headers['x-airlock-timestamp']);
    expect(delivered.headers['x-airlock-signature']).toBe(webhookSignature(SECRET, timestamp, delivered.body));
    expect(JSON.parse(delivered.body)).toMatchObject({ event: 'anomaly.flagged', alert: { id: alert?.id, agent: 'support-bot-1' } });
  });

  it('does not alert the same ongoing spike again within the hour, and lists alerts per agent for viewers only', async () => {
    for (let n = 0; n < 12; n++) await support().post('/v1/decide', { tool: 'export_customers', args: {} });
    await t.clock.advance(BUCKET);
    expect((await admin.get<{ alerts: AnomalyAlert[] }>('/v1/anomalies')).body.alerts).toHaveLength(1);
    expect((await admin.get<{ alerts: AnomalyAlert[] }>('/v1/anomalies?agent=finance-bot-1')).body.alerts).toEqual([]);
    expect((await support().get('/v1/anomalies')).status).toBe(403);
  });

  it('rebuilds the baselines from the audit trail after a restart', async () => {
    await t.restart();
    admin = await t.admin();
    for (let i = 0; i < 2; i++) await steadyBucket(100 + i);
    // The finance bot's usual single balance read: a burst of 40 stands out against the replayed baseline.
    for (let n = 0; n < 40; n++) await finance().post('/v1/decide', { tool: 'get_balance', args: { account_id: `B-${n}` } });
    await t.clock.advance(BUCKET);
    const { body } = await admin.get<{ alerts: AnomalyAlert[] }>('/v1/anomalies?agent=finance-bot-1');
    expect(body.alerts.map((a) => a.anomalies.map((x) => `${x.code}/${x.tool}/${x.metric}`))).toEqual([['rate_spike/get_balance/calls']]);
  });
});
