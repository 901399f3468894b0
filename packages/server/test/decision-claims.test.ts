import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

interface DecisionBody {
  id: string;
  effect: string;
  rule: string | null;
  replay?: boolean;
  replayOf?: string;
  ranAt?: string | null;
  claim?: { id: string; at: string };
  repeatOf?: string;
  approval?: { id: string; status: string };
  error?: { code: string; message: string; decisionId?: string; firstRunAt?: string };
}

interface AuditBody {
  records: { type: string; agent: string | null; tool: string | null; effect: string | null; data: Record<string, unknown> }[];
}

const refund = (account_id: string, amount: number) => ({ tool: 'issue_refund', args: { account_id, amount, currency: 'USD' } });

/** One decision, one run (issue 23): claims of decisions stored under an Idempotency-Key. */
describe('a decision authorizes one run', () => {
  let t: TestServer;
  let support: Caller;
  beforeAll(async () => {
    t = await startTestServer();
    support = t.agent('support-bot-1');
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const decide = (call: ReturnType<typeof refund>, key: string, extra: Record<string, string> = {}) => support.post<DecisionBody>('/v1/decide', call, { 'idempotency-key': key, ...extra });
  const audit = async (type: string) => (await (await t.admin()).get<AuditBody>(`/v1/audit?type=${type}&agent=support-bot-1`)).body.records;

  it('a replay says it is one and names the decision it replays; ranAt tells whether its call ran', async () => {
    const first = await decide(refund('REPLAY-1', 20), 'replay-1');
    expect(first.body).toMatchObject({ effect: 'allow' });
    expect(first.body.replay).toBeUndefined();
    const again = await decide(refund('REPLAY-1', 20), 'replay-1');
    expect(again.body).toMatchObject({ id: first.body.id, replay: true, replayOf: first.body.id, ranAt: null });
    const claimed = await decide(refund('REPLAY-1', 20), 'replay-1', { 'airlock-claim': 'clm_r1' });
    expect(claimed.status).toBe(200);
    expect(claimed.body).toMatchObject({ replay: true, replayOf: first.body.id, claim: { id: 'clm_r1' } });
    expect((await decide(refund('REPLAY-1', 20), 'replay-1')).body.ranAt).toBe(claimed.body.claim?.at);
    // The claim of a stored decision is audited as the start of its call.
    expect((await audit('call.started')).find((r) => r.data.decision === first.body.id)).toMatchObject({ tool: 'issue_refund', data: { claim: 'clm_r1', idempotencyKey: 'replay-1' } });
  });

  it('a second claim of the same decision is refused already_ran with the first run, audited and counted', async () => {
    const first = await decide(refund('CLAIM-1', 20), 'claim-1', { 'airlock-claim': 'clm_a' });
    expect(first.body).toMatchObject({ effect: 'allow', claim: { id: 'clm_a' } });
    const second = await decide(refund('CLAIM-1', 20), 'claim-1', { 'airlock-claim': 'clm_b' });
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: 'already_ran', decisionId: first.body.id, firstRunAt: first.body.claim?.at });
    const refused = (await audit('call.refused')).filter((r) => r.data.decision === first.body.id);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ tool: 'issue_refund', effect: 'block', data: { code: 'already_ran', claim: 'clm_b', request: { args: { account_id: 'CLAIM-1' } } } });
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/airlock_runs_refused_total\{agent="support-bot-1"\} [1-9]/);
  });

  it('the same attempt asking again (a lost answer retried) gets the same answer, and nothing new is audited', async () => {
    const first = await decide(refund('LOST-1', 20), 'lost-1', { 'airlock-claim': 'clm_lost' });
    const retried = await decide(refund('LOST-1', 20), 'lost-1', { 'airlock-claim': 'clm_lost' });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ id: first.body.id, replay: true, claim: { id: 'clm_lost', at: first.body.claim?.at } });
    expect((await audit('call.refused')).filter((r) => r.data.decision === first.body.id)).toEqual([]);
  });

  it('of 100 concurrent claims of one stored allow, exactly one may run', async () => {
    const stored = await decide(refund('RACE-1', 20), 'race-1');
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => decide(refund('RACE-1', 20), 'race-1', { 'airlock-claim': `clm_race_${i}` })));
    expect(replies.filter((r) => r.status === 200)).toHaveLength(1);
    expect(replies.filter((r) => r.status === 409 && r.body.error?.code === 'already_ran')).toHaveLength(99);
    expect((await audit('call.started')).filter((r) => r.data.decision === stored.body.id)).toHaveLength(1);
  });

  it('the budget bypass: replaying one key spends at most the budget', async () => {
    // An agent run again and again whose framework calls its refund `call_0` each time.
    const runs = [];
    for (let i = 0; i < 8; i++) runs.push(await decide(refund('BYPASS-1', 20), 'langchain:call_0', { 'airlock-claim': `clm_run_${i}` }));
    expect(runs.map((r) => r.status)).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
    // Decided afresh instead: each run is a new decision, audited and counted; the sixth $20 needs approval.
    const fresh = [];
    for (let i = 0; i < 6; i++) fresh.push(await decide(refund('BYPASS-2', 20), 'ai:call_0', { 'airlock-claim': `clm_new_${i}`, 'airlock-repeat': 'decide' }));
    expect(fresh.map((r) => r.body.effect)).toEqual(['allow', 'allow', 'allow', 'allow', 'allow', 'require_approval']);
    expect(new Set(fresh.map((r) => r.body.id)).size).toBe(6);
    expect(fresh[1]?.body).toMatchObject({ repeatOf: fresh[0]?.body.id, claim: { id: 'clm_new_1' } });
    expect(fresh[1]?.body.replay).toBeUndefined();
    // The key names the newest decision, which has not run (its approval is pending): a seventh
    // attempt (or the framework's approval flow) finds that approval; nothing is decided again.
    const seventh = await decide(refund('BYPASS-2', 20), 'ai:call_0', { 'airlock-claim': 'clm_new_6', 'airlock-repeat': 'decide' });
    expect(seventh.body).toMatchObject({ id: fresh[5]?.body.id, replay: true, approval: { status: 'pending' } });
    const decisions = (await audit('decision')).filter((r) => (r.data.request as { args: { account_id: string } }).args.account_id === 'BYPASS-2');
    expect(decisions).toHaveLength(6);
  });

  it('a decision not yet run is answered, not decided again, even with Airlock-Repeat: decide', async () => {
    const first = await decide(refund('REPEAT-1', 20), 'repeat-1', { 'airlock-repeat': 'decide' });
    const again = await decide(refund('REPEAT-1', 20), 'repeat-1', { 'airlock-repeat': 'decide', 'airlock-claim': 'clm_x' });
    expect(again.body).toMatchObject({ id: first.body.id, replay: true, claim: { id: 'clm_x' } });
  });

  it('an approved call ran once: a second claim is refused, a repeated id is decided afresh with a new approval', async () => {
    const call = refund('APPROVED-1', 75);
    const asked = await decide(call, 'approved-1', { 'airlock-claim': 'clm_ask' });
    expect(asked.body).toMatchObject({ effect: 'require_approval', approval: { status: 'pending' } });
    expect(asked.body.claim).toBeUndefined();
    const id = asked.body.approval?.id as string;
    expect((await (await t.admin()).post(`/v1/approvals/${id}/approve`, { reason: 'ok' })).status).toBe(200);
    // Resuming: the same key finds the approval, approved; redeeming it is the claim.
    expect((await decide(call, 'approved-1', { 'airlock-claim': 'clm_resume' })).body).toMatchObject({ approval: { id, status: 'approved' }, ranAt: null });
    expect((await support.post(`/v1/approvals/${id}/redeem`, call)).status).toBe(200);
    const again = await decide(call, 'approved-1', { 'airlock-claim': 'clm_again' });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'already_ran', decisionId: asked.body.id });
    const repeated = await decide(call, 'approved-1', { 'airlock-claim': 'clm_repeat', 'airlock-repeat': 'decide' });
    expect(repeated.body).toMatchObject({ effect: 'require_approval', repeatOf: asked.body.id, approval: { status: 'pending' } });
    expect(repeated.body.approval?.id).not.toBe(id);
  });

  it('a repeated id for another call is decided afresh with Airlock-Repeat: decide, and refused as a reused key without', async () => {
    const first = await decide(refund('OTHER-1', 20), 'call_7', { 'airlock-claim': 'clm_o1' });
    const other = await decide(refund('OTHER-2', 30), 'call_7', { 'airlock-claim': 'clm_o2', 'airlock-repeat': 'decide' });
    expect(other.body).toMatchObject({ effect: 'allow', repeatOf: first.body.id, claim: { id: 'clm_o2' } });
    const reused = await decide(refund('OTHER-3', 40), 'call_7', { 'airlock-claim': 'clm_o3' });
    expect(reused).toMatchObject({ status: 422, body: { error: { code: 'idempotency_key_reused' } } });
  });

  it('without a key a claim changes nothing: every call is its own decision', async () => {
    const a = await support.post<DecisionBody>('/v1/decide', refund('NOKEY-1', 20), { 'airlock-claim': 'clm_same' });
    const b = await support.post<DecisionBody>('/v1/decide', refund('NOKEY-1', 20), { 'airlock-claim': 'clm_same' });
    expect(a.body.id).not.toBe(b.body.id);
    expect([a.status, b.status]).toEqual([200, 200]);
  });
});
