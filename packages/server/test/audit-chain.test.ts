import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditRows, verifyChain } from '../src/audit/verify.js';
import { AuditWriter } from '../src/audit/writer.js';
import type { AuditInput, PreparedEntry } from '../src/audit/record.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { KyselyStore } from '../src/store/kysely-store.js';
import type { Store } from '../src/store/store.js';
import type { AuditRow } from '../src/store/schema.js';
import { tempDir } from './support/temp-dir.js';

function record(i: number): AuditInput {
  return { type: 'decision', at: 1_700_000_000_000 + i, actor: `agent:bot-${i % 3}`, agent: `bot-${i % 3}`, tool: 'issue_refund', effect: 'allow', rule: 'refund-small', data: { i } };
}

describe('hash-chained audit over SQLite', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: KyselyStore;
  let file: string;

  beforeEach(async () => {
    dir = tempDir();
    file = join(dir.path, 'airlock.db');
    store = await openSqliteStore(file);
  });
  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  const verify = (s: Store) => verifyChain(auditRows((after, limit) => s.auditAfter(after, limit)));

  it('commits concurrent appends of one turn in one transaction, gapless and verifiable', async () => {
    const commits: number[] = [];
    const counting: Store = Object.create(store) as Store;
    counting.commit = (entries: readonly PreparedEntry[]) => {
      commits.push(entries.length);
      return store.commit(entries);
    };
    const writer = new AuditWriter(counting, { maxBatch: 512 });
    const sealed = await Promise.all(Array.from({ length: 200 }, (_, i) => writer.append([{ record: record(i) }])));
    expect(commits).toEqual([200]);
    expect(sealed.map(([s]) => s?.seq).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(await verify(store)).toEqual({ ok: true, records: 200, head: sealed.find(([s]) => s?.seq === 200)?.[0]?.hash });
  });

  it('caps a batch at maxBatch records and continues the chain in the next transaction', async () => {
    const commits: number[] = [];
    const counting: Store = Object.create(store) as Store;
    counting.commit = (entries: readonly PreparedEntry[]) => {
      commits.push(entries.length);
      return store.commit(entries);
    };
    const writer = new AuditWriter(counting, { maxBatch: 64 });
    await Promise.all(Array.from({ length: 150 }, (_, i) => writer.append([{ record: record(i) }])));
    expect(commits).toEqual([64, 64, 22]);
    expect(await verify(store)).toMatchObject({ ok: true, records: 150 });
  });

  it('rejects every waiter of a failed batch with store_unavailable and keeps the chain head', async () => {
    let fail = true;
    const flaky: Store = Object.create(store) as Store;
    flaky.commit = (entries: readonly PreparedEntry[]) => (fail ? Promise.reject(new Error('disk full')) : store.commit(entries));
    const writer = new AuditWriter(flaky);
    await writer.append([{ record: record(0) }]).catch(() => undefined);
    fail = false;
    await writer.append([{ record: record(1) }]);
    fail = true;
    const results = await Promise.allSettled([writer.append([{ record: record(2) }]), writer.append([{ record: record(3) }])]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toMatchObject({ code: 'store_unavailable' });
    }
    fail = false;
    const [next] = await writer.append([{ record: record(4) }]);
    expect(next?.seq).toBe(2);
    expect(await verify(store)).toMatchObject({ ok: true, records: 2 });
  });

  it('a failed batch leaves nothing behind: the batch committing after it continues the chain', async () => {
    let calls = 0;
    const flaky: Store = Object.create(store) as Store;
    flaky.commit = async (entries: readonly PreparedEntry[]) => {
      if (++calls === 1) {
        // The first batch fails only after the second was handed to the store.
        await new Promise((resolve) => setTimeout(resolve, 50));
        throw new Error('disk full');
      }
      return store.commit(entries);
    };
    const writer = new AuditWriter(flaky, { maxBatch: 2, maxInFlight: 2 });
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => writer.append([{ record: record(i) }])));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(results.slice(2).map((r) => (r as PromiseFulfilledResult<{ seq: number }[]>).value[0]?.seq)).toEqual([1, 2, 3, 4]);
    expect(await verify(store)).toMatchObject({ ok: true, records: 4 });
  });

  it('two stores writing to one file cannot fork the chain: each batch lands on the real head or is refused', async () => {
    const other = await openSqliteStore(file);
    try {
      const a = new AuditWriter(store);
      const b = new AuditWriter(other);
      const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).append([{ record: record(i) }])));
      const landed = results.filter((r) => r.status === 'fulfilled').length;
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason).toMatchObject({ code: 'store_unavailable' });
      }
      expect(landed).toBeGreaterThan(0);
      expect(await verify(store)).toMatchObject({ ok: true, records: landed });
    } finally {
      await other.close();
    }
  });

  it('continues the chain after reopening the file', async () => {
    const first = new AuditWriter(store);
    await first.append([{ record: record(0) }, { record: record(1) }]);
    await store.close();
    store = await openSqliteStore(file);
    const second = new AuditWriter(store);
    const [sealed] = await second.append([{ record: record(2) }]);
    expect(sealed?.seq).toBe(3);
    expect(await verify(store)).toMatchObject({ ok: true, records: 3 });
  });

  describe('tampering', () => {
    beforeEach(async () => {
      const writer = new AuditWriter(store);
      await Promise.all(Array.from({ length: 10 }, (_, i) => writer.append([{ record: record(i) }])));
      await store.close();
    });

    async function tamper(...statements: string[]): Promise<void> {
      const raw = new Sqlite(file);
      for (const sql of statements) raw.prepare(sql).run();
      raw.close();
      store = await openSqliteStore(file, { readonly: true });
    }

    it('names an edited payload', async () => {
      await tamper(`update audit set payload = replace(payload, '"effect":"allow"', '"effect":"block"') where seq = 4`);
      expect(await verify(store)).toMatchObject({ ok: false, seq: 4, records: 3, reason: expect.stringContaining('hash') });
    });

    it('names an edited filter column', async () => {
      await tamper(`update audit set effect = 'block' where seq = 7`);
      expect(await verify(store)).toMatchObject({ ok: false, seq: 7, reason: expect.stringContaining('effect') });
    });

    it('names a deleted record', async () => {
      await tamper('delete from audit where seq = 5');
      expect(await verify(store)).toMatchObject({ ok: false, seq: 5, reason: expect.stringContaining('missing') });
    });

    it('names reordered records', async () => {
      await tamper('update audit set seq = -1 where seq = 3', 'update audit set seq = 3 where seq = 6', 'update audit set seq = 6 where seq = -1');
      expect(await verify(store)).toMatchObject({ ok: false, seq: 3, reason: expect.stringContaining('reordered') });
    });

    it('names a record re-sealed with a recomputed hash', async () => {
      const raw = new Sqlite(file);
      const row = raw.prepare('select payload, prev_hash from audit where seq = 2').get() as { payload: string; prev_hash: string };
      const payload = row.payload.replace('"effect":"allow"', '"effect":"block"');
      const { sha256Hex } = await import('@airlock/core');
      raw.prepare(`update audit set payload = ?, effect = 'block', hash = ? where seq = 2`).run(payload, sha256Hex(row.prev_hash + payload));
      raw.close();
      store = await openSqliteStore(file, { readonly: true });
      expect(await verify(store)).toMatchObject({ ok: false, seq: 2, reason: expect.stringContaining('re-sealed') });
    });
  });
});

describe('walking the whole trail', () => {
  it('lets the event loop serve others between pages, though each page is read at once', async () => {
    const order: string[] = [];
    const pages = 5;
    const read = (after: number, limit: number): Promise<AuditRow[]> => {
      order.push(`page after ${after}`);
      const rows = after >= pages * limit ? [] : Array.from({ length: limit }, (_, i) => ({ seq: after + i + 1 }) as AuditRow);
      return Promise.resolve(rows);
    };
    setImmediate(() => order.push('another request'));
    let count = 0;
    for await (const row of auditRows(read, 10)) if (row) count++;
    expect(count).toBe(50);
    // Without the turn between pages, every page would be read before anything else ran.
    expect(order.indexOf('another request')).toBeGreaterThan(0);
    expect(order.indexOf('another request')).toBeLessThan(order.length - 1);
  });
});
