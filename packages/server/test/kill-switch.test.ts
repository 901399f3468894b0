import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPolicySources } from '@airlock/core';
import { webhookSignature } from '../src/index.js';
import { startCluster, type Cluster } from './support/cluster.js';
import type { Caller, Person } from './support/http.js';
import { eventually } from './support/people.js';
import { httpReceiver, type Inbox, type ReceivedRequest } from './support/receivers.js';
import { startTestServer, type TestServer } from './support/server.js';

interface Decision {
  id: string;
  at: string;
  effect: string;
  rule: string | null;
  decidedBy: string;
  reason: string;
  error?: { code: string };
  approval?: { id: string };
}

interface Pause {
  id: string;
  scope: string;
  target: string | null;
  kind: string;
  active: boolean;
}

interface AuditRecord {
  type: string;
  at: string;
  agent: string | null;
  data: Record<string, unknown>;
}

/** Every audit record of a type, oldest first, across pages. */
async function records(person: Person, type: string): Promise<AuditRecord[]> {
  const all: AuditRecord[] = [];
  let cursor: string | undefined;
  for (;;) {
    const { body } = await person.get<{ records: AuditRecord[]; nextCursor: string | null }>(`/v1/audit?type=${type}&limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    all.push(...body.records);
    if (!body.nextCursor) return all.reverse();
    cursor = body.nextCursor;
  }
}

describe('kill switch on one instance', () => {
  let t: TestServer;
  let admin: Person;
  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
  });
  afterAll(async () => {
    await t.dispose();
  });

  const CALLS = {
    read: ['support-bot-1', { tool: 'get_account', args: { account_id: 'A-1' } }],
    ticket: ['support-bot-1', { tool: 'create_ticket', args: { account_id: 'A-1', subject: 'x' } }],
    balance: ['finance-bot-1', { tool: 'get_balance', args: { account_id: 'F-1' } }],
  } as const;
  type CallName = keyof typeof CALLS;
  const call = (name: CallName) => t.agent(CALLS[name][0]).post<Decision>('/v1/decide', CALLS[name][1]);

  it.each([
    // [scope, target, paused calls, calls still served]
    ['agent', 'support-bot-1', ['read', 'ticket'], ['balance']],
    ['role', 'support', ['read', 'ticket'], ['balance']],
    ['tool', 'create_ticket', ['ticket'], ['read', 'balance']],
    ['fleet', undefined, ['read', 'ticket', 'balance'], []],
  ] as [string, string | undefined, CallName[], CallName[]][])('pauses by %s, then resumes', async (scope, target, paused, served) => {
    const created = await admin.post<Pause>('/v1/pauses', { scope, ...(target ? { target } : {}), reason: 'incident 42' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ scope, target: target ?? null, kind: 'manual', active: true });
    for (const name of paused) {
      const { body } = await call(name);
      expect(body).toMatchObject({ effect: 'block', rule: null, decidedBy: 'pause', error: { code: 'paused' } });
      expect(body.reason).toContain('incident 42');
    }
    for (const name of served) expect((await call(name)).body.effect).toBe('allow');
    expect((await admin.post<Pause>(`/v1/pauses/${created.body.id}/resume`)).body).toMatchObject({ active: false });
    for (const name of paused) expect((await call(name)).body.effect).toBe('allow');
  });

  it('holds approved calls too, survives a restart, and is for admins only', async () => {
    const support = t.agent('support-bot-1');
    const asked = await support.post<Decision>('/v1/decide', { tool: 'issue_refund', args: { account_id: 'K-1', amount: 60, currency: 'USD' } });
    const id = asked.body.approval?.id as string;
    expect((await admin.post(`/v1/approvals/${id}/approve`, { reason: 'ok' })).status).toBe(200);
    const pause = await admin.post<Pause>('/v1/pauses', { scope: 'agent', target: 'support-bot-1', reason: 'looping' });

    const redeem = () => t.agent('support-bot-1').post<{ error?: { code: string } }>(`/v1/approvals/${id}/redeem`, { tool: 'issue_refund', args: { account_id: 'K-1', amount: 60, currency: 'USD' } });
    expect([(await redeem()).status, (await redeem()).body.error?.code]).toEqual([409, 'paused']);

    await t.restart();
    admin = await t.admin();
    expect((await t.agent('support-bot-1').post<Decision>('/v1/decide', { tool: 'get_account', args: { account_id: 'A-1' } })).body.error?.code).toBe('paused');
    expect((await t.agent('support-bot-1').post('/v1/pauses', { scope: 'fleet', reason: 'x' })).status).toBe(403);
    expect((await admin.get<{ pauses: Pause[] }>('/v1/pauses?active=true')).body.pauses.map((p) => p.id)).toEqual([pause.body.id]);

    await admin.post(`/v1/pauses/${pause.body.id}/resume`);
    expect((await redeem()).status).toBe(200);
    const audit = await records(admin, 'pause.resumed');
    expect(audit.at(-1)).toMatchObject({ type: 'pause.resumed', data: { pause: pause.body.id } });
  });

  it('answers 400 for a scope without its target', async () => {
    expect((await admin.post('/v1/pauses', { scope: 'agent', reason: 'x' })).status).toBe(400);
    expect((await admin.post('/v1/pauses', { scope: 'fleet', target: 'x', reason: 'x' })).status).toBe(400);
  });

  it('ends a timed pause by itself: refused until its end, served from that millisecond, the end audited once', async () => {
    const created = await admin.post<Pause & { endsAt: string }>('/v1/pauses', { scope: 'agent', target: 'support-bot-1', reason: 'cool-down', for: '30m' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const endsAt = Date.parse(created.body.endsAt);
    expect(endsAt - t.clock.now()).toBe(30 * 60_000);
    expect((await call('read')).body.error?.code).toBe('paused');
    await t.clock.advance(endsAt - t.clock.now() - 1);
    expect((await call('read')).body.error?.code).toBe('paused');
    await t.clock.advance(1);
    expect((await call('read')).body.effect).toBe('allow');
    // Within a re-read (every second) the end is recorded, stamped with the end time, by the system.
    const [ended] = await eventually(async () => {
      const found = (await records(admin, 'pause.resumed')).filter((r) => r.data.pause === created.body.id);
      expect(found).toHaveLength(1);
      return found;
    });
    expect(ended).toMatchObject({ at: created.body.endsAt, data: { expired: true } });
    expect((await admin.get<{ pauses: (Pause & { resumedBy: string })[] }>('/v1/pauses')).body.pauses.find((p) => p.id === created.body.id)).toMatchObject({ active: false, resumedBy: 'system' });
  });

  it('pauses a scope anew once its timed pause is over, recorded or not yet', async () => {
    const first = await admin.post<Pause>('/v1/pauses', { scope: 'tool', target: 'create_ticket', reason: 'freeze', until: new Date(t.clock.now() + 60_000).toISOString() });
    expect(first.status).toBe(201);
    await t.clock.advance(60_000);
    const second = await admin.post<Pause>('/v1/pauses', { scope: 'tool', target: 'create_ticket', reason: 'freeze again' });
    expect(second.status).toBe(201);
    expect(second.body.id).not.toBe(first.body.id);
    expect((await call('ticket')).body.error?.code).toBe('paused');
    await admin.post(`/v1/pauses/${second.body.id}/resume`);
  });

  it.each([
    ['a malformed duration', { for: 'soon' }],
    ['both for and until', { for: '1h', until: '2030-01-01T00:00:00Z' }],
    ['an end in the past', { until: '2000-01-01T00:00:00Z' }],
  ])('answers 400 for %s', async (_, timing) => {
    expect((await admin.post('/v1/pauses', { scope: 'fleet', reason: 'x', ...timing })).status).toBe(400);
    expect((await admin.get<{ pauses: Pause[] }>('/v1/pauses?active=true')).body.pauses).toEqual([]);
  });
});

describe('quarantine', () => {
  const SECRET = 'whsec-quarantine-01234567';
  let t: TestServer;
  let admin: Person;
  let receiver: { url: string; inbox: Inbox<ReceivedRequest>; close: () => Promise<void> };

  beforeAll(async () => {
    receiver = await httpReceiver();
    t = await startTestServer({ notifications: { channels: [{ name: 'hook', kind: 'webhook', url: receiver.url, secret: SECRET }] } });
    admin = await t.admin();
    const uploaded = await admin.post<{ version: number }>('/v1/policies', { name: 'hardened', files: readPolicySources('examples/policies-hardened') });
    expect((await admin.post(`/v1/policies/${uploaded.body.version}/activate`)).status).toBe(200);
  });
  afterAll(async () => {
    await t.dispose();
    await receiver.close();
  });

  it('pauses a finance agent after its 10th blocked call within 10 minutes and tells the webhook, signed; a person resumes it', async () => {
    const finance: Caller = t.agent('finance-bot-1');
    const change = () => finance.post<Decision>('/v1/decide', { tool: 'modify_account_permissions', args: { account: 'X' } });
    // Nine blocks, spread over more than 10 minutes: the first ones leave the window.
    for (let i = 0; i < 9; i++) {
      expect((await change()).body.rule).toBe('modify-permissions');
      await t.clock.advance(2 * 60_000);
    }
    expect((await finance.post<Decision>('/v1/decide', { tool: 'get_balance', args: { account_id: 'A' } })).body.effect).toBe('allow');
    // Within the last 10 minutes: 5 of those; five more reach 10.
    for (let i = 0; i < 5; i++) expect((await change()).body.rule).toBe('modify-permissions');
    const quarantined = await eventually(async () => {
      const { body } = await admin.get<{ pauses: Pause[] }>('/v1/pauses?active=true');
      const found = body.pauses.find((p) => p.target === 'finance-bot-1');
      if (!found) throw new Error('not yet');
      return found;
    });
    expect(quarantined).toMatchObject({ scope: 'agent', kind: 'quarantine' });
    const paused = await finance.post<Decision>('/v1/decide', { tool: 'get_balance', args: { account_id: 'A' } });
    expect(paused.body).toMatchObject({ effect: 'block', error: { code: 'paused' } });

    const delivered = await eventually(async () => {
      const found = receiver.inbox.all.find((r) => r.headers['x-airlock-event'] === 'agent.quarantined');
      if (!found) throw new Error('not yet');
      return found;
    });
    expect(delivered.headers['x-airlock-signature']).toBe(webhookSignature(SECRET, String(delivered.headers['x-airlock-timestamp']), delivered.body));
    expect(JSON.parse(delivered.body)).toMatchObject({ event: 'agent.quarantined', quarantine: { agent: 'finance-bot-1', pause: { id: quarantined.id, kind: 'quarantine' } } });
    expect((await records(admin, 'agent.quarantined')).map((r) => r.agent)).toEqual(['finance-bot-1']);

    await admin.post(`/v1/pauses/${quarantined.id}/resume`);
    expect((await finance.post<Decision>('/v1/decide', { tool: 'get_balance', args: { account_id: 'A' } })).body.effect).toBe('allow');

    // Resumed, the agent starts from zero: the blocks (and paused calls) before the resume do not count again.
    await t.clock.advance(1000);
    for (let i = 0; i < 9; i++) expect((await change()).body.rule).toBe('modify-permissions');
    const readable = await finance.post<Decision>('/v1/decide', { tool: 'get_balance', args: { account_id: 'A' } });
    expect(readable.body.effect).toBe('allow');
    expect((await records(admin, 'agent.quarantined')).length).toBe(1);
    // The tenth block since the resume quarantines it again.
    expect((await change()).body.rule).toBe('modify-permissions');
    await eventually(async () => {
      if ((await records(admin, 'agent.quarantined')).length !== 2) throw new Error('not yet');
    });
  });
});

describe('pausing the fleet across two instances during a burst', () => {
  let cluster: Cluster;
  let admin: Person;
  beforeAll(async () => {
    cluster = await startCluster(2);
    admin = await cluster.admin(0);
  });
  afterAll(async () => {
    await cluster.dispose();
  });

  it('issues no allow on any instance after the pause took effect there, and resume restores service', async () => {
    const served: { instance: number; decision: Decision }[] = [];
    let stop = false;
    const burst = async (instance: number, worker: number): Promise<void> => {
      const caller = cluster.agent(instance, 'support-bot-1');
      for (let i = 0; !stop; i++) {
        const { body } = await caller.post<Decision>('/v1/decide', { tool: 'get_account', args: { account_id: `B-${instance}-${worker}-${i}` } });
        served.push({ instance, decision: body });
      }
    };
    const workers = [0, 1].flatMap((instance) => [0, 1, 2, 3].map((worker) => burst(instance, worker)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const pause = await admin.post<Pause>('/v1/pauses', { scope: 'fleet', reason: 'incident drill' });
    expect(pause.status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    stop = true;
    await Promise.all(workers);

    // Each instance records when it applied the pause; both did, within a second.
    const applied = (await records(admin, 'pause.applied')).filter((r) => r.data.pause === pause.body.id);
    expect(new Set(applied.map((r) => r.data.instance)).size).toBe(2);
    const created = (await records(admin, 'pause.created')).find((r) => (r.data as { id: string }).id === pause.body.id) as AuditRecord;
    for (const record of applied) expect(Date.parse(record.at) - Date.parse(created.at)).toBeLessThan(1000);

    // The decisions' own audit records: no allow stamped after the pause took effect fleet-wide.
    const effective = Math.max(...applied.map((r) => Date.parse(r.at)));
    const decisions = await records(admin, 'decision');
    const byId = new Map(decisions.map((r) => [(r.data as { id: string }).id, r]));
    const allowedLate = served.filter(({ decision }) => decision.effect === 'allow' && Date.parse((byId.get(decision.id) as AuditRecord).at) > effective);
    expect(allowedLate).toEqual([]);
    const before = served.filter(({ decision }) => decision.effect === 'allow');
    const blocked = served.filter(({ decision }) => decision.error?.code === 'paused');
    expect(before.length).toBeGreaterThan(0);
    expect(blocked.length).toBeGreaterThan(0);
    expect(new Set(blocked.map((b) => b.instance))).toEqual(new Set([0, 1]));
    expect(served.every(({ decision }) => decision.effect === 'allow' || decision.error?.code === 'paused')).toBe(true);

    // Resume on the other instance: both serve again.
    expect((await (await cluster.admin(1)).post<Pause>(`/v1/pauses/${pause.body.id}/resume`)).body.active).toBe(false);
    for (const instance of [0, 1]) {
      await eventually(async () => {
        const { body } = await cluster.agent(instance, 'support-bot-1').post<Decision>('/v1/decide', { tool: 'get_account', args: { account_id: 'AFTER' } });
        if (body.effect !== 'allow') throw new Error('still paused');
      });
    }
  });
});
