import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgFilter, prefixSuccessor, type ArgFilter } from '../src/audit/arg-index.js';
import { AUDIT_TYPES, prepareRecord, sealBatch, GENESIS_HASH, type AuditInput, type PreparedEntry } from '../src/audit/record.js';
import { auditRows, verifyChain } from '../src/audit/verify.js';
import { migrationProvider } from '../src/store/migrations/index.js';
import type { Database } from '../src/store/schema.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { AuditFilter, Store } from '../src/store/store.js';
import type { Person } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';
import { storeImplementations } from './support/stores.js';
import { tempDir } from './support/temp-dir.js';

/** Search (issue 20 item 3): argument filters and the rest over the audit trail and approvals. */

const BASE = 1_790_000_000_000;

function decision(n: number, args: Record<string, unknown>, extra: Partial<AuditInput> = {}): PreparedEntry {
  const agent = `bot-${n % 3}`;
  const input: AuditInput = {
    type: 'decision',
    at: BASE + n * 1000,
    actor: `agent:${agent}`,
    agent,
    tool: n % 2 === 0 ? 'issue_refund' : 'make_payment',
    effect: n % 5 === 0 ? 'block' : 'allow',
    rule: `rule-${n % 4}`,
    data: { id: `d-${n}`, request: { tool: 'issue_refund', args, session: null }, decision: { effect: 'allow' } },
    ...extra,
  };
  return { record: prepareRecord(input), writes: [] };
}

/** The refund of record n: account acct_<n % 10>, amount n, a nested payee, a flag. */
function refundArgs(n: number): Record<string, unknown> {
  return { account: `acct_${n % 10}`, amount: n, payee: { country: n % 2 === 0 ? 'FR' : 'DE', iban: `FR76${String(n).padStart(6, '0')}` }, urgent: n % 7 === 0 };
}

const implementations = storeImplementations('search');

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function args(...filters: string[]): ArgFilter[] {
  return filters.map((text) => {
    const parsed = parseArgFilter(text);
    if (typeof parsed === 'string') throw new Error(parsed);
    return parsed;
  });
}

async function seqs(store: Store, filter: AuditFilter, limit = 1000): Promise<number[]> {
  return (await store.queryAudit(filter, { limit })).map((row) => Number(row.seq));
}

/** What the filter should answer, computed from the records' own arguments. */
function expected(n: number, keep: (n: number, a: ReturnType<typeof refundArgs>) => boolean): number[] {
  const out: number[] = [];
  for (let i = n; i >= 1; i--) if (keep(i, refundArgs(i) as ReturnType<typeof refundArgs>)) out.push(i);
  return out;
}

describe.each(implementations)('argument search in the store: $name', (impl) => {
  let store: Store;
  const N = 120;
  beforeAll(async () => {
    const opened = await impl.open();
    store = opened.store;
    cleanups.push(async () => {
      await store.close().catch(() => undefined);
      await opened.cleanup();
    });
    await store.commit(Array.from({ length: N }, (_, i) => decision(i + 1, refundArgs(i + 1))));
  });

  it('equality on a field finds exactly the records holding that value', async () => {
    expect(await seqs(store, { args: args('account=acct_3') })).toEqual(expected(N, (_, a) => a.account === 'acct_3'));
    // Numbers as JSON writes them, booleans as true / false, nested fields by dotted path.
    expect(await seqs(store, { args: args('amount=42') })).toEqual([42]);
    expect(await seqs(store, { args: args('urgent=true') })).toEqual(expected(N, (i) => i % 7 === 0));
    expect(await seqs(store, { args: args('payee.country=DE') })).toEqual(expected(N, (i) => i % 2 === 1));
    expect(await seqs(store, { args: args('account=acct_33') })).toEqual([]);
    expect(await seqs(store, { args: args('missing=acct_3') })).toEqual([]);
  });

  it('numeric ranges, bounds included or not, and several conditions on one field', async () => {
    expect(await seqs(store, { args: args('amount>=100') })).toEqual(expected(N, (i) => i >= 100));
    expect(await seqs(store, { args: args('amount>100') })).toEqual(expected(N, (i) => i > 100));
    expect(await seqs(store, { args: args('amount>=10', 'amount<20') })).toEqual(expected(N, (i) => i >= 10 && i < 20));
    expect(await seqs(store, { args: args('amount>10', 'amount<=20') })).toEqual(expected(N, (i) => i > 10 && i <= 20));
    expect(await seqs(store, { args: args('amount>=-1.5e3', 'amount<2.5') })).toEqual([2, 1]);
    // A string is not a number: no range matches it.
    expect(await seqs(store, { args: args('account>=0') })).toEqual([]);
  });

  it('prefix on text fields', async () => {
    expect(await seqs(store, { args: args('payee.iban^=FR7600010') })).toEqual(expected(N, (i) => i >= 100 && i <= 109));
    expect(await seqs(store, { args: args('account^=acct_') })).toEqual(expected(N, () => true));
    expect(await seqs(store, { args: args('account^=acct_1') })).toEqual(expected(N, (i) => i % 10 === 1));
    expect(await seqs(store, { args: args('account^=acct_1%') })).toEqual([]);
    expect(await seqs(store, { args: args('account^=ACCT_') })).toEqual([]);
  });

  it('argument filters combine with effect, tool, rule, agent and time', async () => {
    const filter: AuditFilter = { args: args('account=acct_5'), effect: 'block', tool: 'make_payment', agent: 'bot-0', rule: 'rule-3' };
    expect(await seqs(store, filter)).toEqual(expected(N, (i, a) => a.account === 'acct_5' && i % 5 === 0 && i % 2 === 1 && i % 3 === 0 && i % 4 === 3));
    const timed: AuditFilter = { args: args('amount>=1'), fromMs: BASE + 30_000, toMs: BASE + 40_000 };
    expect(await seqs(store, timed)).toEqual([39, 38, 37, 36, 35, 34, 33, 32, 31, 30]);
    expect(await seqs(store, { args: args('account=acct_5'), type: 'pause.created' })).toEqual([]);
  });

  it('pages newest first by seq with no duplicate and no gap while records are appended', async () => {
    const filter: AuditFilter = { args: args('account=acct_7') };
    const want = expected(N, (_, a) => a.account === 'acct_7');
    const seen: number[] = [];
    let before: number | undefined;
    let appended = N;
    for (;;) {
      // Another writer appends matching records between pages: they are newer than the first page.
      const more = Array.from({ length: 5 }, () => decision(++appended, refundArgs(7)));
      const [page] = await Promise.all([store.queryAudit(filter, { ...(before === undefined ? {} : { beforeSeq: before }), limit: 3 }), store.commit(more)]);
      seen.push(...page.map((row) => Number(row.seq)));
      if (page.length < 3) break;
      before = Number(page[page.length - 1]?.seq);
    }
    const fromFirstPage = seen.filter((seq) => seq <= N);
    expect(new Set(seen).size).toBe(seen.length);
    expect(fromFirstPage).toEqual(want);
    expect(await verifyChain(auditRows((after, limit) => store.auditAfter(after, limit)))).toMatchObject({ ok: true });
  });

  it('approvals: arguments, tool, rule, status sets, time, and sort by age or deadline with a cursor', async () => {
    const rows = Array.from({ length: 12 }, (_, i) => ({
      id: `ap-${String(i).padStart(2, '0')}`,
      decision_id: `d-${i}`,
      agent: 'bot-1',
      role: 'support',
      environment: 'production',
      tool: i % 2 === 0 ? 'issue_refund' : 'make_payment',
      args: JSON.stringify({ account: `acct_${i % 3}`, amount: i * 10, payee: { country: i % 2 === 0 ? 'FR' : 'DE' }, urgent: i === 4 }),
      session: null,
      call_hash: `h${i}`,
      rule: i % 2 === 0 ? 'refund-approval' : 'payment-approval',
      reason: 'r',
      approvers: '[]',
      policy_version: 1,
      status: i < 8 ? 'pending' : ['approved', 'denied', 'expired', 'redeemed'][i - 8] ?? 'pending',
      created_at: BASE + i * 1000,
      expires_at: BASE + 1_000_000 - i * 7000,
      resolved_by: null,
      resolved_at: null,
      resolution_reason: null,
      redeemed_at: null,
      route: '',
      tier: 0,
      votes: '[]',
      deadline_at: i % 3 === 0 ? BASE + 500_000 + i : null,
      edited_args: null,
      edited_call_hash: null,
      used_tokens: '[]',
      session_attributes: null,
      intent: null,
      resolved_by_kind: null,
    }));
    await store.commit([{ ...decision(10_000, {}), writes: rows.map((row) => ({ kind: 'approval.insert' as const, row })) }]);
    const ids = async (filter: Parameters<Store['listApprovals']>[0], limit = 100) => (await store.listApprovals(filter, { limit })).map((row) => row.id);
    expect(await ids({ args: args('account=acct_1') })).toEqual(['ap-10', 'ap-07', 'ap-04', 'ap-01']);
    expect(await ids({ args: args('amount>=50', 'amount<80') })).toEqual(['ap-07', 'ap-06', 'ap-05']);
    expect(await ids({ args: args('amount=30') })).toEqual(['ap-03']);
    expect(await ids({ args: args('urgent=true') })).toEqual(['ap-04']);
    expect(await ids({ args: args('payee.country^=D'), tool: 'make_payment', rule: 'payment-approval' })).toEqual(['ap-11', 'ap-09', 'ap-07', 'ap-05', 'ap-03', 'ap-01']);
    expect(await ids({ args: args('account=1') })).toEqual([]);
    expect(await ids({ status: ['approved', 'denied', 'expired', 'redeemed'] })).toEqual(['ap-11', 'ap-10', 'ap-09', 'ap-08']);
    expect(await ids({ status: 'pending', fromMs: BASE + 2000, toMs: BASE + 5000 })).toEqual(['ap-04', 'ap-03', 'ap-02']);
    expect(await ids({ status: 'pending', sort: 'oldest' })).toEqual(['ap-00', 'ap-01', 'ap-02', 'ap-03', 'ap-04', 'ap-05', 'ap-06', 'ap-07']);
    // Deadline: the tier deadline when there is one (0, 3, 6), else the expiry (earlier for later ones).
    const byDeadline = [...rows.filter((r) => r.status === 'pending')]
      .sort((a, b) => (a.deadline_at ?? a.expires_at) - (b.deadline_at ?? b.expires_at) || a.id.localeCompare(b.id))
      .map((r) => r.id);
    expect(await ids({ status: 'pending', sort: 'deadline' })).toEqual(byDeadline);
    // Pages of 3 in each order: the same list, no duplicate, no gap.
    for (const sort of ['newest', 'oldest', 'deadline'] as const) {
      const all = await ids({ sort });
      const paged: string[] = [];
      let after: { at: number; id: string } | undefined;
      for (;;) {
        const page = await store.listApprovals({ sort }, { ...(after ? { after } : {}), limit: 3 });
        paged.push(...page.map((r) => r.id));
        const last = page[page.length - 1];
        if (page.length < 3 || !last) break;
        after = { at: Number(sort === 'deadline' ? (last.deadline_at ?? last.expires_at) : last.created_at), id: last.id };
      }
      expect(paged).toEqual(all);
      expect(all).toHaveLength(12);
    }
  });
});

describe('the 009 migration indexes the decisions written before it', () => {
  it('backfills audit_args from stored records, then searches them', async () => {
    const dir = tempDir('airlock-search-migrate-');
    const file = join(dir.path, 'airlock.db');
    try {
      const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new Sqlite(file) }) });
      const { error } = await new Migrator({ db, provider: migrationProvider }).migrateTo('008-audit-forwarder');
      expect(error).toBeUndefined();
      const entries = Array.from({ length: 1500 }, (_, i) => decision(i + 1, refundArgs(i + 1)));
      const { rows } = sealBatch(entries, { seq: 0, hash: GENESIS_HASH });
      for (let i = 0; i < rows.length; i += 200) await db.insertInto('audit').values(rows.slice(i, i + 200)).execute();
      await db.destroy();
      const store = await openSqliteStore(file);
      try {
        expect(await seqs(store, { args: args('account=acct_9', 'account^=acct'), fromMs: BASE + 1_400_000 }, 5000)).toEqual(expected(1500, (i, a) => a.account === 'acct_9' && i >= 1400));
        expect(await seqs(store, { args: args('amount>1490') })).toEqual([1500, 1499, 1498, 1497, 1496, 1495, 1494, 1493, 1492, 1491]);
      } finally {
        await store.close();
      }
    } finally {
      dir.remove();
    }
  });
});

describe('argument filter grammar', () => {
  it('parses the six operators and refuses anything else', () => {
    expect(parseArgFilter('account=acct_42')).toEqual({ path: 'account', op: 'eq', value: 'acct_42' });
    expect(parseArgFilter('a.b-c.d_e^=x=y')).toEqual({ path: 'a.b-c.d_e', op: 'prefix', value: 'x=y' });
    expect(parseArgFilter('amount>=100')).toEqual({ path: 'amount', op: 'gte', value: 100 });
    expect(parseArgFilter('amount>1.5e2')).toEqual({ path: 'amount', op: 'gt', value: 150 });
    expect(parseArgFilter('amount<=-3')).toEqual({ path: 'amount', op: 'lte', value: -3 });
    expect(parseArgFilter('amount<0.5')).toEqual({ path: 'amount', op: 'lt', value: 0.5 });
    for (const bad of ['account', '=x', 'a..b=x', '.a=x', 'a.b.c.d.e=x', `${'k'.repeat(65)}=x`, 'a=', `a=${'x'.repeat(257)}`, 'amount>=1e999', 'amount<NaN', 'amount>=0x10', "a' or 1=1 --=x", 'a b=c', 'amount>= 1']) {
      expect(typeof parseArgFilter(bad), bad).toBe('string');
    }
  });

  it('prefix successor covers exactly the strings that start with the prefix', () => {
    expect(prefixSuccessor('acct_4')).toBe('acct_5');
    expect(prefixSuccessor('a\u{10FFFF}')).toBe('b');
    expect(prefixSuccessor('\u{10FFFF}')).toBeUndefined();
    expect(prefixSuccessor('a\uD7FF')).toBe('a\uE000');
  });
});

describe('search over HTTP', () => {
  let t: TestServer;
  let admin: Person;
  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
    const support = t.agent('support-bot-1');
    for (let i = 0; i < 60; i++) {
      const reply = await support.post('/v1/decide', { tool: 'issue_refund', args: { account_id: `C-${i % 6}`, amount: i, currency: 'USD' } });
      expect(reply.status).toBe(200);
    }
  });
  afterAll(async () => {
    await t.dispose();
  });

  type Page = { records: { seq: number; data: { request: { args: { account_id: string; amount: number } } } }[]; nextCursor: string | null };

  it('GET /v1/audit?arg=... filters on arguments, repeated for several, with the cursor', async () => {
    const one = await admin.get<Page>('/v1/audit?arg=account_id%3DC-2');
    expect(one.status).toBe(200);
    expect(one.body.records.map((r) => r.data.request.args.amount)).toEqual([56, 50, 44, 38, 32, 26, 20, 14, 8, 2]);
    const range = await admin.get<Page>(`/v1/audit?arg=${encodeURIComponent('amount>=10')}&arg=${encodeURIComponent('amount<13')}&tool=issue_refund&type=decision`);
    expect(range.body.records.map((r) => r.data.request.args.amount)).toEqual([12, 11, 10]);
    const prefix = await admin.get<Page>(`/v1/audit?arg=${encodeURIComponent('account_id^=C-')}&limit=25`);
    expect(prefix.body.records).toHaveLength(25);
    const next = await admin.get<Page>(`/v1/audit?arg=${encodeURIComponent('account_id^=C-')}&limit=25&cursor=${prefix.body.nextCursor}`);
    const third = await admin.get<Page>(`/v1/audit?arg=${encodeURIComponent('account_id^=C-')}&limit=25&cursor=${next.body.nextCursor}`);
    const amounts = [...prefix.body.records, ...next.body.records, ...third.body.records].map((r) => r.data.request.args.amount);
    expect(amounts).toEqual(Array.from({ length: 60 }, (_, i) => 59 - i));
    expect(third.body.nextCursor).toBeNull();
  });

  it('lists every audit type the server writes', async () => {
    const reply = await admin.get<{ types: string[] }>('/v1/audit/types');
    expect(reply.body.types).toEqual([...AUDIT_TYPES]);
    for (const type of ['pause.created', 'pause.applied', 'shadow.flip', 'policy.shadow_started', 'approval.vote', 'call.started', 'call.refused']) expect(reply.body.types).toContain(type);
  });

  it('refuses hostile filters with invalid_request, and answers SQL-ish values as plain text', async () => {
    const refused = [
      `arg=${encodeURIComponent('a.b.c.d.e.f=1')}`,
      `arg=${encodeURIComponent(`${'a.'.repeat(200)}a=1`)}`,
      `arg=${encodeURIComponent(`a=${'x'.repeat(300)}`)}`,
      `arg=${encodeURIComponent(`a=${'x'.repeat(5000)}`)}`,
      `arg=${encodeURIComponent("amount>=1 or 1=1")}`,
      `arg=${encodeURIComponent("x') or ('1'='1=1")}`,
      `arg=${encodeURIComponent('amount>=1e400')}`,
      Array.from({ length: 9 }, () => 'arg=a%3D1').join('&'),
    ];
    for (const query of refused) {
      const reply = await admin.get<{ error: { code: string } }>(`/v1/audit?${query}`);
      expect(reply.status, query.slice(0, 80)).toBe(400);
      expect(reply.body.error.code).toBe('invalid_request');
    }
    const approvals = await admin.get<{ error: { code: string } }>(`/v1/approvals?arg=${encodeURIComponent('a.b.c.d.e=1')}`);
    expect(approvals.status).toBe(400);
    for (const value of ["C-1' OR '1'='1", 'C-1"; DROP TABLE audit; --', '%', '_', '\\', "'); select * from users; --"]) {
      const eq = await admin.get<Page>(`/v1/audit?arg=${encodeURIComponent(`account_id=${value}`)}`);
      expect(eq.status).toBe(200);
      expect(eq.body.records).toEqual([]);
      const prefix = await admin.get<Page>(`/v1/audit?arg=${encodeURIComponent(`account_id^=${value}`)}`);
      expect(prefix.body.records).toEqual([]);
    }
    expect((await admin.get<{ ok: boolean }>('/v1/audit/verify')).body.ok).toBe(true);
  });

  it('answers 100 concurrent searches alike, as one alone does', async () => {
    const alone = await admin.get<Page>(`/v1/audit?arg=${encodeURIComponent('account_id=C-4')}&arg=${encodeURIComponent('amount>20')}`);
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        i % 2 === 0
          ? admin.get<Page>(`/v1/audit?arg=${encodeURIComponent('account_id=C-4')}&arg=${encodeURIComponent('amount>20')}`)
          : admin.get<Page>(`/v1/audit?arg=${encodeURIComponent(`a.b.c.d.e${i}=x`)}`),
      ),
    );
    expect(alone.body.records.map((r) => r.data.request.args.amount)).toEqual([58, 52, 46, 40, 34, 28, 22]);
    replies.forEach((reply, i) => {
      if (i % 2 === 0) expect(reply.body).toEqual(alone.body);
      else expect(reply.status).toBe(400);
    });
  });

  it('GET /v1/approvals: pending and resolved tabs, argument filters, sort by deadline or age', async () => {
    const support = t.agent('support-bot-1');
    for (const [account, amount] of [['A-1', 120], ['A-2', 300], ['A-1', 80]] as const) {
      const reply = await support.post<{ effect: string }>('/v1/decide', { tool: 'issue_refund', args: { account_id: account, amount, currency: 'USD' } });
      expect(reply.body.effect).toBe('require_approval');
      await t.clock.advance(1000);
    }
    type List = { approvals: { id: string; status: string; args: { account_id: string; amount: number } }[]; nextCursor: string | null };
    const pending = await admin.get<List>(`/v1/approvals?status=pending&arg=${encodeURIComponent('account_id=A-1')}`);
    expect(pending.body.approvals.map((a) => a.args.amount)).toEqual([80, 120]);
    const ours = `arg=${encodeURIComponent('account_id^=A-')}`;
    const oldest = await admin.get<List>(`/v1/approvals?status=pending&sort=oldest&limit=2&${ours}`);
    expect(oldest.body.approvals.map((a) => a.args.amount)).toEqual([120, 300]);
    const rest = await admin.get<List>(`/v1/approvals?status=pending&sort=oldest&limit=2&${ours}&cursor=${oldest.body.nextCursor}`);
    expect(rest.body.approvals.map((a) => a.args.amount)).toEqual([80]);
    // A cursor of another order is refused rather than misread.
    expect((await admin.get(`/v1/approvals?status=pending&sort=deadline&cursor=${oldest.body.nextCursor}`)).status).toBe(400);
    const byDeadline = await admin.get<List>(`/v1/approvals?status=pending&sort=deadline&${ours}`);
    expect(byDeadline.body.approvals).toHaveLength(3);
    const first = pending.body.approvals[0];
    if (!first) throw new Error('no approval');
    expect((await admin.post(`/v1/approvals/${first.id}/deny`, { reason: 'no' })).status).toBe(200);
    const resolved = await admin.get<List>(`/v1/approvals?status=resolved&${ours}`);
    expect(resolved.body.approvals.map((a) => [a.id, a.status])).toEqual([[first.id, 'denied']]);
    const stillPending = await admin.get<List>(`/v1/approvals?status=pending&${ours}&arg=${encodeURIComponent('amount>=100')}`);
    expect(stillPending.body.approvals.map((a) => a.args.amount)).toEqual([300, 120]);
  });
});
