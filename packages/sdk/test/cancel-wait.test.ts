import { describe, expect, it, onTestFinished } from 'vitest';
import { Airlock, createAirlock, LocalTransport, type Verdict } from '../src/index.js';
import { localFixture } from './local-fixture.js';
import { startSdkServer } from './support/server.js';

const call = { tool: 'issue_refund', args: { account_id: 'A-9', amount: 75, currency: 'USD' } };

async function pendingId(airlock: Airlock): Promise<string> {
  const verdict = await airlock.check(call, { approval: 'return' });
  if (verdict.outcome !== 'pending') throw new Error(`expected a pending approval, got ${verdict.outcome}`);
  return verdict.pending.approvalId;
}

/** Aborts once the wait has started, and answers what `resume` resolved to. */
async function resumeThenAbort(airlock: Airlock, approvalId: string, options: { failOpen?: boolean } = {}): Promise<Verdict> {
  const controller = new AbortController();
  const resumed = airlock.resume(call, approvalId, { signal: controller.signal, approvalTimeoutMs: 60_000, ...options });
  controller.abort();
  return resumed;
}

describe('a wait for approval stopped by its signal', () => {
  it('local mode: refuses the call as cancelled and leaves the approval unspent', async () => {
    const fixture = localFixture();
    const transport = new LocalTransport({ policy: fixture.policy, agent: 'support-bot-1', role: 'support', audit: false, watch: false });
    const airlock = new Airlock({ policy: fixture.policy, agent: 'support-bot-1', role: 'support' }, transport);
    onTestFinished(() => airlock.close());
    const id = await pendingId(airlock);
    expect(await resumeThenAbort(airlock, id, { failOpen: true })).toMatchObject({ outcome: 'refused', refusal: { code: 'cancelled', approvalId: id } });
    transport.resolveApproval(id, { approved: true, by: 'lead-1' });
    expect(await transport.waitForApproval(id, 0)).toMatchObject({ status: 'approved' });
  });

  it('remote mode: stops the long poll, refuses the call as cancelled, and redeems nothing', async () => {
    const server = await startSdkServer('airlock-sdk-cancel-');
    onTestFinished(() => server.close());
    const key = server.key('support-bot-1');
    const airlock = createAirlock({ url: server.url, apiKey: key });
    const id = await pendingId(airlock);
    expect(await resumeThenAbort(airlock, id, { failOpen: true })).toMatchObject({ outcome: 'refused', refusal: { code: 'cancelled', approvalId: id } });
    const approval = await fetch(`${server.url}/v1/approvals/${id}`, { headers: { authorization: `Bearer ${key}` } });
    expect(await approval.json()).toMatchObject({ status: 'pending' });
  });
});
