import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareRecord, type PreparedEntry } from '../src/audit/record.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { DEFAULT_CHECKPOINTS } from '../src/store/sqlite/write-thread.js';
import { tempDir } from './support/temp-dir.js';

/**
 * The WAL is checkpointed by a thread of its own (checkpoint-worker.ts), not inside decision
 * commits: the writer connection's own automatic checkpoint only starts at 64 MiB of WAL. Under
 * sustained writes the checkpointer keeps the WAL a fraction of the database; without it the WAL
 * would hold every page written since the store opened.
 */

function decision(n: number): PreparedEntry {
  return {
    record: prepareRecord({
      type: 'decision',
      at: 1_790_000_000_000 + n,
      actor: 'agent:bot',
      agent: 'bot',
      tool: 'issue_refund',
      effect: 'allow',
      rule: 'refund-small',
      data: { id: `d-${n}`, request: { tool: 'issue_refund', args: { account_id: `acct-${n}`, amount: n, currency: 'USD', note: 'x'.repeat(200) } } },
    }),
    writes: [],
  };
}

describe('WAL checkpoints beside the SQLite writer', () => {
  it('keeps the WAL a fraction of the database while decisions are written for a second and more', async () => {
    const dir = tempDir('airlock-checkpointer-');
    const file = join(dir.path, 'airlock.db');
    // The default restart threshold (8,000 frames, ~32 MiB) is past what this test writes: a
    // smaller one shows, in a few seconds, that the log is started over rather than grown.
    const store = await openSqliteStore(file, { checkpoints: { ...DEFAULT_CHECKPOINTS, restartFrames: 1000 } });
    try {
      let n = 0;
      for (let batch = 0; batch < 60; batch++) {
        await store.commit(Array.from({ length: 200 }, () => decision(++n)));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      const wal = statSync(`${file}-wal`).size;
      const database = statSync(file).size;
      expect(database).toBeGreaterThan(10 * 1024 * 1024);
      expect(wal).toBeLessThan(database / 2);
    } finally {
      await store.close();
      dir.remove();
    }
  });
});
