import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareRecord, type PreparedEntry } from '../src/audit/record.js';
import { SqliteReadError, SqliteReadThread } from '../src/store/sqlite/read-thread.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store } from '../src/store/store.js';
import { tempDir } from './support/temp-dir.js';

/**
 * SQLite reads off the event loop (store/sqlite/read-thread.ts). better-sqlite3 is synchronous:
 * before, a search that walked a 300,000-record trail held the event loop 0.5-0.9 s, and no
 * decision was answered meanwhile. The searches here read all 30,000 records to find the one
 * that matches (the oldest), which takes long enough to see what the event loop does meanwhile.
 */

const N = 30_000;
const RARE = { rule: 'rare-rule' };

function entry(i: number): PreparedEntry {
  const agent = `bot-${i % 3}`;
  return {
    record: prepareRecord({
      type: 'decision',
      at: 1_790_000_000_000 + i,
      actor: `agent:${agent}`,
      agent,
      tool: 'issue_refund',
      effect: 'allow',
      // Only the first record carries the rare rule: a search for it reads the whole trail.
      rule: i === 0 ? RARE.rule : `rule-${i % 5}`,
      data: { id: `d-${i}`, request: { tool: 'issue_refund', args: { amount: i % 100 }, session: null }, decision: { effect: 'allow' } },
    }),
    writes: [],
  };
}

const dir = tempDir('airlock-read-thread-');
const file = join(dir.path, 'airlock.db');
let store: Store;

beforeAll(async () => {
  store = await openSqliteStore(file);
  for (let start = 0; start < N; start += 2000) await store.commit(Array.from({ length: 2000 }, (_, k) => entry(start + k)));
}, 120_000);

afterAll(async () => {
  await store.close();
  dir.remove();
});

/** Counts event-loop turns until stopped (a `setImmediate` chain: a turn runs only when the loop is free). */
function turnCounter(): { stop: () => number } {
  let turns = 0;
  let running = true;
  const turn = (): void => {
    if (!running) return;
    turns++;
    setImmediate(turn);
  };
  setImmediate(turn);
  return {
    stop: () => {
      running = false;
      return turns;
    },
  };
}

describe('SQLite reads on the reader thread', () => {
  it('a search that reads the whole trail lets the event loop turn while it runs', async () => {
    const counter = turnCounter();
    const rows = await store.queryAudit(RARE, { limit: 50 });
    const turns = counter.stop();
    expect(rows.map((row) => row.rule)).toEqual([RARE.rule]);
    // On the event loop itself the search would run in one piece: 0 turns meanwhile.
    expect(turns).toBeGreaterThan(10);
  });

  it('index point lookups (a key, an approval, an idempotency record) do not queue behind a search', async () => {
    const order: string[] = [];
    const search = store.queryAudit(RARE, { limit: 50 }).then(() => order.push('search'));
    // One turn of the event loop: the search is under way before the lookups are asked (on the
    // event loop it would already be over; on one shared reader they would wait behind it).
    await new Promise((resolve) => setImmediate(resolve));
    const key = store.getApiKey('no-such-key').then(() => order.push('key'));
    const approval = store.getApproval('no-such-approval').then(() => order.push('approval'));
    const idempotency = store.getIdempotency('bot-1', 'no-such-key').then(() => order.push('idempotency'));
    await Promise.all([search, key, approval, idempotency]);
    expect(order.at(-1)).toBe('search');
  });

  it('100 searches at once: every point lookup beside them answers first, every search answers right', async () => {
    const order: string[] = [];
    const counter = turnCounter();
    const searches = Array.from({ length: 100 }, (_, i) =>
      store.queryAudit(i % 2 === 0 ? RARE : { rule: 'rule-3', agent: 'bot-1' }, { limit: 20 }).then((rows) => {
        order.push('search');
        return rows;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    const lookups = Array.from({ length: 100 }, (_, i) => store.getApiKey(`key-${i}`).then(() => order.push('lookup')));
    const [answers] = await Promise.all([Promise.all(searches), Promise.all(lookups)]);
    const turns = counter.stop();
    expect(order.slice(0, 100)).toEqual(Array.from({ length: 100 }, () => 'lookup'));
    expect(turns).toBeGreaterThan(10);
    answers.forEach((rows, i) => {
      if (i % 2 === 0) expect(rows.map((row) => Number(row.seq))).toEqual([1]);
      else {
        expect(rows).toHaveLength(20);
        expect(rows.every((row) => row.rule === 'rule-3' && row.agent === 'bot-1')).toBe(true);
      }
    });
  });
});

describe('the reader thread itself', () => {
  it('refuses to write: the file is unchanged', async () => {
    const reader = new SqliteReadThread(file);
    try {
      const before = await reader.query('select count(*) as n from audit', []);
      const refused = await reader.query('delete from audit', []).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(SqliteReadError);
      expect((refused as SqliteReadError).code).toBe('SQLITE_READONLY');
      expect(await reader.query('select count(*) as n from audit', [])).toEqual(before);
      expect(before.rows).toEqual([{ n: N }]);
    } finally {
      await reader.close();
    }
  });

  it('a query lost with its thread fails with a reason; the next query starts a new thread', async () => {
    const reader = new SqliteReadThread(file);
    try {
      expect((await reader.query('select 1 as one', [])).rows).toEqual([{ one: 1 }]);
      const first = (reader as unknown as { worker: Worker }).worker;
      // A query that reads every record, and the thread stopped under it.
      const lost = reader.query("select count(*) as n from audit where json_extract(payload, '$.data.id') = 'none'", []).catch((error: unknown) => error);
      await first.terminate();
      const error = await lost;
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/reader thread stopped/);
      expect((await reader.query('select count(*) as n from audit', [])).rows).toEqual([{ n: N }]);
      expect((reader as unknown as { worker: Worker }).worker).not.toBe(first);
    } finally {
      await reader.close();
    }
  });

  it('a failed statement rejects that query alone', async () => {
    const reader = new SqliteReadThread(file);
    try {
      const [bad, good] = await Promise.allSettled([reader.query('select * from no_such_table', []), reader.query('select ? as x', [7])]);
      expect(bad.status).toBe('rejected');
      expect(((bad as PromiseRejectedResult).reason as SqliteReadError).message).toMatch(/no such table/);
      expect(good).toEqual({ status: 'fulfilled', value: { rows: [{ x: 7 }] } });
    } finally {
      await reader.close();
    }
  });
});
