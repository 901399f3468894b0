import { readPolicySources } from '@airlock/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnomalyAlert } from '../src/index.js';
import type { DecisionBody } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

const BUCKET = 5 * 60_000;

/**
 * Failure-rate anomaly alerts end to end (issue 21.2): outcomes reported through the API build
 * each tool's failure baseline bucket by bucket on the test clock; 100 concurrent failure reports
 * on one tool raise exactly one alert with one failure-rate anomaly; a low-volume tool's single
 * failure raises none.
 */
describe('failure-rate anomaly alerts', () => {
  let t: TestServer;
  /** Decided in the steady buckets, reported later: the burst reports them without new decisions (no call spike). */
  const reserve: DecisionBody[] = [];
  const reads: DecisionBody[] = [];

  beforeAll(async () => {
    t = await startTestServer();
    // The support policy quarantines on anomaly alerts: a failure-rate alert must not (it notifies only).
    const files = readPolicySources('examples/policies').map((file) =>
      file.file === 'customer-support.yaml' ? { ...file, text: `${file.text}\nquarantine: { blocks: 1000, within: 10m, onAnomaly: true }\n` } : file,
    );
    const admin = await t.admin();
    const uploaded = await admin.post<{ version: number }>('/v1/policies', { name: 'quarantine-on-anomaly', files });
    expect((await admin.post(`/v1/policies/${uploaded.body.version}/activate`)).status).toBe(200);
    await t.clock.advance(BUCKET - (t.clock.now() % BUCKET) + 2_000);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const support = () => t.agent('support-bot-1');
  const decide = async (tool: string, args: Record<string, unknown>) => {
    const { body } = await support().post<DecisionBody>('/v1/decide', { tool, args });
    expect(body.effect).toBe('allow');
    return body;
  };
  const report = (decision: DecisionBody, status: 'succeeded' | 'failed') =>
    support().post<{ recorded: number }>('/v1/outcomes', {
      outcomes: [{ decisionId: decision.id, decidedAt: decision.at, status, at: Date.parse(decision.at) + 1, durationMs: 3, ...(status === 'failed' ? { error: { class: 'HttpError', message: 'ticket service 503' } } : {}) }],
    });
  const alerts = async () => (await (await t.admin()).get<{ alerts: AnomalyAlert[] }>('/v1/anomalies')).body.alerts;

  it('raises nothing over 14 buckets of ordinary outcomes (a failure now and then)', async () => {
    for (let i = 0; i < 14; i++) {
      for (let n = 0; n < 12; n++) {
        const ticket = await decide('create_ticket', { account_id: `T-${i}-${n}`, subject: 'help' });
        expect((await report(ticket, n === 0 && i % 3 === 0 ? 'failed' : 'succeeded')).body.recorded).toBe(1);
      }
      for (let n = 0; n < 8; n++) reserve.push(await decide('create_ticket', { account_id: `R-${i}-${n}`, subject: 'later' }));
      reads.push(await decide('get_account', { account_id: `G-${i}` }));
      await t.clock.advance(BUCKET);
    }
    expect(await alerts()).toEqual([]);
  });

  it('100 concurrent failure reports on one tool raise exactly one alert; a low-volume tool with 1 failure raises none', async () => {
    const burst = reserve.slice(0, 100);
    const replies = await Promise.all([...burst.map((d) => report(d, 'failed')), report(reads[0] as DecisionBody, 'succeeded'), report(reads[1] as DecisionBody, 'failed')]);
    expect(replies.every((r) => r.status === 200 && r.body.recorded === 1)).toBe(true);
    await t.clock.advance(BUCKET);

    const raised = await alerts();
    expect(raised).toHaveLength(1);
    expect(raised[0]?.anomalies.map((a) => `${a.code}/${a.tool}/${a.metric}/${a.count}/${a.reported}`)).toEqual(['failure_rate/create_ticket/failures/100/100']);
    expect(raised[0]?.summary).toMatch(/^support-bot-1 on create_ticket: 100 of 100 reported calls failed \(100 %\) against \d+ % before$/);
    const audit = await (await t.admin()).get<{ records: unknown[] }>('/v1/audit?type=anomaly.flagged');
    expect(audit.body.records).toHaveLength(1);
    // onAnomaly quarantines on what the agent did, not on a failing tool: the agent still runs.
    expect((await (await t.admin()).get<{ pauses: unknown[] }>('/v1/pauses?active=true')).body.pauses).toEqual([]);
    expect((await (await t.admin()).get<{ records: unknown[] }>('/v1/audit?type=agent.quarantined')).body.records).toEqual([]);
  });

  it('does not alert the same ongoing failures again within the hour', async () => {
    // 12 of 12 failing is flagged by the detector again (the baseline is still low): the cooldown holds it back.
    const rest = reserve.slice(100);
    expect(rest.length).toBeGreaterThanOrEqual(10);
    await Promise.all(rest.map((d) => report(d, 'failed')));
    await t.clock.advance(BUCKET);
    expect(await alerts()).toHaveLength(1);
  });
});
