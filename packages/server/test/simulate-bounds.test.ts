import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Person } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

interface Source {
  file: string;
  text: string;
}

/** A literal list of 30 numbers, comprehended three deep: 27,000 steps a call, under the default budget. */
const LIST = `[${Array.from({ length: 30 }, (_, i) => i).join(', ')}]`;
const HEAVY = `${LIST}.all(a, ${LIST}.all(b, ${LIST}.all(c, a + b + c >= 0)))`;

/**
 * A simulation over recorded calls runs in slices and stops at its deadline (here 300 ms instead of
 * 30 s): the server answers others while it runs, alone and with 20 at once.
 */
describe('simulations over recorded calls are bounded', () => {
  let t: TestServer;
  let admin: Person;
  let heavy: Source[];
  beforeAll(async () => {
    t = await startTestServer({ simulationDeadlineMs: 300 });
    admin = await t.admin();
    const seed = (await admin.get<{ sources: Source[] }>('/v1/policies/1')).body.sources;
    heavy = seed.map((s) =>
      s.file === 'customer-support.yaml' ? { ...s, text: s.text.replace('  - id: read-account\n    tool: get_account\n', `  - id: read-account\n    tool: get_account\n    when: '${HEAVY}'\n`) } : s,
    );
    expect(heavy).not.toEqual(seed);
    const support = t.agent('support-bot-1');
    for (let i = 0; i < 400; i++) expect((await support.post<{ effect: string }>('/v1/decide', { tool: 'get_account', args: { account_id: `A-${i}` } })).body.effect).toBe('allow');
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const simulate = (last: number) => admin.post<{ report?: { calls: number }; error?: { code: string; message: string } }>('/v1/policies/simulate', { files: heavy, last });

  it('a short one completes; a long one stops at the deadline saying how far it got, and a health check is answered before it ends', async () => {
    const short = await simulate(5);
    expect(short.status).toBe(200);
    expect(short.body.report?.calls).toBe(5);

    const order: string[] = [];
    const long = simulate(400).then((reply) => (order.push('simulation'), reply));
    // Asked after the simulation started: without slices it would wait until the replay ended.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const health = await fetch(`${t.url}/healthz`);
    order.push('health');
    expect(health.status).toBe(200);
    const stopped = await long;
    expect(stopped.status).toBe(422);
    expect(stopped.body.error?.code).toBe('simulation_too_long');
    expect(stopped.body.error?.message).toMatch(/stopped after 0\.3 s, replaying \d+ of 400 recorded calls/);
    expect(order).toEqual(['health', 'simulation']);
  });

  it('20 at once each stop at their deadline, and the server keeps answering', async () => {
    const burst = Promise.all(Array.from({ length: 20 }, () => simulate(400)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    for (const reply of await burst) expect(reply.body.error?.code).toBe('simulation_too_long');
  });
});

/**
 * A simulation holds every recorded call it replays at once (they are replayed in time order), so
 * it reads at most `simulationMaxChars` of records (256 MiB by default; 20,000 characters here):
 * past it, the replay covers the newest calls that fit and says so.
 */
describe('a simulation reads a bounded amount of records', () => {
  let t: TestServer;
  let admin: Person;
  beforeAll(async () => {
    t = await startTestServer({ simulationMaxChars: 20_000 });
    admin = await t.admin();
    const support = t.agent('support-bot-1');
    for (let i = 0; i < 60; i++) expect((await support.post<{ effect: string }>('/v1/decide', { tool: 'get_account', args: { account_id: `B-${i}` } })).body.effect).toBe('allow');
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('replays the newest calls that fit and says it was cut; a small one is not; 20 at once alike', async () => {
    const seed = (await admin.get<{ sources: Source[] }>('/v1/policies/1')).body.sources;
    type Reply = { report?: { calls: number }; from?: string; cutBySize?: true };
    const small = await admin.post<Reply>('/v1/policies/simulate', { files: seed, last: 3 });
    expect(small.status).toBe(200);
    expect(small.body.report?.calls).toBe(3);
    expect(small.body.cutBySize).toBeUndefined();
    const replies = await Promise.all(Array.from({ length: 20 }, () => admin.post<Reply>('/v1/policies/simulate', { files: seed, last: 60 })));
    for (const reply of replies) {
      expect(reply.status).toBe(200);
      expect(reply.body.cutBySize).toBe(true);
      // Records of this bench are several hundred characters: 20,000 hold a few dozen at most.
      expect(reply.body.report?.calls).toBeGreaterThan(0);
      expect(reply.body.report?.calls).toBeLessThan(60);
      expect(reply.body.report?.calls).toBe(replies[0]?.body.report?.calls);
    }
  });
});
