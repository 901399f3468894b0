import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/index.js';
import { configFromEnvironment } from '../src/config.js';
import { mapClaims, parseOidcConfig, type OidcConfig } from '../src/sso-config.js';
import { caller, type Caller, type Person } from './support/http.js';
import { CookieJar, freePort, send, signInAtProvider, startProvider, type TestProvider } from './support/oidc-provider.js';
import { startTestServer, type TestServer } from './support/server.js';
import { tempDir } from './support/temp-dir.js';

/**
 * Single sign-on end to end over HTTP: Airlock against a real OpenID Connect provider
 * (`oidc-provider`, in this process on a free port), the whole authorization code flow with
 * PKCE driven as a browser would (the provider's own login and consent pages), and the hostile
 * cases: a replayed, tampered, foreign or concurrent callback, an injected code, missing claims.
 */
const ACCOUNTS = {
  alice: { preferred_username: 'alice', name: 'Alice Approver', groups: ['staff', 'airlock-approvers'] },
  victor: { preferred_username: 'victor', name: 'Victor Viewer', groups: ['staff'] },
  nogroups: { preferred_username: 'nogroups' },
  weird: { preferred_username: 'weird', groups: ['__proto__', 'constructor', 7, { admin: true }] },
  squatter: { preferred_username: 'admin', groups: ['airlock-admins'] },
};

function mapping(issuer: string, provider?: TestProvider): OidcConfig {
  return parseOidcConfig(
    {
      issuer,
      clientId: provider?.clientId ?? 'airlock-console',
      clientSecret: provider?.clientSecret ?? 'a client secret only this test knows 0123456789',
      name: 'Test IdP',
      scopes: ['openid', 'profile', 'groups'],
      roleClaim: 'groups',
      roles: { 'airlock-approvers': 'approver', 'airlock-admins': 'admin' },
      approverGroups: { 'airlock-approvers': ['support-leads'] },
    },
    'test',
  );
}

interface Session {
  user: { username: string; role: string; groups: string[] };
  csrfToken: string;
}

describe('single sign-on (OpenID Connect)', () => {
  let t: TestServer;
  let provider: TestProvider;
  let admin: Person;
  let callbackUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    // Airlock reads the provider's discovery document on the first sign-in, so it can start first.
    t = await startTestServer({ oidc: mapping(issuer) });
    callbackUrl = `${t.url}/v1/auth/oidc/callback`;
    provider = await startProvider(port, callbackUrl, ACCOUNTS);
    admin = await t.admin();
  });
  afterAll(async () => {
    await t?.dispose();
    await provider?.close();
  });

  /** Starts at Airlock, signs in at the provider as `login`; answers the callback URL (not yet visited) and the browser's jar. */
  async function toCallback(login: string, jar = new CookieJar()): Promise<{ url: string; jar: CookieJar }> {
    const url = await signInAtProvider(jar, `${t.url}/v1/auth/oidc/start`, login, callbackUrl);
    return { url, jar };
  }

  /** Visits the callback; answers where it redirects and a caller with the session it opened, if any. */
  async function finish(url: string, jar: CookieJar): Promise<{ location: string; person?: Caller & { session: Session } }> {
    const response = await send(jar, url);
    expect(response.status).toBe(303);
    const location = response.headers.get('location') ?? '';
    const cookie = jar.cookies.get('airlock_session');
    if (location !== '/' || cookie === undefined) return { location };
    const plain = caller(t.url, { cookie: `airlock_session=${cookie}` });
    const session = (await plain.get<Session>('/v1/auth/session')).body;
    return { location, person: { ...caller(t.url, { cookie: `airlock_session=${cookie}`, 'x-airlock-csrf': session.csrfToken }), session } };
  }

  async function ssoRecords(): Promise<Record<string, unknown>[]> {
    const { body } = await admin.get<{ records: { data: Record<string, unknown> }[] }>('/v1/audit?type=user.sso_login&limit=500');
    return body.records.map((record) => record.data);
  }

  async function signInAs(login: string) {
    const { url, jar } = await toCallback(login);
    return finish(url, jar);
  }

  it('tells the console how people sign in', async () => {
    const { body } = await caller(t.url).get('/v1/auth/methods');
    expect(body).toEqual({ password: true, sso: { name: 'Test IdP', url: '/v1/auth/oidc/start' } });
  });

  it('starts with an authorization code request with PKCE S256, state and nonce, bound to the browser', async () => {
    const jar = new CookieJar();
    const response = await send(jar, `${t.url}/v1/auth/oidc/start`);
    expect(response.status).toBe(303);
    const url = new URL(response.headers.get('location') ?? '');
    expect(url.origin).toBe(provider.issuer);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('redirect_uri')).toBe(callbackUrl);
    const binding = response.headers.getSetCookie().find((line) => line.startsWith('airlock_oidc='));
    expect(binding).toMatch(/HttpOnly/);
    expect(binding).toMatch(/SameSite=Lax/);
    expect(binding).toMatch(/Path=\/v1\/auth\/oidc/);
  });

  it('signs in a person of the approvers group as an approver with the mapped approver groups', async () => {
    const { location, person } = await signInAs('alice');
    expect(location).toBe('/');
    expect(person?.session.user).toMatchObject({ username: 'alice', role: 'approver', groups: ['support-leads'] });
    // The session is the same as a password sign-in's: it approves a real pending approval.
    const decided = await t.agent('support-bot-1').post<{ effect: string; approval: { id: string } }>('/v1/decide', {
      tool: 'issue_refund',
      args: { account_id: 'SSO-1', amount: 75, currency: 'USD' },
    });
    expect(decided.body.effect).toBe('require_approval');
    const approved = await person?.post(`/v1/approvals/${decided.body.approval.id}/approve`, { reason: 'checked at the provider' });
    expect(approved?.status).toBe(200);
    expect(approved?.body).toMatchObject({ status: 'approved', resolvedBy: 'alice' });
    const records = await ssoRecords();
    expect(records.filter((data) => data.username === 'alice')).toEqual([
      expect.objectContaining({ username: 'alice', subject: 'alice', issuer: provider.issuer, role: 'approver', groups: ['support-leads'], created: true }),
    ]);
  });

  it('signs in a person of no mapped group as a viewer, who may not approve', async () => {
    const { person } = await signInAs('victor');
    expect(person?.session.user).toMatchObject({ username: 'victor', role: 'viewer', groups: [] });
    const decided = await t.agent('support-bot-1').post<{ approval: { id: string } }>('/v1/decide', {
      tool: 'issue_refund',
      args: { account_id: 'SSO-2', amount: 75, currency: 'USD' },
    });
    const refused = await person?.post(`/v1/approvals/${decided.body.approval.id}/approve`, { reason: 'no' });
    expect(refused?.status).toBe(403);
    expect(refused?.body).toMatchObject({ error: { code: 'forbidden' } });
  });

  it('gives least privilege (viewer, no approver groups) when the role claim is missing or holds junk', async () => {
    expect((await signInAs('nogroups')).person?.session.user).toMatchObject({ role: 'viewer', groups: [] });
    expect((await signInAs('weird')).person?.session.user).toMatchObject({ role: 'viewer', groups: [] });
  });

  it('takes role and groups from the provider at every sign-in (a person who left the group loses approving)', async () => {
    provider.accounts.set('alice', { preferred_username: 'alice', groups: ['staff'] });
    try {
      const { person } = await signInAs('alice');
      expect(person?.session.user).toMatchObject({ username: 'alice', role: 'viewer', groups: [] });
      const last = (await ssoRecords()).find((data) => data.username === 'alice');
      expect(last).toMatchObject({ created: false, role: 'viewer', previous: { role: 'approver', groups: ['support-leads'] } });
      const users = await admin.get<{ users: { username: string; role: string }[] }>('/v1/users');
      expect(users.body.users.filter((user) => user.username === 'alice')).toEqual([expect.objectContaining({ role: 'viewer' })]);
    } finally {
      provider.accounts.set('alice', ACCOUNTS.alice);
    }
  });

  it("refuses a person an administrator disabled here, though the provider still signs them in", async () => {
    expect((await signInAs('nogroups')).location).toBe('/');
    expect((await admin.post('/v1/users/nogroups/disable', {})).status).toBe(200);
    try {
      expect(await signInAs('nogroups')).toEqual({ location: '/?sso_error=sso_user_disabled' });
      const { body } = await admin.get<{ records: { data: Record<string, unknown> }[] }>('/v1/audit?type=auth.sso_failed&limit=500');
      expect(body.records.map((record) => record.data)).toContainEqual(expect.objectContaining({ code: 'sso_user_disabled', subject: 'nogroups' }));
    } finally {
      expect((await admin.post('/v1/users/nogroups/enable', {})).status).toBe(200);
    }
    expect((await signInAs('nogroups')).location).toBe('/');
  });

  it('refuses a replayed callback: the sign-in is taken once', async () => {
    const { url, jar } = await toCallback('victor');
    const replay = jar.clone();
    expect((await finish(url, jar)).location).toBe('/');
    expect(await finish(url, replay)).toEqual({ location: '/?sso_error=sso_state_invalid' });
  });

  it('refuses a tampered state and a callback in a browser that did not start the sign-in', async () => {
    const before = (await ssoRecords()).length;
    const { url, jar } = await toCallback('victor');
    const tampered = new URL(url);
    tampered.searchParams.set('state', `${tampered.searchParams.get('state') ?? ''}x`);
    expect(await finish(tampered.href, jar.clone())).toEqual({ location: '/?sso_error=sso_state_invalid' });
    // Login CSRF: the attacker's own callback URL opened in the victim's browser (no binding cookie, or another one).
    const victim = new CookieJar();
    expect(await finish(url, victim)).toEqual({ location: '/?sso_error=sso_state_invalid' });
    const other = new CookieJar();
    await send(other, `${t.url}/v1/auth/oidc/start`);
    expect(await finish(url, other)).toEqual({ location: '/?sso_error=sso_state_invalid' });
    expect(await finish(`${t.url}/v1/auth/oidc/callback`, jar.clone())).toEqual({ location: '/?sso_error=sso_state_invalid' });
    expect((await ssoRecords()).length).toBe(before);
  });

  it('opens at most one session for 100 concurrent callbacks with the same code', async () => {
    const before = (await ssoRecords()).length;
    const { url, jar } = await toCallback('alice');
    const answers = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const copy = jar.clone();
        const response = await send(copy, url);
        return { location: response.headers.get('location'), session: copy.cookies.get('airlock_session') };
      }),
    );
    const signedIn = answers.filter((answer) => answer.location === '/');
    expect(signedIn).toHaveLength(1);
    expect(signedIn[0]?.session).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(answers.filter((answer) => answer.location === '/?sso_error=sso_state_invalid')).toHaveLength(99);
    expect(answers.filter((answer) => answer.session !== undefined)).toHaveLength(1);
    expect((await ssoRecords()).length).toBe(before + 1);
  });

  it('refuses a code injected into another sign-in (PKCE and the provider bind it to its own)', async () => {
    const first = await toCallback('alice');
    const code = new URL(first.url).searchParams.get('code') ?? '';
    // The attacker starts a sign-in of their own and pastes the victim's code into its callback.
    const attacker = new CookieJar();
    const started = await send(attacker, `${t.url}/v1/auth/oidc/start`);
    const state = new URL(started.headers.get('location') ?? '').searchParams.get('state') ?? '';
    const forged = new URL(callbackUrl);
    forged.search = new URLSearchParams({ code, state, iss: provider.issuer }).toString();
    expect(await finish(forged.href, attacker)).toEqual({ location: '/?sso_error=sso_failed' });
    const failed = await admin.get<{ records: { data: Record<string, unknown> }[] }>('/v1/audit?type=auth.sso_failed&limit=5');
    expect(failed.body.records[0]?.data).toMatchObject({ code: 'sso_failed', issuer: provider.issuer });
  });

  it("refuses a provider's person whose username belongs to another Airlock user", async () => {
    expect(await signInAs('squatter')).toEqual({ location: '/?sso_error=sso_username_taken' });
    const users = await admin.get<{ users: { username: string; role: string }[] }>('/v1/users');
    expect(users.body.users.filter((user) => user.username === 'admin')).toHaveLength(1);
  });

  it('answers sso_not_configured on a server without a provider', async () => {
    const plain = await startTestServer();
    try {
      const start = await caller(plain.url).get('/v1/auth/oidc/start');
      expect(start.status).toBe(404);
      expect(start.body).toMatchObject({ error: { code: 'sso_not_configured' } });
      expect((await caller(plain.url).get('/v1/auth/methods')).body).toEqual({ password: true, sso: null });
    } finally {
      await plain.dispose();
    }
  });
});

describe('password sign-in switched off', () => {
  it('refuses password sign-in with 403 password_login_disabled and tells the console', async () => {
    const t = await startTestServer({ oidc: mapping('http://127.0.0.1:9'), passwordLogin: false });
    try {
      const { status, body } = await caller(t.url).post('/v1/auth/login', { username: 'admin', password: 'correct horse battery staple' });
      expect(status).toBe(403);
      expect(body).toMatchObject({ error: { code: 'password_login_disabled' } });
      expect((await caller(t.url).get('/v1/auth/methods')).body).toEqual({ password: false, sso: { name: 'Test IdP', url: '/v1/auth/oidc/start' } });
      // The provider does not answer: 502 sso_unavailable, nothing stored.
      const start = await caller(t.url).get('/v1/auth/oidc/start');
      expect(start.status).toBe(502);
      expect(start.body).toMatchObject({ error: { code: 'sso_unavailable' } });
    } finally {
      await t.dispose();
    }
  });

  it('will not start with password sign-in off and no provider (nobody could sign in)', async () => {
    const dir = tempDir();
    try {
      await expect(startServer({ dataDir: dir.path, port: 0, passwordLogin: false, print: () => undefined, logError: () => undefined })).rejects.toThrow(/no single sign-on/);
    } finally {
      dir.remove();
    }
  });
});

describe('claims to role and approver groups', () => {
  const config = mapping('https://idp.example.com');

  it('maps values to the most privileged mapped role and the union of approver groups', () => {
    const both = { ...config, approverGroups: { a: ['x', 'y'], b: ['y', 'z'] }, roles: { a: 'approver' as const, b: 'policy-author' as const, c: 'admin' as const } };
    expect(mapClaims({ sub: 's', preferred_username: 'p', groups: ['b', 'a'] }, both)).toEqual({ ok: true, username: 'p', role: 'policy-author', groups: ['x', 'y', 'z'] });
    expect(mapClaims({ sub: 's', groups: ['c', 'a'] }, both)).toMatchObject({ role: 'admin', username: 's' });
    expect(mapClaims({ sub: 's', groups: 'a' }, both)).toMatchObject({ role: 'approver' });
  });

  it('falls back to the default role, or refuses with defaultRole none', () => {
    expect(mapClaims({ sub: 's', groups: { 'airlock-approvers': true } }, config)).toMatchObject({ ok: true, role: 'viewer', groups: [] });
    expect(mapClaims({ sub: 's', groups: ['toString', 'hasOwnProperty'] }, config)).toMatchObject({ ok: true, role: 'viewer', groups: [] });
    expect(mapClaims({ sub: 's' }, { ...config, defaultRole: 'none' })).toMatchObject({ ok: false, code: 'sso_no_role' });
  });

  it('refuses a person without a usable username or subject', () => {
    expect(mapClaims({ preferred_username: '' }, config)).toMatchObject({ ok: false, code: 'sso_claim_invalid' });
    expect(mapClaims({ sub: 'x'.repeat(129) }, config)).toMatchObject({ ok: false, code: 'sso_claim_invalid' });
    expect(mapClaims({ sub: 'a\nb' }, config)).toMatchObject({ ok: false, code: 'sso_claim_invalid' });
  });

  it('reads the configuration from the environment and refuses a plain-http provider off loopback', () => {
    const env = {
      AIRLOCK_OIDC_ISSUER: 'https://idp.example.com/realms/acme',
      AIRLOCK_OIDC_CLIENT_ID: 'airlock',
      AIRLOCK_OIDC_ROLES: 'airlock-admins=admin; airlock-approvers=approver',
      AIRLOCK_OIDC_APPROVER_GROUPS: 'airlock-approvers=support-leads,support-managers;finance=finance-approvers',
      AIRLOCK_OIDC_DEFAULT_ROLE: 'none',
      AIRLOCK_PASSWORD_LOGIN: 'off',
    };
    const config = configFromEnvironment({}, env);
    expect(config.passwordLogin).toBe(false);
    expect(config.oidc).toMatchObject({
      issuer: 'https://idp.example.com/realms/acme',
      roles: { 'airlock-admins': 'admin', 'airlock-approvers': 'approver' },
      approverGroups: { 'airlock-approvers': ['support-leads', 'support-managers'], finance: ['finance-approvers'] },
      defaultRole: 'none',
      scopes: ['openid', 'profile', 'email'],
      allowHttp: false,
    });
    expect(() => configFromEnvironment({}, { ...env, AIRLOCK_OIDC_ISSUER: 'http://idp.example.com' })).toThrow(/https/);
    expect(() => configFromEnvironment({}, { ...env, AIRLOCK_OIDC_ROLES: 'x=superuser' })).toThrow(/roles\.x/);
    expect(() => configFromEnvironment({}, { AIRLOCK_OIDC_CLIENT_ID: 'airlock' })).toThrow(/AIRLOCK_OIDC_ISSUER/);
  });
});
