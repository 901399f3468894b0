import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller, DecisionBody } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

interface OutcomesBody {
  recorded: number;
  outcomes: { decisionId: string; recorded: boolean; error?: { code: string } }[];
}
interface AuditBody {
  records: { seq: number; type: string; agent: string | null; tool: string | null; rule: string | null; data: Record<string, unknown> }[];
}

const DIGEST = 'a'.repeat(64);
const refund = (account_id: string, amount: number) => ({ tool: 'issue_refund', args: { account_id, amount, currency: 'USD' } });

/** Execution outcomes (issue 21 item 1): POST /v1/outcomes and the records it chains. */
describe('execution outcomes', () => {
  let t: TestServer;
  let support: Caller;
  beforeAll(async () => {
    t = await startTestServer();
    support = t.agent('support-bot-1');
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const decide = async (call: ReturnType<typeof refund>, as: Caller = support) => (await as.post<DecisionBody>('/v1/decide', call)).body;
  const report = (outcomes: Record<string, unknown>[], as: Caller = support) => as.post<OutcomesBody>('/v1/outcomes', { outcomes });
  const succeeded = (decision: DecisionBody, extra: Record<string, unknown> = {}) => ({
    decisionId: decision.id,
    decidedAt: decision.at,
    status: 'succeeded',
    at: Date.parse(decision.at) + 5,
    durationMs: 210,
    result: { digest: DIGEST, size: 17 },
    ...extra,
  });
  const audit = async (query: string) => (await (await t.admin()).get<AuditBody>(`/v1/audit?${query}`)).body.records;

  it('records call.executed and call.failed linked to the decision, in the verified chain', async () => {
    const ok = await decide(refund('OUT-1', 20));
    const bad = await decide(refund('OUT-2', 20));
    const answer = await report([
      succeeded(ok),
      { decisionId: bad.id, decidedAt: bad.at, status: 'failed', at: Date.parse(bad.at) + 3, durationMs: 3, error: { class: 'TypeError', message: 'card declined' } },
    ]);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ recorded: 2, outcomes: [{ decisionId: ok.id, recorded: true }, { decisionId: bad.id, recorded: true }] });
    const executed = (await audit('type=call.executed')).find((r) => r.data.decision === ok.id);
    expect(executed).toMatchObject({ agent: 'support-bot-1', tool: 'issue_refund', rule: 'refund-small', data: { status: 'succeeded', durationMs: 210, result: { digest: DIGEST, size: 17 }, approval: null } });
    expect(executed?.data.result).not.toHaveProperty('content');
    const failed = (await audit('type=call.failed')).find((r) => r.data.decision === bad.id);
    expect(failed).toMatchObject({ tool: 'issue_refund', data: { status: 'failed', error: { class: 'TypeError', message: 'card declined' } } });
    const admin = await t.admin();
    expect((await admin.get<{ ok: boolean }>('/v1/audit/verify')).body.ok).toBe(true);
    expect((await admin.get(`/v1/outcomes/${ok.id}`)).body).toMatchObject({ decisionId: ok.id, status: 'succeeded', durationMs: 210, result: { digest: DIGEST, size: 17 } });
  });

  it('refuses an unknown decision, another agent\'s, a blocked one, and a wrong decision time', async () => {
    const mine = await decide(refund('OUT-3', 20));
    const blocked = await decide(refund('OUT-4', 900));
    expect(blocked.effect).toBe('block');
    const answer = await report([
      succeeded({ id: 'dec_nothing', at: mine.at, effect: 'allow' }),
      succeeded(blocked),
      succeeded({ ...mine, at: new Date(Date.parse(mine.at) - 1).toISOString() }),
    ]);
    expect(answer.body.outcomes.map((o) => o.error?.code)).toEqual(['unknown_decision', 'decision_not_runnable', 'unknown_decision']);
    const other = await report([succeeded(mine)], t.agent('devops-bot-1'));
    expect(other.body.outcomes[0]?.error?.code).toBe('decision_of_another_agent');
    // Refusals leave the decision free for its own agent's report.
    expect((await report([succeeded(mine)])).body.recorded).toBe(1);
  });

  it('publishes recorded outcomes and repeated reports on /v1/events, with their agent', async () => {
    const decision = await decide(refund('OUT-LIVE', 20));
    const controller = new AbortController();
    const response = await fetch(`${t.url}/v1/events`, { headers: { cookie: (await t.admin()).cookie }, signal: controller.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    expect((await report([succeeded(decision)])).body.recorded).toBe(1);
    expect((await report([succeeded(decision)])).body.recorded).toBe(0);
    const decoder = new TextDecoder();
    let text = '';
    const outcomeEvent = /event: outcome\ndata: (.*)\n/g;
    while ((text.match(outcomeEvent) ?? []).length < 2) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    controller.abort();
    const events = [...text.matchAll(outcomeEvent)].map((match) => JSON.parse(match[1] as string) as unknown);
    // The outcome recorded, then the second report, refused: it counts as reported twice.
    expect(events).toEqual([
      { agent: 'support-bot-1', decisions: [decision.id] },
      { agent: 'support-bot-1', decisions: [decision.id] },
    ]);
  });

  it('started then finished is one outcome; a second finish is refused and counted as reported twice', async () => {
    const decision = await decide(refund('OUT-5', 20));
    expect((await report([{ decisionId: decision.id, decidedAt: decision.at, status: 'started', at: Date.parse(decision.at) }])).body.recorded).toBe(1);
    expect((await report([succeeded(decision)])).body.recorded).toBe(1);
    const again = await report([succeeded(decision)]);
    expect(again.body.outcomes[0]?.error?.code).toBe('outcome_already_reported');
    const orphans = (await (await t.admin()).get<{ reportedTwice: { decisionId: string; duplicates: number }[] }>('/v1/outcomes/orphans')).body;
    expect(orphans.reportedTwice.find((o) => o.decisionId === decision.id)?.duplicates).toBe(1);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/airlock_outcomes_refused_total\{agent="support-bot-1",code="outcome_already_reported"\} [1-9]/);
    expect(metrics).toMatch(/airlock_outcome_orphans\{kind="reported_twice"\} [1-9]/);
  });

  it('of 100 concurrent reports of one decision exactly one is recorded', async () => {
    const decision = await decide(refund('OUT-6', 20));
    const replies = await Promise.all(Array.from({ length: 100 }, () => report([succeeded(decision)])));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect(replies.filter((r) => r.body.recorded === 1)).toHaveLength(1);
    expect(replies.filter((r) => r.body.outcomes[0]?.error?.code === 'outcome_already_reported')).toHaveLength(99);
    expect((await audit('type=call.executed&agent=support-bot-1')).filter((r) => r.data.decision === decision.id)).toHaveLength(1);
    expect((await (await t.admin()).get(`/v1/outcomes/${decision.id}`)).body).toMatchObject({ duplicates: 99 });
  });

  it('100 concurrent reports of distinct decisions are all recorded, chained, with decisions in between', async () => {
    const decisions = await Promise.all(Array.from({ length: 100 }, (_, i) => decide(refund(`OUT-MANY-${i}`, 1))));
    const replies = await Promise.all([...decisions.map((d) => report([succeeded(d)])), ...Array.from({ length: 20 }, (_, i) => decide(refund(`OUT-MID-${i}`, 1)))]);
    expect(replies.slice(0, 100).every((r) => 'body' in r && (r.body as OutcomesBody).recorded === 1)).toBe(true);
    expect((await (await t.admin()).get<{ ok: boolean }>('/v1/audit/verify')).body.ok).toBe(true);
  });

  it('an approved call links its outcome to the approval; a redeemed approval never reported is an orphan', async () => {
    const admin = await t.admin();
    const ask = async (account: string) => {
      const decision = await decide(refund(account, 75));
      expect(decision.effect).toBe('require_approval');
      const approvalId = decision.approval?.id as string;
      // Not redeemed yet: nothing ran.
      expect((await report([succeeded(decision)])).body.outcomes[0]?.error?.code).toBe('decision_not_runnable');
      await admin.post(`/v1/approvals/${approvalId}/approve`, { reason: 'ok' });
      await support.post(`/v1/approvals/${approvalId}/redeem`, refund(account, 75));
      return { decision, approvalId };
    };
    const ran = await ask('OUT-APR-1');
    const lost = await ask('OUT-APR-2');
    expect((await report([succeeded(ran.decision)])).body.recorded).toBe(1);
    expect((await admin.get(`/v1/outcomes/${ran.approvalId}?approval=1`)).body).toMatchObject({ decisionId: ran.decision.id, approvalId: ran.approvalId, status: 'succeeded' });
    expect((await admin.get(`/v1/approvals/${ran.approvalId}/outcome`)).body).toMatchObject({ outcome: { decisionId: ran.decision.id, approvalId: ran.approvalId, status: 'succeeded' } });
    expect((await audit('type=call.executed')).find((r) => r.data.decision === ran.decision.id)?.data.approval).toBe(ran.approvalId);
    await t.clock.advance(10 * 60_000);
    const orphans = (await admin.get<{ redeemedUnreported: { approvalId: string }[]; allowedUnreported: { decisionId: string }[] }>('/v1/outcomes/orphans')).body;
    expect(orphans.redeemedUnreported.map((o) => o.approvalId)).toContain(lost.approvalId);
    expect(orphans.redeemedUnreported.map((o) => o.approvalId)).not.toContain(ran.approvalId);
    const unreported = await decide(refund('OUT-NEVER', 1));
    await t.clock.advance(10 * 60_000);
    const later = (await admin.get<{ allowedUnreported: { decisionId: string }[] }>('/v1/outcomes/orphans?agent=support-bot-1')).body;
    expect(later.allowedUnreported.map((o) => o.decisionId)).toContain(unreported.id);
  });

  it('failure rates per tool', async () => {
    const rates = (await (await t.admin()).get<{ rates: { tool: string; failed: number; succeeded: number; rate: number }[] }>('/v1/outcomes/failure-rates?window=86400')).body.rates;
    const refunds = rates.find((r) => r.tool === 'issue_refund');
    expect(refunds?.failed).toBeGreaterThanOrEqual(1);
    expect(refunds?.rate).toBeCloseTo((refunds?.failed ?? 0) / ((refunds?.failed ?? 0) + (refunds?.succeeded ?? 0)));
  });
});
