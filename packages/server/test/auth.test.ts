import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_ACCESS } from '../src/access.js';
import { caller, signIn } from './support/http.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './support/server.js';

const PASSWORD = 'a long enough password';

/** Every route of the access table with its path parameters filled in. */
const ROUTES = Object.entries(ROUTE_ACCESS).map(([key, access]) => {
  const [method, url] = key.split(' ') as [string, string];
  return { key, method, path: url.replace(':version', '1').replace(':id', 'x'), access };
});

describe('people, sessions and access', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    const admin = await t.admin();
    for (const [username, role] of [
      ['viewer1', 'viewer'],
      ['author1', 'policy-author'],
      ['victim', 'viewer'],
    ] as const) {
      expect((await admin.post('/v1/users', { username, password: PASSWORD, role })).status).toBe(201);
    }
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('login sets an HttpOnly, SameSite=Strict session cookie and returns a CSRF token', async () => {
    const response = await fetch(`${t.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    expect(response.status).toBe(200);
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^airlock_session=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/');
    expect(cookie).not.toContain('Secure');
    const body = (await response.json()) as { csrfToken: string; user: { username: string; role: string } };
    expect(body.user).toMatchObject({ username: 'admin', role: 'admin' });
    expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(body)).not.toContain(cookie.split(';')[0]?.split('=')[1]);
  });

  it('refuses a wrong password with 401 and audits the failure without the password', async () => {
    const wrong = await caller(t.url).post('/v1/auth/login', { username: 'viewer1', password: 'not the password 123' });
    expect(wrong).toMatchObject({ status: 401, body: { error: { code: 'invalid_credentials' } } });
    const admin = await t.admin();
    const failed = await admin.get<{ records: { data: Record<string, unknown> }[] }>('/v1/audit?type=auth.login_failed');
    expect(failed.body.records[0]?.data).toMatchObject({ username: 'viewer1' });
    const everything = await admin.get<string>('/v1/audit/export?format=jsonl');
    expect(everything.body).not.toContain('not the password 123');
    expect(everything.body).not.toContain(ADMIN_PASSWORD);
    expect(everything.body).not.toContain(t.keys['support-bot-1']);
  });

  it('requires the CSRF header on state-changing requests of a session, not on reads', async () => {
    const admin = await t.admin();
    const missing = await admin.withoutCsrf.post('/v1/agents', { id: 'csrf-bot', role: 'support' });
    expect(missing).toMatchObject({ status: 403, body: { error: { code: 'csrf_token_invalid' } } });
    const wrong = await admin.withoutCsrf.post('/v1/agents', { id: 'csrf-bot', role: 'support' }, { 'x-airlock-csrf': 'x'.repeat(43) });
    expect(wrong.status).toBe(403);
    expect((await admin.withoutCsrf.get('/v1/agents')).status).toBe(200);
    expect((await admin.post('/v1/agents', { id: 'csrf-bot', role: 'support' })).status).toBe(201);
  });

  it('rate-limits failed logins per username and address: the sixth attempt gets 429, even with the right password', async () => {
    const anonymous = caller(t.url);
    for (let i = 0; i < 5; i++) {
      expect((await anonymous.post('/v1/auth/login', { username: 'victim', password: `guess number ${i}` })).status).toBe(401);
    }
    const limited = await anonymous.post('/v1/auth/login', { username: 'victim', password: PASSWORD });
    expect(limited).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Other usernames are not affected.
    expect((await anonymous.post('/v1/auth/login', { username: 'viewer1', password: PASSWORD })).status).toBe(200);
    t.clock.advance(61_000);
    expect((await anonymous.post('/v1/auth/login', { username: 'victim', password: PASSWORD })).status).toBe(200);
  });

  it('ends the session on logout and after it expires', async () => {
    const viewer = await signIn(t.url, 'viewer1', PASSWORD);
    expect((await viewer.get('/v1/auth/session')).body).toMatchObject({ user: { username: 'viewer1', role: 'viewer' }, csrfToken: viewer.csrfToken });
    expect((await viewer.post('/v1/auth/logout')).status).toBe(200);
    expect((await viewer.get('/v1/agents')).body).toMatchObject({ error: { code: 'invalid_session' } });

    const again = await signIn(t.url, 'viewer1', PASSWORD);
    t.clock.advance(12 * 60 * 60_000);
    expect((await again.get('/v1/agents')).status).toBe(401);
  });

  it.each(ROUTES.filter((r) => r.access !== 'public'))('$key without credentials → 401', async ({ method, path }) => {
    const response = await fetch(`${t.url}${path}`, { method, ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}) });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'unauthenticated' } });
  });

  it.each(ROUTES.filter((r) => r.access !== 'public' && !r.access.includes('agent')))('$key with an agent key → 403', async ({ method, path }) => {
    const response = await fetch(`${t.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${t.keys['support-bot-1']}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
      ...(method === 'POST' ? { body: '{}' } : {}),
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: 'forbidden' } });
  });

  it('gives each role what the access table says', async () => {
    const viewer = await signIn(t.url, 'viewer1', PASSWORD);
    const author = await signIn(t.url, 'author1', PASSWORD);
    expect((await viewer.get('/v1/audit')).status).toBe(200);
    expect((await viewer.get('/v1/policies')).status).toBe(200);
    expect((await viewer.post('/v1/policies/rollback')).status).toBe(403);
    expect((await viewer.get('/v1/users')).status).toBe(403);
    expect((await author.post('/v1/policies/validate', { files: [{ file: 'a.yaml', text: 'policy: x' }] })).status).toBe(422);
    expect((await author.post('/v1/agents', { id: 'nope', role: 'support' })).status).toBe(403);
    expect((await author.post('/v1/decide', { tool: 'get_account' })).status).toBe(403);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const { status, body } = await caller(t.url).get('/v1/nothing-here');
    expect(status).toBe(404);
    expect(body).toMatchObject({ error: { code: 'not_found' } });
  });
});
