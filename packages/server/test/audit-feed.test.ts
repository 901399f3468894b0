import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareRecord, type PreparedEntry } from '../src/audit/record.js';
import { AuditFeed, BUFFER_CHARS } from '../src/services/audit-feed.js';
import { MemoryEventBus } from '../src/services/events.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { AuditRow } from '../src/store/schema.js';
import type { Store } from '../src/store/store.js';
import { tempDir } from './support/temp-dir.js';

/**
 * The feed followers share (audit streams, the webhook forwarder) under an agent's largest
 * arguments: its buffer holds at most BUFFER_CHARS of payload (4,096 records of 900 KB were 3.7 GB
 * held while anyone followed), and the store's byte-bounded pages still deliver every record.
 */
const BLOB = 'x'.repeat(900_000);
const LARGE = 60;

function entry(n: number, large: boolean): PreparedEntry {
  return {
    record: prepareRecord({
      type: 'decision',
      at: 1_790_000_000_000 + n,
      actor: 'agent:workflow-bot-1',
      agent: 'workflow-bot-1',
      tool: 'modify_schema',
      effect: 'allow',
      rule: 'r',
      data: { n, args: large ? { blob: BLOB } : { n } },
    }),
    writes: [],
  };
}

const dir = tempDir('airlock-audit-feed-');
let store: Store;
const events = new MemoryEventBus();
let feed: AuditFeed;
const errors: string[] = [];

beforeAll(async () => {
  store = await openSqliteStore(join(dir.path, 'airlock.db'));
  await store.commit([entry(0, false)]);
  feed = new AuditFeed(store, events, { pollMs: 20, logError: (message) => errors.push(message) });
});

afterAll(async () => {
  feed.close();
  await store.close();
  dir.remove();
});

/** Reads like a follower from `after` until `until`, waiting for the feed when it is at the head. */
async function follow(after: number, until: number): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  let cursor = after;
  while (cursor < until) {
    const page = await feed.read(cursor, 500);
    expect(page.gap).toBeUndefined();
    if (page.rows.length === 0) {
      await feed.changed(200);
      continue;
    }
    rows.push(...page.rows);
    cursor = Number(page.rows[page.rows.length - 1]?.seq);
  }
  return rows;
}

describe('audit feed with large records', () => {
  it('keeps at most BUFFER_CHARS of payload, and two followers get every record in order', async () => {
    const release = feed.follow();
    try {
      await expect.poll(() => (feed as unknown as { head: number }).head).toBe(1);
      const followers = [follow(1, 1 + LARGE + 1), follow(1, 1 + LARGE + 1)];
      for (let n = 1; n <= LARGE; n += 5) {
        await store.commit(Array.from({ length: 5 }, (_, k) => entry(n + k, true)));
        feed.wake();
      }
      await store.commit([entry(LARGE + 1, false)]);
      feed.wake();
      const [a, b] = await Promise.all(followers);
      const want = Array.from({ length: LARGE + 1 }, (_, i) => i + 2);
      expect(a?.map((row) => Number(row.seq))).toEqual(want);
      expect(b?.map((row) => Number(row.seq))).toEqual(want);
      const inside = feed as unknown as { buffer: AuditRow[]; bufferChars: number };
      await expect.poll(() => inside.buffer.at(-1)?.seq).toBe(LARGE + 2);
      const held = inside.buffer.reduce((sum, row) => sum + row.payload.length, 0);
      expect(inside.bufferChars).toBe(held);
      expect(held).toBeLessThanOrEqual(BUFFER_CHARS);
      // 60 records of 900 KB would be ~54 MB: the buffer dropped the oldest.
      expect(inside.buffer.length).toBeLessThan(LARGE);
      expect(errors).toEqual([]);
    } finally {
      release();
    }
  }, 120_000);
});
