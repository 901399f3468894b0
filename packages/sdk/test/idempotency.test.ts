import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { Airlock, AirlockUnavailableError, LocalTransport, RemoteTransport, type LocalOptions } from '../src/index.js';
import { localFixture } from './local-fixture.js';

const refund = (account_id: string, amount: number) => ({ tool: 'issue_refund', args: { account_id, amount, currency: 'USD' } });

function local(): { transport: LocalTransport; airlock: Airlock; fixture: ReturnType<typeof localFixture> } {
  const fixture = localFixture();
  const options: LocalOptions = { policy: fixture.policy, agent: 'support-bot-1', role: 'support', audit: fixture.audit, watch: false };
  const transport = new LocalTransport(options);
  onTestFinished(() => transport.close());
  return { transport, airlock: new Airlock(options, transport), fixture };
}

describe('deciding a call once by idempotency key (local mode)', () => {
  it('answers a repeated key with the first decision, without auditing or counting the call again', async () => {
    const { transport, fixture } = local();
    const first = await transport.decide(refund('A-1', 30), { idempotencyKey: 'k1' });
    const again = await transport.decide(refund('A-1', 30), { idempotencyKey: 'k1' });
    await transport.decide(refund('A-1', 30), { idempotencyKey: 'k1' });
    expect(again.id).toBe(first.id);
    expect(fixture.decisions()).toEqual(['issue_refund allow']);
    expect(fixture.records()[0]).toMatchObject({ idempotencyKey: 'k1' });
    // The $100 budget of A-1 counted $30 once: $50 more is still within it.
    expect(await transport.decide(refund('A-1', 50))).toMatchObject({ effect: 'allow' });
  });

  it('concurrent asks with one key make one decision', async () => {
    const { transport, fixture } = local();
    const [a, b] = await Promise.all([transport.decide(refund('A-1', 75), { idempotencyKey: 'k1' }), transport.decide(refund('A-1', 75), { idempotencyKey: 'k1' })]);
    expect(a.approval?.id).toBeDefined();
    expect(b.approval?.id).toBe(a.approval?.id);
    expect(fixture.decisions()).toEqual(['issue_refund require_approval']);
  });

  it("a replayed decision carries its approval's current status", async () => {
    const { transport } = local();
    const first = await transport.decide(refund('A-1', 75), { idempotencyKey: 'k1' });
    transport.resolveApproval(first.approval?.id as string, { approved: true, by: 'lead-1' });
    expect((await transport.decide(refund('A-1', 75), { idempotencyKey: 'k1' })).approval).toMatchObject({ id: first.approval?.id, status: 'approved' });
  });

  it('a key reused for a different call is refused, and the guard fails closed on it', async () => {
    const { transport, airlock } = local();
    await transport.decide(refund('A-1', 20), { idempotencyKey: 'k1' });
    await expect(transport.decide(refund('A-1', 900), { idempotencyKey: 'k1' })).rejects.toBeInstanceOf(AirlockUnavailableError);
    expect(await airlock.check(refund('A-1', 900), { idempotencyKey: 'k1' })).toMatchObject({ outcome: 'refused', refusal: { code: 'airlock_unavailable' } });
  });

  it('a fail-open tool does not run on a reused key either: Airlock answered, it was not unreachable', async () => {
    const { airlock } = local();
    const tool = vi.fn(async () => 'ran');
    await airlock.check(refund('A-1', 20), { idempotencyKey: 'k1' });
    expect(await airlock.execute(await airlock.check(refund('A-1', 900), { idempotencyKey: 'k1', failOpen: true }), tool)).toMatchObject({ code: 'airlock_unavailable' });
    expect(tool).not.toHaveBeenCalled();
  });

  it('forgets a key after 24 hours, as the server does', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    onTestFinished(() => void vi.useRealTimers());
    const { transport } = local();
    await transport.decide(refund('A-1', 20), { idempotencyKey: 'k1' });
    vi.setSystemTime(Date.now() + 24 * 60 * 60_000 + 1);
    expect(await transport.decide(refund('A-1', 900), { idempotencyKey: 'k1' })).toMatchObject({ effect: 'block', rule: 'refund-large' });
  });

  it('keeps the latest 10,000 keys: memory stays bounded however busy the agent', async () => {
    const { transport } = local();
    await transport.decide(refund('A-1', 20), { idempotencyKey: 'oldest' });
    for (let i = 0; i < 10_000; i++) await transport.decide({ tool: 'get_account', args: { account_id: `A-${i}` } }, { idempotencyKey: `k${i}` });
    expect(await transport.decide(refund('A-1', 900), { idempotencyKey: 'oldest' })).toMatchObject({ effect: 'block', rule: 'refund-large' });
    await expect(transport.decide(refund('A-1', 900), { idempotencyKey: 'k9999' })).rejects.toBeInstanceOf(AirlockUnavailableError);
  });

  it('an approved call, once carried out, is refused as approval_used when checked again with its key', async () => {
    const { transport, airlock } = local();
    const pending = await airlock.check(refund('A-1', 75), { approval: 'return', idempotencyKey: 'k1' });
    expect(pending.outcome).toBe('pending');
    transport.resolveApproval(pending.outcome === 'pending' ? pending.pending.approvalId : '', { approved: true, by: 'lead-1' });
    expect(await airlock.check(refund('A-1', 75), { idempotencyKey: 'k1' })).toMatchObject({ outcome: 'run' });
    expect(await airlock.check(refund('A-1', 75), { idempotencyKey: 'k1' })).toMatchObject({ outcome: 'refused', refusal: { code: 'approval_used' } });
  });
});

describe('RemoteTransport', () => {
  it('sends the idempotency key as the Idempotency-Key header, and none without one', async () => {
    const sent: Headers[] = [];
    const decision = { id: 'dec_1', effect: 'allow', rule: 'read-account', reason: 'ok' };
    const fetchStub: typeof fetch = async (_url, init) => {
      sent.push(new Headers(init?.headers));
      return new Response(JSON.stringify(decision), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const transport = new RemoteTransport({ url: 'http://airlock.test', apiKey: 'ak_1', fetch: fetchStub });
    await transport.decide({ tool: 'get_account', args: { account_id: 'A-1' } }, { idempotencyKey: 'openai-agents:call_1' });
    await transport.decide({ tool: 'get_account', args: { account_id: 'A-1' } });
    expect(sent.map((h) => h.get('idempotency-key'))).toEqual(['openai-agents:call_1', null]);
    expect(sent[0]?.get('authorization')).toBe('Bearer ak_1');
  });
});
