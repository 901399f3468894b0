import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Sqlite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Person } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

const CLI = fileURLToPath(new URL('../../cli/bin/airlock.js', import.meta.url));

async function verifyWithCli(db: string): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'audit', 'verify', '--db', db]);
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, stdout: failed.stdout };
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
    expect(intact.stdout).toMatch(/^OK: \d+ records\n$/);

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
