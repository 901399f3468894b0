import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareRecord } from '../src/audit/record.js';
import { HEAVY_READS_RUNNING } from '../src/app.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { signIn, type Person } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';
import { tempDir } from './support/temp-dir.js';

/**
 * Heavy reads (searches, exports, aggregates) of one caller run a few at a time
 * (http/caller-gate.ts): a burst of 100 slow searches by one person queues behind its own
 * HEAVY_READS_RUNNING, and another person's search is answered long before the burst is over,
 * instead of behind all of it on the reader thread.
 */
const RECORDS = 30_000;
const dir = tempDir('airlock-heavy-reads-');

describe('heavy reads, one caller at a time', () => {
  let t: TestServer;
  let admin: Person;
  let watcher: Person;
  beforeAll(async () => {
    // A trail long enough that a search for a rule nobody matched takes a while (it reads it all).
    const store = await openSqliteStore(join(dir.path, 'airlock.db'));
    for (let start = 0; start < RECORDS; start += 2000) {
      await store.commit(
        Array.from({ length: 2000 }, (_, k) => ({
          record: prepareRecord({ type: 'decision', at: Date.now() - 3_600_000 + start + k, actor: 'agent:bot', agent: 'bot', tool: 'issue_refund', effect: 'allow', rule: 'r', data: { n: start + k } }),
          writes: [],
        })),
      );
    }
    await store.close();
    t = await startTestServer({ dataDir: dir.path, auditScanLimit: RECORDS * 2 });
    admin = await t.admin();
    expect((await admin.post('/v1/users', { username: 'watcher', password: 'a long enough password', role: 'viewer' })).status).toBe(201);
    watcher = await signIn(t.url, 'watcher', 'a long enough password');
  }, 120_000);
  afterAll(async () => {
    await t?.dispose();
    dir.remove();
  });

  it(`100 slow searches by one person, then one by another: the other's answer comes after a few of the burst, not behind it`, async () => {
    const order: string[] = [];
    const burst = Array.from({ length: 100 }, (_, i) =>
      admin.get<{ records: unknown[] }>(`/v1/audit?cause=paused&rule=nobody-${i}&limit=10`).then((reply) => {
        order.push('admin');
        return reply.status;
      }),
    );
    // Once the burst is under way: its first answer came back (the rest are queued: on the reader
    // thread without the gate, at most HEAVY_READS_RUNNING of them there with it).
    await expect.poll(() => order.length, { interval: 1 }).toBeGreaterThan(0);
    const other = watcher.get<{ records: unknown[] }>('/v1/audit?rule=also-nobody&limit=10').then((reply) => {
      order.push('watcher');
      return reply.status;
    });
    const [statuses, otherStatus] = await Promise.all([Promise.all(burst), other]);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(otherStatus).toBe(200);
    // Without the gate the watcher's search waits behind every one of the 100 on the reader.
    const position = order.indexOf('watcher');
    // With the gate it waits behind a few of the burst's queries (each search is three, the
    // last one long): answered after 5-6 of the 100 in every run measured. Without the gate
    // (HEAVY_READS_RUNNING raised to 4,000), after 12-26.
    expect(position).toBeGreaterThanOrEqual(0);
    expect(position).toBeLessThanOrEqual(2 * HEAVY_READS_RUNNING + 2);
  }, 120_000);
});
