import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caller, signIn, type Caller, type Person } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * People's API tokens: a person's credential for scripts and the CLI. Stored as a hash, acting
 * as the person with their role or a narrower one, refused at once when revoked or expired, and
 * audited.
 */
const PASSWORD = 'a long enough password';
const DAY_MS = 24 * 60 * 60_000;

interface Created {
  id: string;
  token: string;
  name: string;
  username: string;
  role: string | null;
  expiresAt: string | null;
}

function bearer(base: string, token: string): Caller {
  return caller(base, { authorization: `Bearer ${token}` });
}

describe("people's API tokens", () => {
  let t: TestServer;
  let admin: Person;
  let lead: Person;
  let viewer: Person;

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
    expect((await admin.post('/v1/users', { username: 'lead', password: PASSWORD, role: 'approver', groups: ['support-leads'] })).status).toBe(201);
    expect((await admin.post('/v1/users', { username: 'watcher', password: PASSWORD, role: 'viewer' })).status).toBe(201);
    lead = await signIn(t.url, 'lead', PASSWORD);
    viewer = await signIn(t.url, 'watcher', PASSWORD);
  });
  afterAll(async () => {
    await t.dispose();
  });

  async function create(person: Person, body: Record<string, unknown> = {}): Promise<Created> {
    const response = await person.post<Created>('/v1/tokens', { name: 'test token', ...body });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  }

  /** A $75 refund to a fresh account: refund-medium asks support-leads for approval. */
  let account = 0;
  async function pendingRefund(): Promise<string> {
    const { body } = await t.agent('support-bot-1').post<{ approval: { id: string } }>('/v1/decide', {
      tool: 'issue_refund',
      args: { account_id: `TOK-${++account}`, amount: 75, currency: 'USD' },
    });
    return body.approval.id;
  }

  it('is shown once, and only a SHA-256 of its secret is stored', async () => {
    const created = await create(lead, { name: 'laptop' });
    expect(created.token).toMatch(/^apt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: 'laptop', username: 'lead', role: null, expiresAt: null });
    const secret = created.token.split('_').slice(2).join('_');

    const listed = await lead.get<{ tokens: Record<string, unknown>[] }>('/v1/tokens');
    expect(listed.body.tokens.map((token) => token.id)).toContain(created.id);
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const db = new Sqlite(t.server.databaseFile, { readonly: true });
    try {
      const row = db.prepare('select * from user_tokens where id = ?').get(created.id) as { secret_hash: string };
      expect(row.secret_hash).toBe(createHash('sha256').update(secret).digest('hex'));
      expect(JSON.stringify(db.prepare('select * from user_tokens').all())).not.toContain(secret);
    } finally {
      db.close();
    }
    // Nowhere on disk: not in the database, its WAL, or the audit trail.
    for (const file of readdirSync(t.dataDir)) {
      expect(readFileSync(join(t.dataDir, file)).includes(secret), file).toBe(false);
    }
  });

  it('acts as its person without a CSRF header: an approver approves with it', async () => {
    const { token, id } = await create(lead);
    const person = bearer(t.url, token);
    const session = await person.get<{ user: { username: string; role: string }; tokenId: string; csrfToken: null }>('/v1/auth/session');
    expect(session.body).toMatchObject({ user: { username: 'lead', role: 'approver' }, tokenId: id, csrfToken: null });

    const approvalId = await pendingRefund();
    const approved = await person.post<{ status: string; resolvedBy: string }>(`/v1/approvals/${approvalId}/approve`, { reason: 'double charge' });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({ status: 'approved', resolvedBy: 'lead' });
    // The audit names the person, as for the dashboard.
    const records = await admin.get<{ records: { actor: string; data: { approval?: string } }[] }>(`/v1/audit?type=approval.approved`);
    expect(records.body.records[0]?.actor).toBe('user:lead');
  });

  it("a viewer's token cannot approve, nor can an admin's token narrowed to viewer", async () => {
    const watcher = await create(viewer);
    const narrowed = await create(admin, { role: 'viewer' });
    const approvalId = await pendingRefund();
    for (const token of [watcher.token, narrowed.token]) {
      const refused = await bearer(t.url, token).post(`/v1/approvals/${approvalId}/approve`, { reason: 'no' });
      expect(refused).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
      expect((await bearer(t.url, token).get('/v1/approvals')).status).toBe(200);
    }
    // With 100 at once too.
    const many = await Promise.all(Array.from({ length: 100 }, () => bearer(t.url, narrowed.token).post(`/v1/approvals/${approvalId}/approve`, { reason: 'no' })));
    expect(many.map((r) => r.status)).toEqual(Array.from({ length: 100 }, () => 403));
    expect((await admin.get<{ status: string }>(`/v1/approvals/${approvalId}`)).body.status).toBe('pending');
  });

  it('is never wider than its person, and a token cannot mint tokens', async () => {
    expect(await viewer.post('/v1/tokens', { name: 'x', role: 'admin' })).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(await lead.post('/v1/tokens', { name: 'x', role: 'policy-author' })).toMatchObject({ status: 403 });
    const { token } = await create(admin, { role: 'approver' });
    const minted = await bearer(t.url, token).post('/v1/tokens', { name: 'child' });
    expect(minted).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    // The narrowed admin acts as an approver: it cannot create users.
    expect((await bearer(t.url, token).post('/v1/users', { username: 'nobody', password: PASSWORD, role: 'viewer' })).status).toBe(403);
  });

  it('is refused on the next request once revoked, also by 100 concurrent requests', async () => {
    const { token, id } = await create(lead);
    const person = bearer(t.url, token);
    const before = await Promise.all(Array.from({ length: 100 }, () => person.get('/v1/approvals?limit=1')));
    expect(before.map((r) => r.status)).toEqual(Array.from({ length: 100 }, () => 200));

    const revoked = await lead.delete<{ revokedAt: string | null; revokedBy: string }>(`/v1/tokens/${id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedBy).toBe('lead');

    const alone = await person.get('/v1/approvals');
    expect(alone).toMatchObject({ status: 401, body: { error: { code: 'invalid_token', message: 'the token was revoked' } } });
    const after = await Promise.all(Array.from({ length: 100 }, () => person.get('/v1/approvals?limit=1')));
    expect(after.map((r) => r.status)).toEqual(Array.from({ length: 100 }, () => 401));
    const approvalId = await pendingRefund();
    const writes = await Promise.all(Array.from({ length: 100 }, () => person.post(`/v1/approvals/${approvalId}/approve`, { reason: 'late' })));
    expect(writes.map((r) => r.status)).toEqual(Array.from({ length: 100 }, () => 401));
    expect((await admin.get<{ status: string }>(`/v1/approvals/${approvalId}`)).body.status).toBe('pending');
  });

  it('revoking one token races with its own requests: none after the revocation gets through', async () => {
    const { token, id } = await create(lead);
    const person = bearer(t.url, token);
    const inFlight = Array.from({ length: 100 }, () => person.get('/v1/approvals?limit=1'));
    expect((await lead.delete(`/v1/tokens/${id}`)).status).toBe(200);
    const settled = await Promise.all(inFlight);
    expect(settled.every((r) => r.status === 200 || r.status === 401)).toBe(true);
    expect((await Promise.all(Array.from({ length: 100 }, () => person.get('/v1/approvals?limit=1')))).every((r) => r.status === 401)).toBe(true);
  });

  it('is refused once expired', async () => {
    const { token, expiresAt } = await create(lead, { expiresInDays: 1 });
    expect(Date.parse(expiresAt ?? '')).toBe(t.clock.now() + DAY_MS);
    const person = bearer(t.url, token);
    expect((await person.get('/v1/approvals')).status).toBe(200);
    await t.clock.advance(DAY_MS);
    // The sessions of this suite expired too.
    [admin, lead, viewer] = [await t.admin(), await signIn(t.url, 'lead', PASSWORD), await signIn(t.url, 'watcher', PASSWORD)];
    expect(await person.get('/v1/approvals')).toMatchObject({ status: 401, body: { error: { code: 'invalid_token', message: 'the token has expired' } } });
    const many = await Promise.all(Array.from({ length: 100 }, () => person.get('/v1/approvals?limit=1')));
    expect(many.every((r) => r.status === 401)).toBe(true);
    expect(await lead.post('/v1/tokens', { name: 'past', expiresAt: new Date(t.clock.now() - 1000).toISOString() })).toMatchObject({ status: 400 });
  });

  it('refuses a forged or unknown token without saying more', async () => {
    const { token } = await create(lead);
    const forged = `${token.slice(0, 22)}${token[22] === 'A' ? 'B' : 'A'}${token.slice(23)}`;
    for (const wrong of [forged, 'apt_0123456789abcdef_' + 'A'.repeat(43), 'apt_nonsense']) {
      expect(await bearer(t.url, wrong).get('/v1/approvals')).toMatchObject({ status: 401, body: { error: { code: 'invalid_token', message: 'the token is not valid' } } });
    }
    // Agent keys still authenticate as agents, and are not people.
    expect((await t.agent('support-bot-1').get('/v1/approvals')).status).toBe(403);
  });

  it('lists and revokes only your own, unless you are an admin', async () => {
    const mine = await create(lead, { name: 'lead-own' });
    const theirs = await create(viewer, { name: 'watcher-own' });
    const leadList = await lead.get<{ tokens: { id: string; username: string }[] }>('/v1/tokens');
    expect(leadList.body.tokens.every((token) => token.username === 'lead')).toBe(true);
    expect(await lead.get('/v1/tokens?all=true')).toMatchObject({ status: 403 });
    expect(await lead.get('/v1/tokens?user=watcher')).toMatchObject({ status: 403 });
    // Another person's token is not found; it keeps working.
    expect(await lead.delete(`/v1/tokens/${theirs.id}`)).toMatchObject({ status: 404 });
    expect((await bearer(t.url, theirs.token).get('/v1/approvals')).status).toBe(200);

    const all = await admin.get<{ tokens: { id: string }[] }>('/v1/tokens?all=true');
    expect(all.body.tokens.map((token) => token.id)).toEqual(expect.arrayContaining([mine.id, theirs.id]));
    const watcherOnly = await admin.get<{ tokens: { username: string }[] }>('/v1/tokens?user=watcher');
    expect(watcherOnly.body.tokens.length).toBeGreaterThan(0);
    expect(watcherOnly.body.tokens.every((token) => token.username === 'watcher')).toBe(true);
    expect((await admin.delete(`/v1/tokens/${theirs.id}`)).status).toBe(200);
    expect((await bearer(t.url, theirs.token).get('/v1/approvals')).status).toBe(401);
    // A token revokes itself (airlock logout).
    expect((await bearer(t.url, mine.token).delete(`/v1/tokens/${mine.id}`)).status).toBe(200);
    expect((await bearer(t.url, mine.token).get('/v1/approvals')).status).toBe(401);
  });

  it('records when it was last used, and has no session to log out of', async () => {
    const { token, id } = await create(lead);
    const person = bearer(t.url, token);
    expect((await person.get('/v1/approvals')).status).toBe(200);
    let used: string | null = null;
    for (let i = 0; i < 100 && used === null; i++) {
      const { body } = await lead.get<{ tokens: { id: string; lastUsedAt: string | null }[] }>('/v1/tokens');
      used = body.tokens.find((token) => token.id === id)?.lastUsedAt ?? null;
      if (used === null) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(used).toBe(new Date(t.clock.now()).toISOString());
    expect(await person.post('/v1/auth/logout')).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect((await person.get('/v1/approvals')).status).toBe(200);
  });

  it('audits creation and revocation, never the secret', async () => {
    const { token, id } = await create(lead, { name: 'audited' });
    await lead.delete(`/v1/tokens/${id}`);
    const created = await admin.get<{ records: { actor: string; data: Record<string, unknown> }[] }>('/v1/audit?type=token.created');
    expect(created.body.records.find((record) => record.data.tokenId === id)).toMatchObject({ actor: 'user:lead', data: { username: 'lead', name: 'audited', role: null } });
    const revoked = await admin.get<{ records: { actor: string; data: Record<string, unknown> }[] }>('/v1/audit?type=token.revoked');
    expect(revoked.body.records.find((record) => record.data.tokenId === id)).toMatchObject({ actor: 'user:lead', data: { username: 'lead', name: 'audited' } });
    const everything = await admin.get<string>('/v1/audit/export?format=jsonl');
    expect(everything.body).not.toContain(token.split('_').slice(2).join('_'));
  });
});
