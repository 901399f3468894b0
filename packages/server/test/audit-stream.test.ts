import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRecordHash } from '../src/index.js';
import { AuditStreamClient, chainProblems, writeEdgeDecisions, type StreamedRecord } from './support/audit-stream.js';
import { signIn } from './support/http.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './support/server.js';

/** The newest seq, as GET /v1/audit answers it. */
async function newestSeq(t: TestServer): Promise<number> {
  const admin = await t.admin();
  const { body } = await admin.get<{ records: { seq: number }[] }>('/v1/audit?limit=1');
  return body.records[0]?.seq ?? 0;
}

describe('GET /v1/audit/stream', () => {
  let t: TestServer;
  let cookie: Record<string, string>;

  beforeAll(async () => {
    t = await startTestServer({ heartbeatMs: 200 });
    cookie = { cookie: (await signIn(t.url, 'admin', ADMIN_PASSWORD)).cookie };
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('streams every record from the first, each with a hash that recomputes and links to the one before', async () => {
    await writeEdgeDecisions(t.agent('support-bot-1'), 50, 'first');
    const head = await newestSeq(t);
    const client = await AuditStreamClient.open(t.url, cookie);
    expect(client.contentType).toContain('application/x-ndjson');
    const records = await client.readThrough(head);
    client.abort();
    expect(chainProblems(records)).toEqual([]);
    expect(records[0]?.prevHash).toBe('0'.repeat(64));
    for (const record of records) expect(auditRecordHash(record)).toBe(record.hash);
  });

  for (const format of ['ndjson', 'sse'] as const) {
    it(`resumes after a forced disconnect with no gap and no duplicate (${format}, ${format === 'sse' ? 'Last-Event-ID' : 'after='})`, async () => {
      const start = await newestSeq(t);
      const received: StreamedRecord[] = [];
      // Records keep coming while the client drops and reconnects, five times.
      const writing = writeEdgeDecisions(t.agent('support-bot-1'), 3000, `resume-${format}`);
      let last = start;
      for (let round = 0; round < 5; round++) {
        const resume = format === 'sse' ? { headers: { ...cookie, 'last-event-id': String(last) }, query: '?after=0' } : { headers: cookie, query: `?after=${last}` };
        const client = await AuditStreamClient.open(t.url, resume.headers, { format, query: resume.query });
        // Read a few hundred records, then drop the connection mid-stream.
        for (let n = 0; n < 300; n++) {
          const item = await client.next();
          if (!item || 'error' in item) throw new Error(`stream ended: ${JSON.stringify(item)}`);
          received.push(item.record);
        }
        client.abort();
        last = received[received.length - 1]?.seq ?? last;
      }
      await writing;
      const head = await newestSeq(t);
      const client = await AuditStreamClient.open(t.url, cookie, { format, query: `?after=${last}` });
      received.push(...(await client.readThrough(head)));
      client.abort();
      expect(received.length).toBe(head - start);
      expect(chainProblems(received, start + 1)).toEqual([]);
    });
  }

  it('gives 100 concurrent clients the same records, in the same order', async () => {
    const start = await newestSeq(t);
    const clients = await Promise.all(Array.from({ length: 100 }, () => AuditStreamClient.open(t.url, cookie, { query: `?after=${start}` })));
    await writeEdgeDecisions(t.agent('support-bot-1'), 1000, 'fanout');
    const head = await newestSeq(t);
    const seen = await Promise.all(clients.map((client) => client.readThrough(head)));
    for (const client of clients) client.abort();
    const expected = seen[0]?.map((r) => `${r.seq}:${r.hash}`) ?? [];
    expect(expected.length).toBe(head - start);
    expect(chainProblems(seen[0] ?? [], start + 1)).toEqual([]);
    for (const records of seen) expect(records.map((r) => `${r.seq}:${r.hash}`)).toEqual(expected);
  });

  it('with follow=false ends at the newest record', async () => {
    const head = await newestSeq(t);
    const client = await AuditStreamClient.open(t.url, cookie, { query: `?after=${head - 10}&follow=false` });
    const records: StreamedRecord[] = [];
    for (let item = await client.next(); item; item = await client.next()) {
      if ('error' in item) throw new Error(item.error.message);
      records.push(item.record);
    }
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 10 }, (_, i) => head - 9 + i));
  });

  it('refuses agents and people without a session', async () => {
    const asAgent = await fetch(`${t.url}/v1/audit/stream`, { headers: { authorization: `Bearer ${t.keys['support-bot-1']}` } });
    expect(asAgent.status).toBe(403);
    expect((await fetch(`${t.url}/v1/audit/stream`)).status).toBe(401);
    const badId = await fetch(`${t.url}/v1/audit/stream`, { headers: { ...cookie, 'last-event-id': 'x' } });
    expect(badId.status).toBe(400);
  });

  it('stops at a missing record with audit_gap instead of skipping it', async () => {
    await writeEdgeDecisions(t.agent('support-bot-1'), 20, 'gap');
    const head = await newestSeq(t);
    const missing = head - 10;
    const db = new Database(join(t.dataDir, 'airlock.db'));
    db.prepare('DELETE FROM audit WHERE seq = ?').run(missing);
    db.close();
    const client = await AuditStreamClient.open(t.url, cookie, { query: `?after=${missing - 5}` });
    const items = [];
    for (let item = await client.next(); item; item = await client.next()) items.push(item);
    expect(items.slice(0, 4).map((item) => ('record' in item ? item.record.seq : item.error.code))).toEqual([missing - 4, missing - 3, missing - 2, missing - 1]);
    expect(items.slice(4)).toEqual([{ error: expect.objectContaining({ code: 'audit_gap', seq: missing }) }]);
  });
});
