import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { parseArgFilter, type ArgFilter } from '../src/audit/arg-index.js';
import { prepareRecord, type PreparedEntry } from '../src/audit/record.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store } from '../src/store/store.js';
import { tempDir } from './support/temp-dir.js';

/**
 * SQLite writes a decision's argument index rows after its commit (docs/search.md "When a record
 * is searchable"): the answer never waits for them, a search on arguments still sees every record
 * committed before it, and rows lost with a crash are rebuilt at the next start.
 */

const BASE = 1_790_000_000_000;

function decision(n: number): PreparedEntry {
  return {
    record: prepareRecord({
      type: 'decision',
      at: BASE + n,
      actor: 'agent:bot',
      agent: 'bot',
      tool: 'issue_refund',
      effect: 'allow',
      rule: 'refund-small',
      data: { id: `d-${n}`, request: { tool: 'issue_refund', args: { account_id: `acct-${n}`, amount: n, currency: 'USD' } } },
    }),
    writes: [],
  };
}

function other(n: number): PreparedEntry {
  return { record: prepareRecord({ type: 'auth.login', at: BASE + n, actor: 'user:admin', data: { n } }), writes: [] };
}

function arg(text: string): ArgFilter {
  const parsed = parseArgFilter(text);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}

const seqs = async (store: Store, filter: string, limit = 1000) => (await store.queryAudit({ args: [arg(filter)] }, { limit })).map((row) => Number(row.seq));

const opened: { store: Store; remove: () => void }[] = [];
afterEach(async () => {
  for (const { store, remove } of opened.splice(0)) {
    await store.close().catch(() => undefined);
    remove();
  }
});

async function open(): Promise<{ store: Store; file: string }> {
  const dir = tempDir('airlock-deferred-index-');
  const file = join(dir.path, 'airlock.db');
  const store = await openSqliteStore(file);
  opened.push({ store, remove: () => dir.remove() });
  return { store, file };
}

describe('the argument index written after the commit (SQLite)', () => {
  it('a decision is found by its arguments by a search that starts right after its answer', async () => {
    const { store } = await open();
    const [sealed] = await store.commit([decision(1)]);
    expect(await seqs(store, 'account_id=acct-1')).toEqual([sealed?.seq]);
    expect((await store.auditAfter(0, 10, { args: [arg('amount>=1')] })).map((row) => Number(row.seq))).toEqual([sealed?.seq]);
  });

  it('100 concurrent appends, each searched for as soon as it is answered, are all found', async () => {
    const { store } = await open();
    const found = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const [sealed] = await store.commit([decision(i + 1)]);
        return { seq: sealed?.seq, hits: await seqs(store, `account_id=acct-${i + 1}`) };
      }),
    );
    for (const { seq, hits } of found) expect(hits).toEqual([seq]);
    expect(await seqs(store, 'currency=USD')).toHaveLength(100);
  });

  it('rebuilds the rows of records committed but not indexed before a crash, from the watermark', async () => {
    const first = await open();
    await first.store.commit(Array.from({ length: 300 }, (_, i) => (i % 10 === 9 ? other(i + 1) : decision(i + 1))));
    await first.store.close();
    // The state a crash leaves: records past the watermark without their rows.
    const raw = new Sqlite(first.file);
    raw.prepare('DELETE FROM audit_args WHERE seq > 120').run();
    raw.prepare("UPDATE search_index SET seq = 120 WHERE name = 'audit_args'").run();
    expect((raw.prepare('SELECT count(*) AS n FROM audit_args WHERE seq > 120').get() as { n: number }).n).toBe(0);
    raw.close();

    const store = await openSqliteStore(first.file);
    opened.push({ store, remove: () => undefined });
    const decisions = Array.from({ length: 300 }, (_, i) => i + 1).filter((n) => n % 10 !== 0);
    expect(await seqs(store, 'currency=USD')).toEqual(decisions.reverse());
    expect(await seqs(store, 'account_id=acct-299')).toEqual([299]);
    const check = new Sqlite(first.file, { readonly: true });
    try {
      // Three fields per decision, each once (no duplicates from the catch-up), and the watermark at the head.
      expect((check.prepare('SELECT count(*) AS n FROM audit_args').get() as { n: number }).n).toBe(270 * 3);
      expect((check.prepare("SELECT seq FROM search_index WHERE name = 'audit_args'").get() as { seq: number }).seq).toBe(300);
    } finally {
      check.close();
    }
  });

  it('a clean close indexes what is waiting', async () => {
    const { store, file } = await open();
    await store.commit(Array.from({ length: 10 }, (_, i) => decision(i + 1)));
    await store.close();
    const raw = new Sqlite(file, { readonly: true });
    try {
      expect((raw.prepare('SELECT count(*) AS n FROM audit_args').get() as { n: number }).n).toBe(30);
      expect((raw.prepare("SELECT seq FROM search_index WHERE name = 'audit_args'").get() as { seq: number }).seq).toBe(10);
    } finally {
      raw.close();
    }
  });
});
