import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnvironment } from '../src/index.js';
import { startCluster, type Cluster } from './support/cluster.js';
import { caller, type Person, type Reply } from './support/http.js';
import { ManualClock } from './support/manual-clock.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TcpRelay } from './support/tcp-relay.js';
import { settledCount, until, VerificationGate } from './support/verification-gate.js';

/**
 * The login throttle counts an attempt BEFORE the password is checked, so attempts made at once
 * cannot all be checked before the first failure is recorded. The observable: how many password
 * checks (scrypt) ran, counted by the server's injected verifier, which also holds the checks so
 * that "5 attempts are in the middle of being checked" is a state the test controls.
 */
const PASSWORD = 'a long enough password';
type LoginReply = Reply<{ error?: { code: string; retryAfter?: number } }>;

function login(url: string, username: string, password: string, headers: Record<string, string> = {}): Promise<LoginReply> {
  return caller(url).post('/v1/auth/login', { username, password }, headers);
}

function statuses(replies: LoginReply[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const reply of replies) counts[reply.status] = (counts[reply.status] ?? 0) + 1;
  return counts;
}

/**
 * 100 wrong attempts at once (spread over `urls`), password checks held until every attempt has
 * either been answered or is being checked; then the checks run.
 */
async function wrongBurst(gate: VerificationGate, urls: string[], username: string, headers: (i: number) => Record<string, string> = () => ({})): Promise<LoginReply[]> {
  gate.hold();
  const attempts = Array.from({ length: 100 }, (_, i) => login(urls[i % urls.length] as string, username, `wrong guess ${i}`, headers(i)));
  const settled = settledCount(attempts);
  await until(() => settled() + gate.waiting === 100, 'every attempt answered or being checked');
  gate.release();
  return Promise.all(attempts);
}

/**
 * Five wrong attempts are being checked (held); then a burst of 95 with the right password among
 * them (every tenth) arrives. The order is deterministic: the burst starts only once the five are
 * inside the password check.
 */
async function burstAfterFiveWrong(gate: VerificationGate, urls: string[], username: string): Promise<{ early: LoginReply[]; burst: LoginReply[]; right: LoginReply[] }> {
  gate.hold();
  const early = Array.from({ length: 5 }, (_, i) => login(urls[i % urls.length] as string, username, `early wrong ${i}`));
  await until(() => gate.waiting === 5, 'five attempts inside the password check');
  const burst = Array.from({ length: 95 }, (_, i) => login(urls[i % urls.length] as string, username, i % 10 === 0 ? PASSWORD : `late wrong ${i}`));
  const settled = settledCount(burst);
  await until(() => settled() + gate.waiting === 100, 'every attempt answered or being checked');
  gate.release();
  const [earlyReplies, burstReplies] = await Promise.all([Promise.all(early), Promise.all(burst)]);
  return { early: earlyReplies, burst: burstReplies, right: burstReplies.filter((_, i) => i % 10 === 0) };
}

async function failedLogins(admin: Person, username: string): Promise<{ username: string; client: string }[]> {
  const { body } = await admin.get<{ records: { data: { username: string; client: string } }[] }>('/v1/audit?type=auth.login_failed&limit=1000');
  return body.records.map((r) => r.data).filter((d) => d.username === username);
}

async function createUsers(admin: Person, names: string[]): Promise<void> {
  for (const username of names) expect((await admin.post('/v1/users', { username, password: PASSWORD, role: 'viewer' })).status).toBe(201);
}

function cookieOf(reply: LoginReply): string {
  return reply.headers.get('set-cookie') ?? '';
}

describe('login throttle, one instance', () => {
  const gate = new VerificationGate();
  let t: TestServer;
  let admin: Person;
  beforeAll(async () => {
    t = await startTestServer({ verifyPassword: gate.verify });
    admin = await t.admin();
    await createUsers(admin, ['burst1', 'burst2', 'spoofer', 'regular']);
  }, 60_000);
  afterAll(async () => {
    gate.release();
    await t?.dispose();
  });

  it('checks at most 5 passwords of 100 concurrent wrong logins for one user; the rest get 429 with Retry-After', async () => {
    const replies = await wrongBurst(gate, [t.url], 'burst1');
    expect(gate.checks).toBe(5);
    expect(statuses(replies)).toEqual({ 401: 5, 429: 95 });
    for (const reply of replies.filter((r) => r.status === 429)) {
      expect(reply.body.error?.code).toBe('rate_limited');
      const retryAfter = Number(reply.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    expect(await failedLogins(admin, 'burst1')).toHaveLength(5);
  });

  it('does not log in a burst containing the right password once 5 wrong attempts were counted ahead of it', async () => {
    const { early, burst, right } = await burstAfterFiveWrong(gate, [t.url], 'burst2');
    expect(gate.checks).toBe(5);
    expect(statuses(early)).toEqual({ 401: 5 });
    expect(statuses(burst)).toEqual({ 429: 95 });
    expect(right.every((r) => r.status === 429 && cookieOf(r) === '')).toBe(true);
    // The window is a minute: then the right password gets in.
    await t.clock.advance(61_000);
    expect((await login(t.url, 'burst2', PASSWORD)).status).toBe(200);
  });

  it('ignores X-Forwarded-For without AIRLOCK_TRUST_PROXY: a spoofed address per attempt does not evade the throttle', async () => {
    const spoofed = (i: number) => ({ 'x-forwarded-for': `198.51.100.${i % 250}` });
    const replies = await wrongBurst(gate, [t.url], 'spoofer', spoofed);
    expect(gate.checks).toBe(5);
    expect(statuses(replies)).toEqual({ 401: 5, 429: 95 });
    expect((await login(t.url, 'spoofer', PASSWORD, { 'x-forwarded-for': '203.0.113.250' })).status).toBe(429);
    expect((await failedLogins(admin, 'spoofer')).every((d) => d.client === '127.0.0.1')).toBe(true);
  });

  it('gives a successful login its place back: 21 logins in a row (one more than the per-username cap) are never throttled', async () => {
    for (let i = 0; i < 21; i++) expect((await login(t.url, 'regular', PASSWORD)).status).toBe(200);
  });

  it('sets the session cookie without Secure over plain http, and a forwarded https from an untrusted peer changes nothing', async () => {
    const plain = await login(t.url, 'regular', PASSWORD);
    expect(cookieOf(plain)).not.toMatch(/;\s*Secure/i);
    const claimed = await login(t.url, 'regular', PASSWORD, { 'x-forwarded-proto': 'https' });
    expect(claimed.status).toBe(200);
    expect(cookieOf(claimed)).not.toMatch(/;\s*Secure/i);
  });
});

describe('login throttle behind a trusted proxy (AIRLOCK_TRUST_PROXY=loopback)', () => {
  const gate = new VerificationGate();
  let t: TestServer;
  let admin: Person;
  beforeAll(async () => {
    const config = configFromEnvironment({}, { AIRLOCK_TRUST_PROXY: 'loopback' });
    t = await startTestServer({ ...config, verifyPassword: gate.verify });
    admin = await t.admin();
    await createUsers(admin, ['proxied', 'sprayed']);
  }, 60_000);
  afterAll(async () => {
    gate.release();
    await t?.dispose();
  });

  it('keys on the forwarded client address: one client locked out, another logs in; a spoofed left-hand entry does not help', async () => {
    const a = { 'x-forwarded-for': '203.0.113.1' };
    for (let i = 0; i < 5; i++) expect((await login(t.url, 'proxied', `wrong ${i}`, a)).status).toBe(401);
    expect((await login(t.url, 'proxied', PASSWORD, a)).status).toBe(429);
    // The proxy appends the address it saw; whatever the client put in front is not believed.
    expect((await login(t.url, 'proxied', PASSWORD, { 'x-forwarded-for': '198.51.100.7, 203.0.113.1' })).status).toBe(429);
    const b = await login(t.url, 'proxied', PASSWORD, { 'x-forwarded-for': '203.0.113.2' });
    expect(b.status).toBe(200);
    expect((await failedLogins(admin, 'proxied')).map((d) => d.client)).toEqual(Array(5).fill('203.0.113.1'));
  });

  it('caps attempts per username from all addresses: 100 concurrent from 100 addresses check at most 20 passwords', async () => {
    const replies = await wrongBurst(gate, [t.url], 'sprayed', (i) => ({ 'x-forwarded-for': `198.51.100.${i + 1}` }));
    expect(gate.checks).toBe(20);
    expect(statuses(replies)).toEqual({ 401: 20, 429: 80 });
    expect((await login(t.url, 'sprayed', PASSWORD, { 'x-forwarded-for': '192.0.2.77' })).status).toBe(429);
    // Other people are not affected.
    expect((await login(t.url, 'proxied', PASSWORD, { 'x-forwarded-for': '198.51.100.1' })).status).toBe(200);
  });

  it('marks the session cookie Secure when the proxy says the request came over https (and clears it the same way)', async () => {
    const secure = await login(t.url, 'proxied', PASSWORD, { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' });
    expect(secure.status).toBe(200);
    expect(cookieOf(secure)).toMatch(/^airlock_session=[^;]+;.*;\s*Secure/i);
    expect(cookieOf(secure)).toMatch(/HttpOnly/);
    const plain = await login(t.url, 'proxied', PASSWORD, { 'x-forwarded-for': '203.0.113.9' });
    expect(cookieOf(plain)).not.toMatch(/;\s*Secure/i);

    const session = cookieOf(secure).split(';')[0] as string;
    const { csrfToken } = secure.body as unknown as { csrfToken: string };
    const out = await caller(t.url, { cookie: session, 'x-airlock-csrf': csrfToken }).post('/v1/auth/logout', undefined, { 'x-forwarded-proto': 'https' });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/^airlock_session=;.*;\s*Secure/i);
  });
});

describe('AIRLOCK_SECURE_COOKIES=true', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(configFromEnvironment({}, { AIRLOCK_SECURE_COOKIES: 'true' }));
  }, 60_000);
  afterAll(async () => {
    await t?.dispose();
  });

  it('marks the session cookie Secure even when the request came over plain http', async () => {
    const reply = await fetch(`${t.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'correct horse battery staple' }) });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('set-cookie')).toMatch(/;\s*Secure/i);
  });
});

describe('login settings from the environment', () => {
  it('reads AIRLOCK_TRUST_PROXY as proxy addresses, and refuses "trust everyone" and hop counts', () => {
    expect(configFromEnvironment({}, {}).trustProxy).toBeUndefined();
    expect(configFromEnvironment({}, { AIRLOCK_TRUST_PROXY: '' }).trustProxy).toBe(false);
    expect(configFromEnvironment({}, { AIRLOCK_TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(configFromEnvironment({}, { AIRLOCK_TRUST_PROXY: '10.0.0.0/8, loopback,::1, fd00::/8' }).trustProxy).toEqual(['10.0.0.0/8', 'loopback', '::1', 'fd00::/8']);
    for (const bad of ['true', '1', '10.0.0.0/33', 'proxy.example.com', '10.0.0.1/8/1']) {
      expect(() => configFromEnvironment({}, { AIRLOCK_TRUST_PROXY: bad }), bad).toThrow(/AIRLOCK_TRUST_PROXY/);
    }
  });

  it('reads AIRLOCK_SECURE_COOKIES (true, false, auto) and the login limits', () => {
    expect(configFromEnvironment({}, { AIRLOCK_SECURE_COOKIES: 'true' }).secureCookies).toBe(true);
    expect(configFromEnvironment({}, { AIRLOCK_SECURE_COOKIES: 'false' }).secureCookies).toBe(false);
    expect(configFromEnvironment({}, { AIRLOCK_SECURE_COOKIES: 'auto' }).secureCookies).toBe('auto');
    expect(() => configFromEnvironment({}, { AIRLOCK_SECURE_COOKIES: 'yes please' })).toThrow(/AIRLOCK_SECURE_COOKIES/);
    const limits = configFromEnvironment({}, { AIRLOCK_LOGIN_ATTEMPTS_PER_MINUTE: '3', AIRLOCK_LOGIN_ATTEMPTS_PER_USER_PER_MINUTE: '10' });
    expect(limits).toMatchObject({ loginAttemptsPerMinute: 3, loginAttemptsPerUserPerMinute: 10 });
  });
});

/** Two instances over one PostgreSQL and one Redis (reached through a relay the test can cut). */
describe('login throttle across two instances sharing Redis', () => {
  const gate = new VerificationGate();
  const relay = new TcpRelay(6379);
  const clock = new ManualClock();
  let cluster: Cluster;
  let admin: Person;
  let urls: string[];
  beforeAll(async () => {
    await relay.open();
    cluster = await startCluster(2, { redisUrl: `redis://127.0.0.1:${relay.port}`, verifyPassword: gate.verify, clock });
    urls = cluster.instances.map((s) => s.url);
    admin = await cluster.admin(0);
    await createUsers(admin, ['fleet1', 'fleet2', 'fleet3']);
  }, 120_000);
  afterAll(async () => {
    gate.release();
    await cluster?.dispose();
    await relay.cut();
  });

  it('checks at most 5 passwords of 100 concurrent wrong logins spread over both instances', async () => {
    const replies = await wrongBurst(gate, urls, 'fleet1');
    expect(gate.checks).toBe(5);
    expect(statuses(replies)).toEqual({ 401: 5, 429: 95 });
    expect(replies.filter((r) => r.status === 429).every((r) => Number(r.headers.get('retry-after')) >= 1)).toBe(true);
    expect(await failedLogins(admin, 'fleet1')).toHaveLength(5);
  }, 60_000);

  it('does not log in a burst with the right password on either instance once 5 wrong attempts were counted ahead of it', async () => {
    const { early, burst, right } = await burstAfterFiveWrong(gate, urls, 'fleet2');
    expect(gate.checks).toBe(5);
    expect(statuses(early)).toEqual({ 401: 5 });
    expect(statuses(burst)).toEqual({ 429: 95 });
    expect(right.every((r) => r.status === 429)).toBe(true);
    await clock.advance(61_000);
    expect((await login(urls[1] as string, 'fleet2', PASSWORD)).status).toBe(200);
  }, 60_000);

  it('refuses logins with 503 store_unavailable, checking no password, while Redis is unreachable; recovers by itself', async () => {
    await relay.cut();
    gate.hold();
    gate.release(); // counting from 0, not holding
    const during = await Promise.all(urls.map((url) => login(url, 'fleet3', PASSWORD)));
    for (const reply of during) expect(reply).toMatchObject({ status: 503, body: { error: { code: 'store_unavailable' } } });
    expect(gate.checks).toBe(0);

    await relay.open();
    let status = 0;
    const deadline = Date.now() + 15_000;
    while (status !== 200 && Date.now() < deadline) {
      status = (await login(urls[0] as string, 'fleet3', PASSWORD)).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status).toBe(200);
  }, 60_000);
});
