import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from './support/cluster.js';
import { agent, caller, signIn, type Person } from './support/http.js';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * Management from the console (issue 20 item 4): agents and their keys (issue, rotate, revoke,
 * last seen), people (role, approver groups, disable), every change audited, and nothing of it
 * for anyone but an admin.
 */
const PASSWORD = 'a long enough password';

interface Key {
  id: string;
  agent: string;
  key: string;
  revokedAt: string | null;
  replaces?: string;
}
interface ListedAgent {
  id: string;
  role: string;
  environment: string;
  activeKeys: number;
  lastSeen: string | null;
}
interface UserView {
  username: string;
  role: string;
  groups: string[];
  disabledAt: string | null;
}
interface AuditPage {
  records: { type: string; actor: string; agent: string | null; data: Record<string, unknown> }[];
}
interface ErrorBody {
  error: { code: string };
}

/** A call every support agent may make: small refunds are allowed. */
const REFUND = { tool: 'issue_refund', args: { account_id: 'MGMT-1', amount: 5, currency: 'USD' } };

describe('management API', () => {
  let t: TestServer;
  let admin: Person;
  let viewer: Person;

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.admin();
    expect((await admin.post('/v1/users', { username: 'watcher', password: PASSWORD, role: 'viewer' })).status).toBe(201);
    viewer = await signIn(t.url, 'watcher', PASSWORD);
  });
  afterAll(async () => {
    await t.dispose();
  });

  async function newAgent(id: string): Promise<Key> {
    expect((await admin.post('/v1/agents', { id, role: 'support', environment: 'staging' })).status).toBe(201);
    const issued = await admin.post<Key>(`/v1/agents/${id}/keys`);
    expect(issued.status).toBe(201);
    return issued.body;
  }

  async function auditOf(type: string): Promise<AuditPage['records']> {
    const page = await admin.get<AuditPage>(`/v1/audit?type=${type}&limit=200`);
    expect(page.status).toBe(200);
    return page.body.records;
  }

  it('lists an agent with its role, environment, active keys, and when it was last seen', async () => {
    const issued = await newAgent('mgmt-lister');
    const before = (await admin.get<{ agents: ListedAgent[] }>('/v1/agents')).body.agents.find((a) => a.id === 'mgmt-lister');
    expect(before).toMatchObject({ role: 'support', environment: 'staging', activeKeys: 1, lastSeen: null });
    await t.clock.advance(5_000);
    expect((await agent(t.url, issued.key).post('/v1/decide', REFUND)).status).toBe(200);
    const after = (await admin.get<{ agents: ListedAgent[] }>('/v1/agents')).body.agents.find((a) => a.id === 'mgmt-lister');
    expect(after?.lastSeen).toBe(new Date(t.clock.now()).toISOString());
  });

  it('rotates a key: the new one works, the old one is refused at once, and the rotation is audited', async () => {
    const first = await newAgent('mgmt-rotator');
    const old = agent(t.url, first.key);
    // Used once, so the old key sits in the server's key cache when it is rotated.
    expect((await old.post('/v1/decide', REFUND)).status).toBe(200);
    const rotated = await admin.post<Key>(`/v1/keys/${first.id}/rotate`);
    expect(rotated.status).toBe(201);
    expect(rotated.body).toMatchObject({ agent: 'mgmt-rotator', replaces: first.id, revokedAt: null });
    expect(rotated.body.key).toMatch(/^ak_[0-9a-f]{16}_/);
    expect(rotated.body.id).not.toBe(first.id);
    const refused = await old.post<ErrorBody>('/v1/decide', REFUND);
    expect(refused.status).toBe(401);
    expect((await agent(t.url, rotated.body.key).post('/v1/decide', REFUND)).status).toBe(200);
    // The old key cannot be rotated again (someone else did): a second successor would be a second valid key.
    const again = await admin.post<ErrorBody>(`/v1/keys/${first.id}/rotate`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('key_revoked');
    const record = (await auditOf('key.rotated')).find((r) => r.data.replaces === first.id);
    expect(record).toMatchObject({ actor: 'user:admin', agent: 'mgmt-rotator', data: { keyId: rotated.body.id, replaces: first.id, agent: 'mgmt-rotator' } });
    // The record carries ids only, never a secret.
    expect(JSON.stringify(record)).not.toContain(rotated.body.key.split('_')[2]);
  });

  it('100 concurrent rotations of one key: exactly one succeeds and exactly one key is valid afterwards', async () => {
    const first = await newAgent('mgmt-race');
    const replies = await Promise.all(Array.from({ length: 100 }, () => admin.post<Key & ErrorBody>(`/v1/keys/${first.id}/rotate`)));
    const won = replies.filter((r) => r.status === 201);
    expect(won).toHaveLength(1);
    expect(replies.filter((r) => r.status === 409 && r.body.error.code === 'key_revoked')).toHaveLength(99);
    const keys = (await admin.get<{ keys: Key[] }>('/v1/agents/mgmt-race/keys')).body.keys;
    expect(keys).toHaveLength(2);
    expect(keys.filter((k) => k.revokedAt === null).map((k) => k.id)).toEqual([won[0]?.body.id]);
    expect((await agent(t.url, first.key).post('/v1/decide', REFUND)).status).toBe(401);
    expect((await agent(t.url, won[0]?.body.key as string).post('/v1/decide', REFUND)).status).toBe(200);
    expect((await auditOf('key.rotated')).filter((r) => r.data.replaces === first.id)).toHaveLength(1);
  });

  it('revokes a key with an audit record; revoking twice changes nothing', async () => {
    const issued = await newAgent('mgmt-revoked');
    expect((await admin.delete(`/v1/keys/${issued.id}`)).status).toBe(200);
    expect((await admin.delete(`/v1/keys/${issued.id}`)).status).toBe(200);
    expect((await agent(t.url, issued.key).post('/v1/decide', REFUND)).status).toBe(401);
    expect((await auditOf('key.revoked')).filter((r) => r.data.keyId === issued.id)).toHaveLength(1);
    const listed = (await admin.get<{ agents: ListedAgent[] }>('/v1/agents')).body.agents.find((a) => a.id === 'mgmt-revoked');
    expect(listed?.activeKeys).toBe(0);
  });

  it("changes a person's role from their next request, audited; the last admin keeps the role", async () => {
    expect((await admin.post('/v1/users', { username: 'promoted', password: PASSWORD, role: 'viewer' })).status).toBe(201);
    const person = await signIn(t.url, 'promoted', PASSWORD);
    expect((await person.get('/v1/policies/suggestions')).status).toBe(200);
    expect((await person.post('/v1/policies/validate', { files: [] })).status).toBe(403);
    const changed = await admin.post<UserView>('/v1/users/promoted/role', { role: 'policy-author' });
    expect(changed.status).toBe(200);
    expect(changed.body.role).toBe('policy-author');
    // Same session, new role.
    expect((await person.post('/v1/policies/validate', { files: [] })).status).not.toBe(403);
    expect((await auditOf('user.role_changed')).find((r) => r.data.username === 'promoted')).toMatchObject({
      actor: 'user:admin',
      data: { role: 'policy-author', previous: 'viewer' },
    });
    const last = await admin.post<ErrorBody>('/v1/users/admin/role', { role: 'viewer' });
    expect(last.status).toBe(409);
    expect(last.body.error.code).toBe('last_admin');
    expect((await admin.get('/v1/users')).status).toBe(200);
  });

  it('disables a person: session ended, sign-in and tokens refused until enabled; audited', async () => {
    expect((await admin.post('/v1/users', { username: 'leaver', password: PASSWORD, role: 'approver', groups: ['support-leads'] })).status).toBe(201);
    const person = await signIn(t.url, 'leaver', PASSWORD);
    const token = await person.post<{ token: string }>('/v1/tokens', { name: 'script' });
    expect(token.status).toBe(201);
    const bearer = caller(t.url, { authorization: `Bearer ${token.body.token}` });
    expect((await bearer.get('/v1/auth/session')).status).toBe(200);

    const disabled = await admin.post<UserView>('/v1/users/leaver/disable');
    expect(disabled.status).toBe(200);
    expect(disabled.body.disabledAt).not.toBeNull();
    expect((await person.get('/v1/auth/session')).status).toBe(401);
    expect((await bearer.get('/v1/auth/session')).status).toBe(401);
    await expect(signIn(t.url, 'leaver', PASSWORD)).rejects.toThrow(/401/);
    const users = (await admin.get<{ users: UserView[] }>('/v1/users')).body.users;
    expect(users.find((u) => u.username === 'leaver')?.disabledAt).not.toBeNull();

    expect((await admin.post('/v1/users/leaver/enable')).status).toBe(200);
    expect((await bearer.get('/v1/auth/session')).status).toBe(200);
    await signIn(t.url, 'leaver', PASSWORD);
    const types = (await admin.get<AuditPage>('/v1/audit?limit=200')).body.records.filter((r) => r.data.username === 'leaver').map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(['user.disabled', 'user.enabled']));

    const self = await admin.post<ErrorBody>('/v1/users/admin/disable');
    expect(self.status).toBe(403);
  });

  it('a viewer reads the agent list and changes nothing: 403 on every management mutation, nothing happens', async () => {
    const issued = await newAgent('mgmt-guarded');
    expect((await viewer.get('/v1/agents')).status).toBe(200);
    // People and their groups are the admin's to see.
    expect((await viewer.get('/v1/users')).status).toBe(403);
    const attempts = [
      () => viewer.post('/v1/agents', { id: 'viewer-made', role: 'support' }),
      () => viewer.post('/v1/agents/mgmt-guarded/keys'),
      () => viewer.post(`/v1/keys/${issued.id}/rotate`),
      () => viewer.delete(`/v1/keys/${issued.id}`),
      () => viewer.post('/v1/users', { username: 'viewer-made', password: PASSWORD, role: 'admin' }),
      () => viewer.post('/v1/users/watcher/role', { role: 'admin' }),
      () => viewer.post('/v1/users/watcher/groups', { groups: ['support-leads'] }),
      () => viewer.post('/v1/users/admin/disable'),
      () => viewer.post('/v1/users/watcher/enable'),
    ];
    for (const attempt of attempts) {
      const reply = await attempt();
      expect(reply.status, JSON.stringify(reply.body)).toBe(403);
    }
    // Nothing changed: the key still works and is the only one, the viewer is still a viewer.
    expect((await agent(t.url, issued.key).post('/v1/decide', REFUND)).status).toBe(200);
    expect((await admin.get<{ keys: Key[] }>('/v1/agents/mgmt-guarded/keys')).body.keys).toHaveLength(1);
    expect((await admin.get<{ agents: ListedAgent[] }>('/v1/agents')).body.agents.some((a) => a.id === 'viewer-made')).toBe(false);
    const watcher = (await admin.get<{ users: UserView[] }>('/v1/users')).body.users.find((u) => u.username === 'watcher');
    expect(watcher).toMatchObject({ role: 'viewer', groups: [], disabledAt: null });
  });
});

/** Two instances over PostgreSQL + Redis: a rotation on one is refused on the other, and concurrent rotations on both still leave one key. */
describe('key rotation across instances', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(2);
  }, 120_000);
  afterAll(async () => {
    await cluster?.dispose();
  });

  it('100 concurrent rotations over two instances leave exactly one valid key; the old key is refused on both', async () => {
    const admins = [await cluster.admin(0), await cluster.admin(1)];
    const url = (i: number) => cluster.instances[i]?.url as string;
    expect((await admins[0]?.post('/v1/agents', { id: 'cluster-rotor', role: 'support' }))?.status).toBe(201);
    const first = (await admins[0]?.post<Key>('/v1/agents/cluster-rotor/keys'))?.body as Key;
    // Both instances have the key in their caches.
    for (const i of [0, 1]) expect((await agent(url(i), first.key).post('/v1/decide', REFUND)).status).toBe(200);
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => (admins[i % 2] as Person).post<Key>(`/v1/keys/${first.id}/rotate`)));
    const won = replies.filter((r) => r.status === 201);
    expect(won).toHaveLength(1);
    expect(replies.filter((r) => r.status === 409)).toHaveLength(99);
    const keys = (await admins[1]?.get<{ keys: Key[] }>('/v1/agents/cluster-rotor/keys'))?.body.keys ?? [];
    expect(keys.filter((k) => k.revokedAt === null).map((k) => k.id)).toEqual([won[0]?.body.id]);
    // The other instance hears of the revocation over the shared bus; wait for it (bounded), then it must hold.
    for (const i of [0, 1]) {
      let status = 0;
      for (let attempt = 0; attempt < 100 && status !== 401; attempt++) {
        status = (await agent(url(i), first.key).post('/v1/decide', REFUND)).status;
        if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(status).toBe(401);
      expect((await agent(url(i), won[0]?.body.key as string).post('/v1/decide', REFUND)).status).toBe(200);
    }
  }, 60_000);
});
