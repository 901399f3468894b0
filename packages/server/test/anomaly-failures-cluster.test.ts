import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnomalyAlert } from '../src/index.js';
import { startCluster, type Cluster } from './support/cluster.js';
import type { DecisionBody } from './support/http.js';
import { ManualClock } from './support/manual-clock.js';
import { readEvents } from './support/sse.js';

const BUCKET = 5 * 60_000;

/**
 * Failure-rate anomaly alerts on two instances over one PostgreSQL schema and one Redis prefix,
 * on one manual clock (docs/lifecycle.md, anomaly alerts). A tool's failures reported half to
 * each instance add up: 16 of 16 failed is one alert, though each instance received only 8
 * reports (fewer than the 10 a bucket needs to be judged), raised once (not once per instance)
 * and seen from both: `GET /v1/anomalies`, the `anomaly.flagged` audit record, the `anomaly`
 * live event. The hour's cooldown holds across the cluster too: an instance restarted during an
 * outage does not alert it again, and a new outage after the hour is alerted.
 */
describe('failure-rate anomaly alerts on two instances (PostgreSQL + Redis)', () => {
  const clock = new ManualClock();
  let cluster: Cluster;
  /** Decided in the steady buckets, reported later: the bursts report them without new decisions. */
  const reserve: DecisionBody[] = [];

  beforeAll(async () => {
    cluster = await startCluster(2, { clock });
    await clock.advance(BUCKET - (clock.now() % BUCKET) + 2_000);
  }, 120_000);
  afterAll(async () => {
    await cluster?.dispose();
  });

  const support = (instance: number) => cluster.agent(instance, 'support-bot-1');
  const decide = async (instance: number, tool: string, args: Record<string, unknown>) => {
    const { body } = await support(instance).post<DecisionBody>('/v1/decide', { tool, args });
    expect(body.effect).toBe('allow');
    return body;
  };
  const report = (instance: number, decision: DecisionBody, status: 'succeeded' | 'failed') =>
    support(instance).post<{ recorded: number }>('/v1/outcomes', {
      outcomes: [{ decisionId: decision.id, decidedAt: decision.at, status, at: Date.parse(decision.at) + 1, durationMs: 3, ...(status === 'failed' ? { error: { class: 'HttpError', message: 'ticket service 503' } } : {}) }],
    });
  const alerts = async (instance: number) => (await (await cluster.admin(instance)).get<{ alerts: AnomalyAlert[] }>('/v1/anomalies')).body.alerts;
  const flaggedRecords = async (instance: number) => (await (await cluster.admin(instance)).get<{ records: { data: AnomalyAlert }[] }>('/v1/audit?type=anomaly.flagged')).body.records;
  /** Every `anomaly` event of an instance's live stream, read until both instances' marker approvals arrived after them. */
  const anomalyEvents = async (instance: number): Promise<() => Promise<AnomalyAlert[]>> => {
    const admin = await cluster.admin(instance);
    const stream = await fetch(`${cluster.instances[instance]?.url as string}/v1/events`, { headers: { cookie: admin.cookie } });
    expect(stream.status).toBe(200);
    const markers = new Set<string>();
    const received = readEvents(stream, (e) => {
      if (e.event === 'approval') markers.add((e.data as { id: string }).id);
      return markers.size === 2;
    });
    return async () => (await received).filter((e) => e.event === 'anomaly').map((e) => e.data as AnomalyAlert);
  };
  /**
   * Each instance opens an approval after its anomaly check has run: an instance publishes in
   * order and Redis keeps the order of one connection, so a stream that has both approvals has
   * every anomaly event either instance published before them.
   */
  const openMarkers = async () => {
    for (const instance of [0, 1]) {
      const { body } = await support(instance).post<{ effect: string }>('/v1/decide', { tool: 'issue_refund', args: { account_id: `MARK-${instance}-${clock.now()}`, amount: 75, currency: 'USD' } });
      expect(body.effect).toBe('require_approval');
    }
  };

  it('raises nothing over 4 buckets of ordinary outcomes reported to both instances', async () => {
    for (let i = 0; i < 4; i++) {
      for (let n = 0; n < 12; n++) {
        const ticket = await decide(n % 2, 'create_ticket', { account_id: `T-${i}-${n}`, subject: 'help' });
        expect((await report((n + i) % 2, ticket, n === 0 && i % 2 === 0 ? 'failed' : 'succeeded')).body.recorded).toBe(1);
      }
      for (let n = 0; n < 12; n++) reserve.push(await decide(n % 2, 'create_ticket', { account_id: `R-${i}-${n}`, subject: 'later' }));
      await clock.advance(BUCKET);
    }
    expect(await alerts(0)).toEqual([]);
    expect(await alerts(1)).toEqual([]);
  });

  it('16 failures reported 8 to each instance raise one failure-rate alert, seen from both', async () => {
    const streams = await Promise.all([anomalyEvents(0), anomalyEvents(1)]);
    const burst = reserve.splice(0, 16);
    const replies = await Promise.all(burst.map((decision, i) => report(i % 2, decision, 'failed')));
    expect(replies.every((r) => r.status === 200 && r.body.recorded === 1)).toBe(true);
    await clock.advance(BUCKET);
    await openMarkers();

    for (const instance of [0, 1]) {
      const raised = await alerts(instance);
      expect(raised).toHaveLength(1);
      expect(raised[0]?.anomalies.map((a) => `${a.code}/${a.tool}/${a.metric}/${a.count}/${a.reported}`)).toEqual(['failure_rate/create_ticket/failures/16/16']);
      expect(raised[0]?.summary).toMatch(/^support-bot-1 on create_ticket: 16 of 16 reported calls failed \(100 %\) against \d+ % before$/);
      const records = await flaggedRecords(instance);
      expect(records.map((r) => r.data.id)).toEqual([raised[0]?.id]);
    }
    const [first, second] = await Promise.all(streams.map((events) => events()));
    const id = (await alerts(0))[0]?.id;
    expect(first?.map((a) => a.id)).toEqual([id]);
    expect(second?.map((a) => a.id)).toEqual([id]);
  });

  it('does not alert the ongoing failures again within the hour, also from an instance restarted since', async () => {
    // 12 of 12 failing is flagged by the detector again (its baseline is still low): the cooldown
    // holds it back on the instance that saw the first alert, and on the restarted one, which
    // replayed the trail into its baseline but remembers nothing of the alert it did not raise.
    await cluster.restart(1);
    const rest = reserve.splice(0, 12);
    expect(rest).toHaveLength(12);
    await Promise.all(rest.map((decision, i) => report(i % 2, decision, 'failed')));
    await clock.advance(BUCKET);
    expect(await alerts(0)).toHaveLength(1);
    expect(await alerts(1)).toHaveLength(1);
  });

  it('alerts a new outage once the hour has passed', async () => {
    await clock.advance(60 * 60_000);
    const burst = reserve.splice(0, 16);
    expect(burst).toHaveLength(16);
    await Promise.all(burst.map((decision, i) => report(i % 2, decision, 'failed')));
    await clock.advance(BUCKET);
    for (const instance of [0, 1]) {
      const raised = await alerts(instance);
      expect(raised).toHaveLength(2);
      expect(raised[0]?.anomalies.map((a) => `${a.code}/${a.tool}/${a.count}/${a.reported}`)).toEqual(['failure_rate/create_ticket/16/16']);
    }
  });
});
