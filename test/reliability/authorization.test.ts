import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_ACCESS, type Caller as Principal } from '@airlock/server';
import { signIn } from '../../packages/server/test/support/http.js';
import { startTestServer, type TestServer } from '../../packages/server/test/support/server.js';
import { LONG, recordSummary } from './support.js';

/**
 * The authorization matrix: every route of the access table × every kind of caller, with the
 * status the table implies. Generated from ROUTE_ACCESS itself, and the table is checked against
 * the routes the server documents (openapi.json), so a route without an entry fails here.
 *
 * Expected: a caller the table admits is never refused for who it is (any status but 401/403: its
 * bogus parameters may earn 400/404/409/422); anyone else gets 401 (no credentials) or 403.
 * An agent's key only reaches its own approvals: another agent's key gets 403 on them.
 */
type Role = 'viewer' | 'approver' | 'policy-author' | 'admin';
type Who = 'anonymous' | 'agent' | 'other-agent' | Role | `${Role} token` | 'admin token as viewer';
const ROLES: Role[] = ['viewer', 'approver', 'policy-author', 'admin'];
const WHO: Who[] = ['anonymous', 'agent', 'other-agent', ...ROLES, ...ROLES.map((role) => `${role} token` as const), 'admin token as viewer'];
const PASSWORD = 'a long enough password';
/** Concurrent wrong logins per round, and rounds (each for a new username). */
const LOGIN_BURST = LONG ? 300 : 100;
const LOGIN_ROUNDS = LONG ? 10 : 1;

function admitted(access: (typeof ROUTE_ACCESS)[string], who: Who): boolean {
  if (access === 'public') return true;
  if (who === 'anonymous') return false;
  // A person's API token is the person (or the narrower role it was given).
  const as: Principal = who === 'other-agent' ? 'agent' : who === 'admin token as viewer' ? 'viewer' : (who.replace(/ token$/, '') as Principal);
  return access.includes(as);
}

describe('authorization matrix', () => {
  let t: TestServer;
  let approvalId = '';
  const headers: Record<Who, Record<string, string>> = {} as never;

  beforeAll(async () => {
    t = await startTestServer();
    const admin = await t.admin();
    for (const role of ['viewer', 'approver', 'policy-author'] as const) {
      expect((await admin.post('/v1/users', { username: `matrix-${role}`, password: PASSWORD, role })).status).toBe(201);
    }
    const opened = await t.agent('support-bot-1').post<{ approval: { id: string } }>('/v1/decide', { tool: 'issue_refund', args: { account_id: 'M-1', amount: 75, currency: 'USD' } });
    approvalId = opened.body.approval.id;
    headers.anonymous = {};
    headers.agent = { authorization: `Bearer ${t.keys['support-bot-1']}` };
    headers['other-agent'] = { authorization: `Bearer ${t.keys['devops-bot-1']}` };
    for (const role of ['viewer', 'approver', 'policy-author'] as const) {
      const person = await signIn(t.url, `matrix-${role}`, PASSWORD);
      headers[role] = { cookie: person.cookie, 'x-airlock-csrf': person.csrfToken };
    }
    const root = await t.admin();
    headers.admin = { cookie: root.cookie, 'x-airlock-csrf': root.csrfToken };
    // API tokens: bearer, no cookie, no CSRF header.
    const tokenOf = async (role: Role, narrowTo?: Role): Promise<Record<string, string>> => {
      const created = await fetch(`${t.url}/v1/tokens`, {
        method: 'POST',
        headers: { ...headers[role], 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'matrix', ...(narrowTo ? { role: narrowTo } : {}) }),
      });
      expect(created.status).toBe(201);
      return { authorization: `Bearer ${((await created.json()) as { token: string }).token}` };
    };
    for (const role of ROLES) headers[`${role} token`] = await tokenOf(role);
    headers['admin token as viewer'] = await tokenOf('admin', 'viewer');
  }, 60_000);
  afterAll(async () => {
    await t.dispose();
  });

  it('documents exactly the routes of the access table', async () => {
    const spec = (await (await fetch(`${t.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(spec.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`))
      .sort();
    const table = Object.keys(ROUTE_ACCESS).filter((key) => key !== 'GET /openapi.json').sort();
    expect(documented.filter((key) => key !== 'GET /openapi.json')).toEqual(table);
  });

  it(`checks at most 5 passwords of ${LOGIN_BURST} concurrent wrong logins for one user (${LOGIN_ROUNDS} round(s))`, async () => {
    // Black box, real scrypt: every password checked and found wrong is one auth.login_failed record.
    const admin = await t.admin();
    let excess = 0;
    let refused = 0;
    for (let round = 0; round < LOGIN_ROUNDS; round++) {
      const username = `burst-${round}`;
      expect((await admin.post('/v1/users', { username, password: PASSWORD, role: 'viewer' })).status).toBe(201);
      const replies = await Promise.all(
        Array.from({ length: LOGIN_BURST }, (_, i) =>
          fetch(`${t.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: `wrong ${i}` }) }),
        ),
      );
      const codes = replies.map((r) => r.status);
      const failed = await admin.get<{ records: { data: { username: string } }[] }>('/v1/audit?type=auth.login_failed&limit=1000');
      const checked = failed.body.records.filter((r) => r.data.username === username).length;
      excess += Math.max(0, checked - 5);
      refused += codes.filter((c) => c === 429).length;
      expect(checked).toBe(5);
      expect(codes.filter((c) => c === 401)).toHaveLength(5);
      expect(codes.filter((c) => c === 429)).toHaveLength(LOGIN_BURST - 5);
    }
    recordSummary({ suite: 'login burst', rounds: LOGIN_ROUNDS, cases: LOGIN_ROUNDS * LOGIN_BURST, faults: refused, lost: excess, notes: 'faults = attempts refused with 429; lost = passwords checked past the 5 allowed' });
  }, 120_000);

  it('admits exactly the callers the table names, for every route', async () => {
    // Logout ends the session it is called with: it goes last.
    const routes = Object.entries(ROUTE_ACCESS).sort(([a], [b]) => Number(a.includes('/logout')) - Number(b.includes('/logout')));
    const wrong: string[] = [];
    let cases = 0;
    for (const [key, access] of routes) {
      const [method, url] = key.split(' ') as [string, string];
      const path = url
        .replace(':version', '1')
        .replace(':id', url.startsWith('/v1/approvals') ? approvalId : url.startsWith('/v1/agents') ? 'support-bot-1' : 'x')
        .replace('*', 'index.html');
      const query = url.endsWith('/wait') ? '?timeout=0' : '';
      // A well-formed body where validation would otherwise answer before ownership is checked.
      const body = url.endsWith('/redeem') ? JSON.stringify({ tool: 'issue_refund', args: { account_id: 'M-1', amount: 75, currency: 'USD' } }) : '{}';
      for (const who of WHO) {
        const abort = new AbortController();
        const response = await fetch(`${t.url}${path}${query}`, {
          method,
          signal: abort.signal,
          headers: { ...headers[who], ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
          ...(method === 'POST' ? { body } : {}),
        });
        abort.abort(); // streams (SSE) answer with headers first; nothing more is needed
        cases++;
        const refused = response.status === 401 || response.status === 403;
        let expected = admitted(access, who) ? 'admitted' : who === 'anonymous' ? '401' : '403';
        // Another agent's key reaches the approval routes for agents, but not this agent's approval.
        if (who === 'other-agent' && expected === 'admitted' && url.startsWith('/v1/approvals/:id')) expected = '403';
        const actual = refused ? String(response.status) : 'admitted';
        if (actual !== expected) wrong.push(`${key} as ${who}: expected ${expected}, got ${response.status}`);
      }
    }
    expect(wrong).toEqual([]);
    recordSummary({ suite: 'authorization matrix', rounds: 1, cases, faults: 0, lost: wrong.length, notes: `${routes.length} routes × ${WHO.length} callers` });
  }, 120_000);
});
