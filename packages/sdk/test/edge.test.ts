import { readdirSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPolicySources } from '@airlock/core';
import { createAirlock, EdgeTransport, type Airlock, type Refusal } from '../src/index.js';
import type { ServerSession } from './server-session.js';
import { startSdkServer, type SdkServer } from './support/server.js';

/**
 * Edge mode against a real server: stateless allows answered in-process and audited by the
 * server afterwards; limits, approvals and blocks still decided by the server; pauses and policy
 * activations followed over the edge stream; fail closed when the server goes away.
 */

interface AuditRecord {
  type: string;
  tool: string | null;
  effect: string | null;
  data: { id: string; request: { args: Record<string, unknown> }; edge?: { agreed: boolean; verified: boolean }; decision: { effect: string; rule: string | null } };
}

const readAccount = (id: string) => ({ tool: 'get_account', args: { account_id: id } });

/** The seed policies with customer support's account reads behind approval (a stricter version). */
function readsNeedApproval() {
  const files = readPolicySources('examples/policies').map((file) =>
    file.file === 'customer-support.yaml' ? { ...file, text: file.text.replace(/(- id: read-account\n(?:.*\n)*?\s+effect: )allow/, '$1require_approval') } : file,
  );
  expect(files.find((f) => f.file === 'customer-support.yaml')?.text).toMatch(/id: read-account\n(?:.*\n)*?\s+effect: require_approval/);
  return files;
}

/**
 * A TCP relay that can freeze the connections carrying the edge stream: they stay open but pass
 * nothing more, as a half-open connection after a network partition does. New connections work.
 */
async function freezingRelay(targetPort: number): Promise<{ url: string; freezeStreams: () => void; close: () => Promise<void> }> {
  const pairs: { client: Socket; upstream: Socket; stream: boolean }[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair = { client, upstream, stream: false };
    pairs.push(pair);
    client.once('data', (chunk: Buffer) => (pair.stream = chunk.toString('latin1').startsWith('GET /v1/edge/stream')));
    client.pipe(upstream).pipe(client);
    for (const socket of [client, upstream]) socket.on('error', () => socket.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    freezeStreams: () => {
      for (const pair of pairs.filter((p) => p.stream)) {
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        pair.upstream.pause();
      }
    },
    close: async () => {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('SDK edge mode', () => {
  let server: SdkServer;
  let dir: string;
  let admin: ServerSession;
  let key: string;
  let airlock: Airlock;
  let edge: EdgeTransport;

  beforeAll(async () => {
    server = await startSdkServer('airlock-sdk-edge-', { data: 'data' });
    dir = server.dir;
    key = server.key('support-bot-1');
    admin = await server.signIn();
    airlock = createAirlock({ url: server.url, apiKey: key, edge: { spool: join(dir, 'spool') } });
    edge = airlock.transport as EdgeTransport;
    await edge.ready;
  });
  afterAll(async () => {
    await airlock.close();
    await server.close();
  });

  /** What an edge SDK sends: a batch of in-process allows, with this suite's agent key. */
  async function reportEdge(reports: object[]): Promise<{ recorded: number; verdicts: { id: string; agreed: boolean; verified: boolean }[] }> {
    const response = await fetch(`${server.url}/v1/edge/decisions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ decisions: reports }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { recorded: number; verdicts: { id: string; agreed: boolean; verified: boolean }[] };
  }

  async function decisions(tool: string): Promise<AuditRecord[]> {
    const { body } = await admin.get(`/v1/audit?type=decision&agent=support-bot-1&tool=${tool}&limit=500`);
    return body.records as AuditRecord[];
  }

  it('answers a stateless allow in-process, and the server audits it (re-checked) shortly after', async () => {
    const ran: string[] = [];
    const getAccount = airlock.guard('get_account', (args: { account_id: string }) => {
      ran.push(args.account_id);
      return { id: args.account_id };
    });
    const before = { ...edge.stats };
    expect(await getAccount({ account_id: 'EDGE-1' })).toEqual({ id: 'EDGE-1' });
    expect(ran).toEqual(['EDGE-1']);
    expect(edge.stats.local).toBe(before.local + 1);
    expect(edge.stats.remote).toBe(before.remote);
    await expect.poll(async () => (await decisions('get_account')).filter((r) => r.data.edge), { timeout: 5000 }).toHaveLength(1);
    const [record] = (await decisions('get_account')).filter((r) => r.data.edge);
    expect(record).toMatchObject({ effect: 'allow', data: { edge: { agreed: true, verified: true }, decision: { effect: 'allow', rule: 'read-account' } } });
    expect(record?.data.id).toMatch(/^edg_/);
  });

  it('decides a call with an idempotency key once, where it was first decided', async () => {
    const first = await edge.decide(readAccount('KEY-1'), { idempotencyKey: 'edge-key-1' });
    const again = await edge.decide(readAccount('KEY-1'), { idempotencyKey: 'edge-key-1' });
    expect(again.id).toBe(first.id);
    expect(first.id).toMatch(/^edg_/);
    // A key this process sent to the server stays with the server (its first decision answers).
    const refund = { tool: 'issue_refund', args: { account_id: 'KEY-2', amount: 10, currency: 'USD' } };
    const remote = await edge.decide(refund, { idempotencyKey: 'edge-key-2' });
    expect(remote.id).toMatch(/^dec_/);
    const remoteBefore = edge.stats.remote;
    expect((await edge.decide(refund, { idempotencyKey: 'edge-key-2' })).id).toBe(remote.id);
    expect(edge.stats.remote).toBe(remoteBefore + 1);
  });

  it('leaves limits, approvals and blocks to the server', async () => {
    const before = { ...edge.stats };
    const refund = await airlock.check({ tool: 'issue_refund', args: { account_id: 'EDGE-2', amount: 20, currency: 'USD' } });
    expect(refund).toMatchObject({ outcome: 'run' });
    const large = await airlock.check({ tool: 'issue_refund', args: { account_id: 'EDGE-2', amount: 900, currency: 'USD' } });
    expect(large).toMatchObject({ outcome: 'refused', refusal: { rule: 'refund-large' } });
    expect(edge.stats.local).toBe(before.local);
    expect(edge.stats.remote).toBe(before.remote + 2);
    // Decided and audited by the server itself, before it answered.
    const refunds = (await decisions('issue_refund')).filter((r) => r.data.request.args.account_id === 'EDGE-2');
    expect(refunds.filter((r) => r.data.edge)).toEqual([]);
    expect(refunds.map((r) => r.data.decision.rule).sort()).toEqual(['refund-large', 'refund-small']);
  });

  it('follows a pause within a second (the server then refuses), and a resume', async () => {
    const paused = await admin.post('/v1/pauses', { scope: 'agent', target: 'support-bot-1', reason: 'edge drill' });
    expect(paused.status).toBe(201);
    await expect.poll(async () => (await airlock.check(readAccount('EDGE-3'))).outcome, { timeout: 1000, interval: 20 }).toBe('refused');
    const refused = (await airlock.check(readAccount('EDGE-3'))) as { outcome: 'refused'; refusal: Refusal };
    expect(refused.refusal.reason).toContain('edge drill');
    const local = edge.stats.local;
    expect((await airlock.check(readAccount('EDGE-3'))).outcome).toBe('refused');
    expect(edge.stats.local).toBe(local);

    expect((await admin.post(`/v1/pauses/${paused.body.id as string}/resume`)).status).toBe(200);
    await expect.poll(async () => (await airlock.check(readAccount('EDGE-4'))).outcome, { timeout: 1000, interval: 20 }).toBe('run');
    // And answered in-process again.
    await expect
      .poll(
        async () => {
          await airlock.check(readAccount('EDGE-4'));
          return edge.stats.local;
        },
        { timeout: 1000, interval: 20 },
      )
      .toBeGreaterThan(local);
  });

  it('follows a policy activation: what the new version does not allow goes to the server', async () => {
    const uploaded = await admin.post('/v1/policies', { name: 'edge-stricter', files: readsNeedApproval() });
    expect(uploaded.status).toBe(201);
    expect((await admin.post(`/v1/policies/${uploaded.body.version as number}/activate`)).status).toBe(200);
    await expect.poll(async () => (await airlock.check(readAccount('EDGE-5'), { approval: 'return' })).outcome, { timeout: 1000, interval: 20 }).toBe('pending');
    // Back to the seed version: local answers again.
    expect((await admin.post('/v1/policies/1/activate')).status).toBe(200);
    await expect.poll(async () => (await airlock.check(readAccount('EDGE-6'))).outcome, { timeout: 1000, interval: 20 }).toBe('run');
  });

  it('shows edge allows to shadow mode: a candidate that puts account reads behind approval flips them', async () => {
    const uploaded = await admin.post('/v1/policies', { name: 'edge-shadow', files: readsNeedApproval() });
    expect(uploaded.status).toBe(201);
    const candidate = uploaded.body.version as number;
    expect((await admin.post(`/v1/policies/${candidate}/shadow`)).status).toBe(200);
    try {
      for (const n of [1, 2, 3]) expect((await airlock.check(readAccount(`SHADOW-${n}`))).outcome).toBe('run');
      const shadow = async () => (await admin.get('/v1/policies/shadow')).body.shadow as { calls: number; flipped: number; flips: { from: string; to: string; rule: string | null; count: number }[] };
      await expect.poll(async () => (await shadow()).flipped, { timeout: 3000, interval: 50 }).toBe(3);
      expect((await shadow()).flips.map(({ from, to, rule, count }) => ({ from, to, rule, count }))).toEqual([{ from: 'allow', to: 'require_approval', rule: 'read-account', count: 3 }]);
      const flips = (await admin.get('/v1/audit?type=shadow.flip&limit=10')).body.records as { data: { decision: string } }[];
      expect(flips.map((r) => r.data.decision).every((id) => id.startsWith('edg_'))).toBe(true);
    } finally {
      await admin.delete('/v1/policies/shadow');
    }
  });

  it('marks a report the server does not agree with (a forged or stale allow)', async () => {
    const answer = await reportEdge([{ id: 'edg_forged', at: Date.now(), version: 1, rule: 'read-account', call: { tool: 'export_customers', args: {} } }]);
    expect(answer).toEqual({ recorded: 1, verdicts: [{ id: 'edg_forged', agreed: false, verified: true }] });
    const [record] = await decisions('export_customers');
    expect(record?.data).toMatchObject({ id: 'edg_forged', edge: { agreed: false, verified: true, server: { effect: 'block' } }, decision: { flagged: true } });
  });

  it('leaves text the server cannot store (NUL, an unpaired surrogate) to the server, which refuses it: the tool does not run, and later allows are still recorded', async () => {
    const ran: string[] = [];
    const getAccount = airlock.guard('get_account', (args: { account_id: string }) => {
      ran.push(args.account_id);
      return { id: args.account_id };
    });
    const before = { ...edge.stats };
    for (const id of ['A\u0000B', 'C\ud800']) {
      const refused = (await getAccount({ account_id: id })) as unknown as Refusal;
      expect(refused).toMatchObject({ airlock: 'blocked', tool: 'get_account' });
      expect(refused.reason).toContain('holds U+0000 or an unpaired surrogate');
    }
    expect(ran).toEqual([]);
    expect(edge.stats.local).toBe(before.local);
    expect(await getAccount({ account_id: 'AFTER-NUL' })).toEqual({ id: 'AFTER-NUL' });
    expect(edge.stats.local).toBe(before.local + 1);
    await expect.poll(async () => (await decisions('get_account')).some((r) => r.data.request.args.account_id === 'AFTER-NUL'), { timeout: 5000 }).toBe(true);
    // A report holding such text (sent by an SDK before this check) is recorded, not refused: the
    // call ran. Its text is stored with U+FFFD in place of each NUL and unpaired surrogate.
    expect((await reportEdge([{ id: 'edg_nul', at: Date.now(), version: 1, rule: 'read-account', call: readAccount('D\u0000E\udc00') }])).recorded).toBe(1);
    const [record] = (await decisions('get_account')).filter((r) => r.data.id === 'edg_nul');
    expect(record?.data.request.args.account_id).toBe('D\ufffdE\ufffd');
  });

  it('records a resent report once: a batch sent again, two copies at the same time, an id twice in one batch', async () => {
    const report = (n: number) => ({ id: `edg_resent-${n}`, at: Date.now(), version: 1, rule: 'read-account', call: readAccount(`RESENT-${n}`) });
    const first = await reportEdge([report(1), report(2)]);
    expect(first.recorded).toBe(2);
    // The SDK did not get that answer and sends the batch again, with a report decided since.
    const again = await reportEdge([report(1), report(2), report(3)]);
    expect(again).toEqual({ recorded: 1, verdicts: [1, 2, 3].map((n) => ({ id: `edg_resent-${n}`, agreed: true, verified: true })) });
    // Two copies of one batch racing each other, and an id repeated within a batch.
    const [left, right] = await Promise.all([reportEdge([report(4), report(5), report(4)]), reportEdge([report(5), report(4)])]);
    expect(left.recorded + right.recorded).toBe(2);
    expect(left.verdicts.map((v) => v.id)).toEqual(['edg_resent-4', 'edg_resent-5', 'edg_resent-4']);
    // A decide whose own Idempotency-Key is spelled like a report's key does not pass for that report.
    const decide = await fetch(`${server.url}/v1/decide`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': 'edge:edg_resent-6' },
      body: JSON.stringify(readAccount('RESENT-6')),
    });
    expect(decide.status).toBe(200);
    expect((await reportEdge([report(6)])).verdicts).toEqual([{ id: 'edg_resent-6', agreed: true, verified: true }]);
    const ids = (await decisions('get_account')).map((r) => r.data.id).filter((id) => id.startsWith('edg_resent-'));
    expect(ids.sort()).toEqual([1, 2, 3, 4, 5, 6].map((n) => `edg_resent-${n}`));
    expect((await admin.get('/v1/audit/verify')).body).toMatchObject({ ok: true });
  });

  it('sends at the next start what a crashed process spooled, once', async () => {
    const spool = join(dir, 'crash-spool');
    // A process that never sends (flush every hour) and then "crashes": it is never closed before the next one starts.
    const crashed = new EdgeTransport({ url: server.url, apiKey: key, edge: { spool, flushMs: 3_600_000 } });
    await crashed.ready;
    const ids = [1, 2, 3].map((n) => crashed.decideSync({ tool: 'get_account', args: { account_id: `CRASH-${n}` } })?.id);
    expect(ids.every((id) => id?.startsWith('edg_'))).toBe(true);
    const next = new EdgeTransport({ url: server.url, apiKey: key, edge: { spool } });
    await expect.poll(async () => (await decisions('get_account')).filter((r) => ids.includes(r.data.id)).length, { timeout: 5000 }).toBe(3);
    await next.close();
    await crashed.close();
    expect(readdirSync(spool).filter((f) => f.startsWith('sent-'))).toEqual([]);
    expect((await decisions('get_account')).filter((r) => ids.includes(r.data.id))).toHaveLength(3);
    // Records stamped with the SDK's decision time, appended later: the chain is still whole.
    expect((await admin.get('/v1/audit/verify')).body).toMatchObject({ ok: true });
  });

  it('drops a stream that went quiet and opens a new one (meanwhile the server decides)', async () => {
    const relay = await freezingRelay(server.server.port);
    const quiet = createAirlock({ url: relay.url, apiKey: key, edge: { spool: false, staleMs: 300 } });
    const transport = quiet.transport as EdgeTransport;
    await transport.ready;
    expect((await quiet.check(readAccount('QUIET-1'))).outcome).toBe('run');
    expect(transport.stats).toMatchObject({ local: 1, remote: 0 });
    relay.freezeStreams();
    await new Promise((resolve) => setTimeout(resolve, 400));
    // Stale: the server decides.
    expect((await quiet.check(readAccount('QUIET-2'))).outcome).toBe('run');
    expect(transport.stats.remote).toBe(1);
    // The frozen connection never speaks again; only a new one brings local answers back.
    await expect
      .poll(
        async () => {
          await quiet.check(readAccount('QUIET-3'));
          return transport.stats.local;
        },
        { timeout: 5000, interval: 100 },
      )
      .toBeGreaterThan(1);
    await quiet.close();
    await relay.close();
  });

  it('fails closed when the server goes away: no local answer once the stream is stale', async () => {
    const local = createAirlock({ url: server.url, apiKey: key, edge: { spool: false, staleMs: 300 } });
    await (local.transport as EdgeTransport).ready;
    let runs = 0;
    const getAccount = local.guard('get_account', () => ++runs);
    expect(await getAccount({ account_id: 'DOWN-1' })).toBe(1);
    await server.server.close();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const refused = (await getAccount({ account_id: 'DOWN-2' })) as Refusal;
    expect(refused).toMatchObject({ airlock: 'blocked', code: 'airlock_unavailable' });
    expect(runs).toBe(1);
    await local.close();
    // The other suites' server is gone too: start it again on the same data for afterAll.
    await server.restart();
  });
});
