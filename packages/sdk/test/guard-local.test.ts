import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Airlock, AirlockRefusalError, createAirlock, type ApprovalResolution, type LocalTransport } from '../src/index.js';

const dirs: string[] = [];
const clients: Airlock[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(
  approver?: (id: string) => Promise<ApprovalResolution>,
  watch = false,
  onPolicyError?: (error: Error) => void,
): { airlock: Airlock; audit: string; policies: string } {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-sdk-'));
  dirs.push(dir);
  const policies = join(dir, 'policies');
  cpSync('examples/policies', policies, { recursive: true, filter: (src) => !src.includes('tests') && !src.endsWith('.ts') });
  const audit = join(dir, 'audit.jsonl');
  const airlock = createAirlock({
    policy: policies,
    agent: 'support-bot-1',
    role: 'support',
    audit,
    watch,
    onPolicyError,
    approver: approver ? (request) => approver(request.id) : undefined,
    defaults: { approvalTimeoutMs: 2_000 },
  });
  clients.push(airlock);
  return { airlock, audit, policies };
}

const refundArgs = (amount: number, account = 'A-1') => ({ account_id: account, amount, currency: 'USD' });

describe('guard in local mode', () => {
  it('runs an allowed call and never runs a blocked one; the model gets the reason', async () => {
    const { airlock, audit } = setup();
    const refund = vi.fn(async (args: { account_id: string; amount: number; currency: string }) => `refunded ${args.amount}`);
    const guarded = airlock.guard('issue_refund', refund);
    expect(await guarded(refundArgs(20))).toBe('refunded 20');
    const blocked = await guarded(refundArgs(900));
    expect(blocked).toMatchObject({ airlock: 'blocked', code: 'policy', rule: 'refund-large', reason: 'Refunds over $500 are never automated' });
    expect(refund).toHaveBeenCalledTimes(1);
    const invalid = await guarded({ ...refundArgs(20), amount: '20' as unknown as number });
    expect(invalid).toMatchObject({ airlock: 'blocked', code: 'invalid_arguments' });
    expect(refund).toHaveBeenCalledTimes(1);
    const records = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; decision?: { effect: string } });
    expect(records.filter((r) => r.event === 'decision').map((r) => r.decision?.effect)).toEqual(['allow', 'block', 'block']);
  });

  it('writes the full decision record before an allowed tool runs', async () => {
    const { airlock, audit } = setup();
    let linesWhenToolRan = -1;
    const refund = vi.fn(async (args: { amount: number }) => {
      linesWhenToolRan = readFileSync(audit, 'utf8').trim().split('\n').length;
      return `refunded ${args.amount}`;
    });
    expect(await airlock.guard('issue_refund', refund, { session: () => 'conv-9' })(refundArgs(20))).toBe('refunded 20');
    expect(linesWhenToolRan).toBe(1);
    const [record] = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(record).toMatchObject({
      event: 'decision',
      agent: 'support-bot-1',
      role: 'support',
      environment: 'production',
      call: { tool: 'issue_refund', args: refundArgs(20), session: 'conv-9' },
      decision: { effect: 'allow', rule: 'refund-small', policy: { version: 1 } },
    });
    expect(record?.id).toMatch(/^dec_/);
    expect((record?.decision as { id: string }).id).toBe(record?.id);
    expect(Math.abs((record?.at as number) - Date.now())).toBeLessThan(60_000);
  });

  it("rejects with the tool's own error when an allowed tool throws, synchronously or not", async () => {
    const { airlock } = setup();
    const failure = new Error('payment provider down');
    await expect(airlock.guard('issue_refund', () => { throw failure; })(refundArgs(20))).rejects.toBe(failure);
    await expect(airlock.guard('issue_refund', async () => Promise.reject(failure))(refundArgs(20))).rejects.toBe(failure);
  });

  it('waits for an approval and runs exactly the approved (edited) arguments', async () => {
    const { airlock } = setup(async () => ({ approved: true, by: 'lead-1', args: refundArgs(50) }));
    const refund = vi.fn(async (args: { amount: number }) => `refunded ${args.amount}`);
    const result = await airlock.guard('issue_refund', refund)(refundArgs(75));
    expect(refund).toHaveBeenCalledWith(refundArgs(50));
    expect(result).toEqual({ airlock: 'approved_with_changes', args: refundArgs(50), result: 'refunded 50' });
  });

  it('a denied approval is a refusal with the approver and reason; the function never runs', async () => {
    const { airlock } = setup(async () => ({ approved: false, by: 'lead-1', reason: 'customer already refunded' }));
    const refund = vi.fn();
    const result = await airlock.guard('issue_refund', refund)(refundArgs(75));
    expect(result).toMatchObject({ airlock: 'blocked', code: 'approval_denied' });
    expect((result as { reason: string }).reason).toContain('customer already refunded');
    expect(refund).not.toHaveBeenCalled();
  });

  it('an approval no one answers times out into a block', async () => {
    const { airlock } = setup();
    const refund = vi.fn();
    const result = await airlock.guard('issue_refund', refund, { approvalTimeoutMs: 50 })(refundArgs(75));
    expect(result).toMatchObject({ airlock: 'blocked', code: 'approval_timeout' });
    expect(refund).not.toHaveBeenCalled();
  });

  it('return mode answers at once with a pending approval, and resume runs it once approved', async () => {
    const { airlock } = setup();
    const refund = vi.fn(async (args: { amount: number }) => `refunded ${args.amount}`);
    const pending = await airlock.guard('issue_refund', refund, { approval: 'return' })(refundArgs(75));
    expect(pending).toMatchObject({ airlock: 'approval_pending', tool: 'issue_refund', approvers: ['support-leads'] });
    const approvalId = (pending as { approvalId: string }).approvalId;
    (airlock.transport as LocalTransport).resolveApproval(approvalId, { approved: true, by: 'lead-1' });
    const verdict = await airlock.resume({ tool: 'issue_refund', args: refundArgs(75) }, approvalId);
    expect(await airlock.execute(verdict, refund)).toBe('refunded 75');
    // The approval is spent: a second resume with it cannot run the call again.
    const again = await airlock.resume({ tool: 'issue_refund', args: refundArgs(75) }, approvalId);
    expect(again.outcome).toBe('refused');
    expect(refund).toHaveBeenCalledTimes(1);
  });

  it('an approval cannot be spent on a different call', async () => {
    const { airlock } = setup();
    const pending = await airlock.guard('issue_refund', vi.fn(), { approval: 'return' })(refundArgs(75));
    const approvalId = (pending as { approvalId: string }).approvalId;
    (airlock.transport as LocalTransport).resolveApproval(approvalId, { approved: true, by: 'lead-1' });
    const verdict = await airlock.resume({ tool: 'issue_refund', args: refundArgs(500) }, approvalId);
    expect(verdict).toMatchObject({ outcome: 'refused' });
  });

  it('throws instead of returning a refusal when asked to', async () => {
    const { airlock } = setup();
    await expect(airlock.guard('export_customers', vi.fn(), { onBlock: 'throw' })({})).rejects.toBeInstanceOf(AirlockRefusalError);
  });

  it('reloads the policy when a file changes, and keeps the last good one when an edit is broken', async () => {
    const errors: Error[] = [];
    const { airlock, policies } = setup(undefined, true, (error) => errors.push(error));
    const transport = airlock.transport as LocalTransport;
    const guarded = airlock.guard('issue_refund', async () => 'ran');
    expect(await guarded(refundArgs(40))).toBe('ran');
    const file = join(policies, 'customer-support.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('when: args.amount <= 50', 'when: args.amount <= 30').replace('args.amount > 50 && args.amount <= 500', 'args.amount > 30 && args.amount <= 500'));
    await vi.waitFor(() => expect(transport.policyVersion).toBe(2), { timeout: 3_000 });
    expect(await airlock.check({ tool: 'issue_refund', args: refundArgs(40, 'A-2') }, { approval: 'return' })).toMatchObject({ outcome: 'pending' });
    writeFileSync(file, 'policy: [broken\n');
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 3_000 });
    expect(transport.policyVersion).toBe(2);
    expect(await guarded(refundArgs(20, 'A-3'))).toBe('ran');
  });
});

describe('guard against an unreachable server', () => {
  it('blocks every call with airlock_unavailable and never runs the tool', async () => {
    const airlock = new Airlock({ url: 'http://127.0.0.1:9', apiKey: 'ak_x_y', timeoutMs: 500 });
    clients.push(airlock);
    const tool = vi.fn();
    for (const name of ['get_account', 'issue_refund']) {
      expect(await airlock.guard(name, tool)({ account_id: 'A' })).toMatchObject({ airlock: 'blocked', code: 'airlock_unavailable' });
    }
    expect(tool).not.toHaveBeenCalled();
  });

  it('fails open (for a fail-open tool) when the server cannot answer, never when it refuses', async () => {
    let status = 500;
    const fetchStub: typeof fetch = async () => new Response(JSON.stringify({ error: { code: 'x', message: 'nope' } }), { status, headers: { 'content-type': 'application/json' } });
    const airlock = new Airlock({ url: 'http://airlock.test', apiKey: 'ak_1', fetch: fetchStub });
    const tool = vi.fn(async () => 'ran');
    const call = { tool: 'get_account', args: { account_id: 'A-1' } };
    expect(await airlock.execute(await airlock.check(call, { failOpen: true }), tool)).toBe('ran');
    status = 422;
    expect(await airlock.execute(await airlock.check(call, { failOpen: true }), tool)).toMatchObject({ airlock: 'blocked', code: 'airlock_unavailable' });
    expect(tool).toHaveBeenCalledTimes(1);
  });


  it('a fail-open read-only tool runs, and the call is journaled and reported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-sdk-'));
    dirs.push(dir);
    const journal = join(dir, 'fail-open.jsonl');
    const reported: string[] = [];
    const airlock = new Airlock({ url: 'http://127.0.0.1:9', apiKey: 'ak_x_y', timeoutMs: 500, failOpenJournal: journal, onFailOpen: (call) => reported.push(call.tool) });
    clients.push(airlock);
    expect(await airlock.guard('get_account', async () => 'account', { failOpen: true })({ account_id: 'A' })).toBe('account');
    expect(reported).toEqual(['get_account']);
    expect(JSON.parse(readFileSync(journal, 'utf8').trim())).toMatchObject({ event: 'fail_open', tool: 'get_account' });
  });
});

/** Built in a loop (a recursive builder would overflow first): arrays and objects alternating. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = i % 2 ? { a: value } : [value];
  return value;
}

describe('arguments nested 100,000 levels', () => {
  it('local mode: check and guard answer a block with a code (no RangeError), fail-open or not; the tool never runs', async () => {
    const { airlock } = setup();
    const tool = vi.fn(async () => 'ran');
    for (const args of [{ account_id: 'A', amount: 1, currency: 'USD', x: nested(100_000) }, nested(100_000) as Record<string, unknown>]) {
      for (const failOpen of [false, true]) {
        const verdict = await airlock.check({ tool: 'issue_refund', args }, { failOpen });
        expect(verdict).toMatchObject({ outcome: 'refused', refusal: { airlock: 'blocked', code: 'request_too_large' } });
        expect(await airlock.guard('issue_refund', tool, { failOpen })(args)).toMatchObject({ airlock: 'blocked', code: 'request_too_large' });
      }
    }
    // 100 at once, and an ordinary call still runs afterwards.
    const many = await Promise.all(Array.from({ length: 100 }, () => airlock.guard('issue_refund', tool)({ x: nested(100_000) })));
    expect(many.every((r) => (r as { code?: string }).code === 'request_too_large')).toBe(true);
    expect(tool).not.toHaveBeenCalled();
    expect(await airlock.guard('get_account', tool)({ account_id: 'A-1' })).toBe('ran');
  });

  it('local mode: an open map of a closed schema nested 40 levels is blocked by the engine and audited', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-sdk-'));
    dirs.push(dir);
    const audit = join(dir, 'audit.jsonl');
    const airlock = createAirlock({ policy: 'examples/policies', agent: 'workflow-bot-1', role: 'workflow', audit, watch: false });
    clients.push(airlock);
    const tool = vi.fn();
    expect(await airlock.guard('create_record', tool)({ system: 'crm', object: 'contact', fields: nested(40) })).toMatchObject({ code: 'request_too_large' });
    expect(tool).not.toHaveBeenCalled();
    expect(readFileSync(audit, 'utf8')).toContain('"request_too_large"');
  });

  it('remote mode with failOpen: refused before anything is sent, never run as "Airlock unreachable"', async () => {
    const sent = vi.fn(async () => new Response('{}', { status: 500, headers: { 'content-type': 'application/json' } }));
    const airlock = new Airlock({ url: 'http://airlock.test', apiKey: 'ak_1', fetch: sent as unknown as typeof fetch });
    clients.push(airlock);
    const tool = vi.fn(async () => 'ran');
    expect(await airlock.guard('get_account', tool, { failOpen: true })({ account_id: nested(100_000) })).toMatchObject({ airlock: 'blocked', code: 'request_too_large' });
    expect(tool).not.toHaveBeenCalled();
    expect(sent).not.toHaveBeenCalled();
  });
});
