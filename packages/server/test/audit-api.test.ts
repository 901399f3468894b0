import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Sqlite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Person } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

const CLI = fileURLToPath(new URL('../../cli/bin/airlock.js', import.meta.url));

async function verifyWithCli(db: string, ...extra: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, 'audit', 'verify', '--db', db, ...extra]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

interface Record_ {
  seq: number;
  type: string;
  agent: string | null;
  tool: string | null;
  effect: string | null;
  data: { id?: string };
}

describe('audit trail over HTTP', () => {
  let t: TestServer;
  let admin: Person;
  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('200 concurrent decides produce 200 decision records and a valid chain', async () => {
    const support = t.agent('support-bot-1');
    const before = await admin.get<{ ok: boolean; records: number }>('/v1/audit/verify');
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        support.post<{ id: string; effect: string }>('/v1/decide', { tool: 'issue_refund', args: { account_id: `C-${i}`, amount: 20, currency: 'USD' } }),
      ),
    );
    expect(replies.every((r) => r.status === 200 && r.body.effect === 'allow')).toBe(true);
    expect(new Set(replies.map((r) => r.body.id)).size).toBe(200);

    const page = await admin.get<{ records: Record_[] }>('/v1/audit?type=decision&tool=issue_refund&limit=1000');
    expect(page.body.records).toHaveLength(200);
    expect(new Set(page.body.records.map((r) => r.data.id))).toEqual(new Set(replies.map((r) => r.body.id)));
    const after = await admin.get<{ ok: boolean; records: number }>('/v1/audit/verify');
    expect(after.body).toMatchObject({ ok: true, records: before.body.records + 200 });
  });

  it('filters by agent, tool, effect, rule and time, newest first, with a cursor', async () => {
    const finance = t.agent('finance-bot-1');
    t.clock.advance(1000);
    const from = new Date(t.clock.now()).toISOString();
    for (const amount of [10, 2000, 30]) {
      await finance.post('/v1/decide', { tool: 'make_payment', args: { amount, currency: 'USD', payee: 'ACME' } });
      t.clock.advance(1000);
    }
    const to = new Date(t.clock.now()).toISOString();
    const allowed = await admin.get<{ records: Record_[] }>(`/v1/audit?agent=finance-bot-1&tool=make_payment&effect=allow&from=${from}&to=${to}`);
    expect(allowed.body.records.map((r) => r.effect)).toEqual(['allow', 'allow']);
    const byRule = await admin.get<{ records: Record_[] }>('/v1/audit?rule=payment-medium');
    expect(byRule.body.records.map((r) => r.type)).toEqual(['approval.created', 'decision']);

    const first = await admin.get<{ records: Record_[]; nextCursor: string }>(`/v1/audit?agent=finance-bot-1&limit=2`);
    const second = await admin.get<{ records: Record_[]; nextCursor: string | null }>(`/v1/audit?agent=finance-bot-1&limit=2&cursor=${first.body.nextCursor}`);
    const seqs = [...first.body.records, ...second.body.records].map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(second.body.records.length).toBeGreaterThan(0);

    expect((await admin.get('/v1/audit?effect=maybe')).body).toMatchObject({ error: { code: 'invalid_request', param: 'query.effect' } });
  });

  it('exports JSON lines and CSV, oldest first', async () => {
    const jsonl = await admin.get<string>('/v1/audit/export?agent=finance-bot-1');
    expect(jsonl.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = jsonl.body.trim().split('\n').map((line) => JSON.parse(line) as Record_);
    expect(lines.filter((r) => r.type === 'decision' && r.tool === 'make_payment')).toHaveLength(3);
    expect(lines.map((r) => r.seq)).toEqual([...lines.map((r) => r.seq)].sort((a, b) => a - b));

    const csv = await admin.get<string>('/v1/audit/export?agent=finance-bot-1&format=csv');
    const rows = csv.body.trim().split('\r\n');
    expect(rows[0]).toBe('seq,at,type,actor,agent,tool,effect,rule,data,prevHash,hash');
    expect(rows).toHaveLength(lines.length + 1);
    expect(rows[1]).toMatch(/^\d+,\d{4}-\d\d-\d\dT[^,]+,/);
  });

  it('verify names an edited row (API and CLI), and the CLI reports an intact file', async () => {
    const intact = await verifyWithCli(t.server.databaseFile);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/^OK: \d+ records, head [0-9a-f]{64}\n$/);

    const target = (await admin.get<{ records: Record_[] }>('/v1/audit?tool=make_payment&effect=require_approval')).body.records[0] as Record_;
    const raw = new Sqlite(t.server.databaseFile);
    raw.prepare(`update audit set payload = replace(payload, '"amount":2000', '"amount":20') where seq = ?`).run(target.seq);
    raw.close();

    const api = await admin.get('/v1/audit/verify');
    expect(api.body).toMatchObject({ ok: false, seq: target.seq, reason: expect.stringContaining('edited') });
    const cli = await verifyWithCli(t.server.databaseFile);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain(`FAILED at seq ${target.seq}:`);
  });
});

/**
 * Truncation: deleting the newest records leaves a chain that verifies in itself. The head hash
 * verify prints, anchored elsewhere and given back as expectHead / --expect-head, detects it.
 */
describe('an anchored head detects a truncated tail', () => {
  let t: TestServer;
  let admin: Person;
  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
  });
  afterAll(async () => {
    await t.dispose();
  });

  interface Verified {
    ok: boolean;
    records: number;
    head?: string;
    seq?: number;
    reason?: string;
    anchor?: { hash: string; seq: number; following: number };
  }

  const decide = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) expect((await t.agent('support-bot-1').post('/v1/decide', { tool: 'get_account', args: { account_id: `A-${i}` } })).status).toBe(200);
  };

  it('verify prints the head; an anchor still in the chain passes and says how many records follow it', async () => {
    await decide(3);
    const first = (await admin.get<Verified>('/v1/audit/verify')).body;
    expect(first).toMatchObject({ ok: true, head: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const cli = await verifyWithCli(t.server.databaseFile);
    expect(cli.stdout).toBe(`OK: ${first.records} records, head ${first.head as string}\n`);

    await decide(2);
    const later = (await admin.get<Verified>(`/v1/audit/verify?expectHead=${first.head as string}`)).body;
    expect(later).toMatchObject({ ok: true, records: first.records + 2, anchor: { hash: first.head, seq: first.records, following: 2 } });
    const anchoredCli = await verifyWithCli(t.server.databaseFile, '--expect-head', (first.head as string).toUpperCase());
    expect(anchoredCli.code).toBe(0);
    expect(anchoredCli.stdout).toContain(`anchored head found at seq ${first.records}: 2 records follow it`);
    const atHead = (await admin.get<Verified>(`/v1/audit/verify?expectHead=${later.head as string}`)).body;
    expect(atHead.anchor).toMatchObject({ seq: later.records, following: 0 });
  });

  it('after the newest records are deleted: verify alone passes (the weakness), with the anchored head it fails', async () => {
    const anchored = (await admin.get<Verified>('/v1/audit/verify')).body;
    const raw = new Sqlite(t.server.databaseFile);
    raw.prepare('delete from audit where seq > ?').run(anchored.records - 2);
    raw.close();

    const alone = (await admin.get<Verified>('/v1/audit/verify')).body;
    expect(alone).toMatchObject({ ok: true, records: anchored.records - 2 });
    expect((await verifyWithCli(t.server.databaseFile)).code).toBe(0);

    const api = await admin.get<Verified>(`/v1/audit/verify?expectHead=${anchored.head as string}`);
    expect(api.status).toBe(200);
    expect(api.body).toMatchObject({ ok: false, records: anchored.records - 2, reason: expect.stringContaining(`anchored head ${anchored.head as string} not found: the trail was truncated or rewritten`) });
    const cli = await verifyWithCli(t.server.databaseFile, '--expect-head', anchored.head as string);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain('not found: the trail was truncated or rewritten');

    // 100 at once answer the same.
    const many = await Promise.all(Array.from({ length: 100 }, () => admin.get<Verified>(`/v1/audit/verify?expectHead=${anchored.head as string}`)));
    expect(many.every((r) => r.body.ok === false && r.body.reason === api.body.reason)).toBe(true);
  });

  it('refuses a malformed head: 400 invalid_request, CLI exit 2', async () => {
    expect((await admin.get('/v1/audit/verify?expectHead=abc')).body).toMatchObject({ error: { code: 'invalid_request', param: 'query.expectHead' } });
    const cli = await verifyWithCli(t.server.databaseFile, '--expect-head', 'abc');
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('64 hex digits');
  });
});

/**
 * A search no single index serves examines at most `auditScanLimit` records a page (here 20):
 * a page that did not fill up says where it stopped (`searchedTo`), its `nextCursor` goes on
 * below, and following the cursors finds what an unbounded search finds, no more, no less.
 */
describe('audit search in bounded steps', () => {
  let t: TestServer;
  let admin: Person;
  const SCAN = 20;
  beforeAll(async () => {
    t = await startTestServer({ auditScanLimit: SCAN });
    admin = await t.admin();
    const support = t.agent('support-bot-1');
    // Two blocked refunds far apart, allowed ones around them.
    for (let i = 0; i < 70; i++) {
      const amount = i === 5 || i === 40 ? 900 : 10;
      expect((await support.post<{ effect: string }>('/v1/decide', { tool: 'issue_refund', args: { account_id: `S-${i}`, amount, currency: 'USD' } })).status).toBe(200);
    }
  });
  afterAll(async () => {
    await t.dispose();
  });

  type Page = { records: Record_[]; nextCursor: string | null; searchedTo?: number };

  async function follow(query: string, limit: number): Promise<{ seqs: number[]; pages: Page[] }> {
    const pages: Page[] = [];
    let cursor: string | null = null;
    do {
      const reply: { status: number; body: Page } = await admin.get<Page>(`/v1/audit?${query}&limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(reply.status).toBe(200);
      pages.push(reply.body);
      cursor = reply.body.nextCursor;
      expect(pages.length).toBeLessThan(100);
    } while (cursor !== null);
    return { seqs: pages.flatMap((page) => page.records.map((record) => record.seq)), pages };
  }

  it('effect=block: short pages say where they stopped; the cursors lead to both blocks and nothing else', async () => {
    const everything = await follow('type=decision', 100);
    const blocked = everything.pages.flatMap((page) => page.records).filter((record) => record.effect === 'block').map((record) => record.seq);
    expect(blocked).toHaveLength(2);
    const { seqs, pages } = await follow('effect=block', 10);
    expect(seqs).toEqual(blocked);
    const stopped = pages.filter((page) => page.searchedTo !== undefined);
    expect(stopped.length).toBeGreaterThanOrEqual(3);
    for (const page of stopped) {
      expect(page.nextCursor).toBe(String(page.searchedTo));
      expect(page.records.length).toBeLessThan(10);
      expect(page.records.every((record) => record.seq >= (page.searchedTo ?? 0))).toBe(true);
    }
    // A page of one index (type alone) is not cut: it fills up, and has no searchedTo.
    expect(everything.pages.every((page) => page.searchedTo === undefined)).toBe(true);
  });

  it('an export of effect=block reads in stretches and streams exactly the two blocks, oldest first', async () => {
    const blocked = (await follow('effect=block', 10)).seqs;
    const reply = await admin.get<string>('/v1/audit/export?effect=block');
    expect(reply.status).toBe(200);
    const lines = reply.body.trim().split('\n').map((line) => JSON.parse(line) as Record_);
    expect(lines.map((record) => record.seq)).toEqual([...blocked].reverse());
    expect(lines.every((record) => record.effect === 'block')).toBe(true);
  });

  it('100 bounded searches at once answer the same first page', async () => {
    const replies = await Promise.all(Array.from({ length: 100 }, () => admin.get<Page>('/v1/audit?effect=block&rule=refund-large&limit=10')));
    const first = replies[0]?.body;
    expect(first?.searchedTo).toBeGreaterThan(0);
    for (const reply of replies) {
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual(first);
    }
  });
});
