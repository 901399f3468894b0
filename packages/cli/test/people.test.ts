import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer, type ApprovalView, type RunningServer } from '@airlock/server';
import { createAirlock, type Airlock } from '@airlock/sdk';
import { ManualClock } from '../../server/test/support/manual-clock.js';

/**
 * The people commands as a person uses them: the built CLI in its own process against a real
 * server, an SDK-governed agent waiting on the approvals it decides.
 */
const BIN = 'packages/cli/bin/airlock.js';
const ADMIN_PASSWORD = 'people commands test password';
const LEAD_PASSWORD = 'a long enough lead password';
const VIEWER_PASSWORD = 'a long enough viewer password';
/** Each CLI process loads the whole package: on a busy machine a second or more per run. */
const SLOW = 180_000;

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe('airlock login, approvals, agents, users', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-cli-people-'));
  const clock = new ManualClock();
  let server: RunningServer;
  let support: Airlock;
  let supportKey: string;
  /** Each test's own config directory: where `airlock login` stores its credentials. */
  let config = '';
  let configs = 0;

  /** Runs the CLI as a user would: a separate process with its own environment and stdin. */
  function airlock(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<Result> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        env: { ...process.env, AIRLOCK_USER: '', AIRLOCK_PASSWORD: '', AIRLOCK_TOKEN: '', AIRLOCK_URL: server.url, XDG_CONFIG_HOME: config, ...env },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
      child.stdin.end(stdin ?? '');
    });
  }

  async function login(user: string, password: string): Promise<void> {
    const result = await airlock(['login', '--user', user, '--password-stdin'], {}, `${password}\n`);
    expect(result.status, result.stderr).toBe(0);
  }

  const credentialsFile = () => join(config, 'airlock', 'credentials.json');

  async function api<T>(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  /** The pending approval of support-bot-1 for this account, once the guarded call has opened it. */
  async function pendingFor(account: string): Promise<ApprovalView> {
    for (;;) {
      const listed = await airlock(['approvals', 'list', '--json', '--agent', 'support-bot-1']);
      expect(listed.status, listed.stderr).toBe(0);
      const found = (JSON.parse(listed.stdout) as ApprovalView[]).find((a) => a.args.account_id === account);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  beforeAll(async () => {
    server = await startServer({ dataDir: dir, port: 0, adminPassword: ADMIN_PASSWORD, clock, print: () => undefined, logError: () => undefined });
    supportKey = server.seeded.demoKeys?.find((key) => key.agent === 'support-bot-1')?.key ?? '';
    support = createAirlock({ url: server.url, apiKey: supportKey });
    const signIn = await fetch(`${server.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
    const { csrfToken } = (await signIn.json()) as { csrfToken: string };
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] as string;
    for (const user of [
      { username: 'lead', password: LEAD_PASSWORD, role: 'approver', groups: ['support-leads'] },
      { username: 'watcher', password: VIEWER_PASSWORD, role: 'viewer' },
    ]) {
      const created = await fetch(`${server.url}/v1/users`, { method: 'POST', headers: { cookie, 'x-airlock-csrf': csrfToken, 'content-type': 'application/json' }, body: JSON.stringify(user) });
      expect(created.status).toBe(201);
    }
  });
  afterAll(async () => {
    await support.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // A fresh config directory per test: no test signs in for another.
  const freshConfig = () => {
    config = join(dir, `config-${++configs}`);
  };

  it('login --password-stdin stores the token readable by its owner only; logout revokes it', async () => {
    freshConfig();
    const result = await airlock(['login', '--user', 'lead', '--password-stdin'], {}, `${LEAD_PASSWORD}\n`);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Signed in to ${server.url} as lead`);
    expect(result.stdout + result.stderr).not.toContain(LEAD_PASSWORD);
    expect(statSync(credentialsFile()).mode & 0o777).toBe(0o600);
    expect(statSync(join(config, 'airlock')).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(credentialsFile(), 'utf8')) as { url: string; token: string; tokenId: string };
    expect(stored.url).toBe(server.url);
    expect(stored.token).toMatch(/^apt_/);
    expect(JSON.stringify(stored)).not.toContain(LEAD_PASSWORD);

    // The stored token is used without a password, with AIRLOCK_URL unset too.
    const listed = await airlock(['approvals', 'list'], { AIRLOCK_URL: '' });
    expect(listed.status, listed.stderr).toBe(0);
    expect((await api('GET', '/v1/auth/session', stored.token)).body).toMatchObject({ user: { username: 'lead' }, tokenId: stored.tokenId });

    const out = await airlock(['logout']);
    expect(out.status, out.stderr).toBe(0);
    expect(existsSync(credentialsFile())).toBe(false);
    expect(await api('GET', '/v1/approvals', stored.token)).toMatchObject({ status: 401, body: { error: { code: 'invalid_token' } } });
    expect(await airlock(['approvals', 'list'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/not signed in: run airlock login/) });
  }, SLOW);

  it('refuses a wrong password (nothing stored), a credentials file others may read, and a token for another server', async () => {
    freshConfig();
    const wrong = await airlock(['login', '--user', 'lead', '--password-stdin'], {}, 'not the password\n');
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/sign-in failed \(invalid_credentials/);
    expect(existsSync(credentialsFile())).toBe(false);
    expect(await airlock(['login', '--user', 'lead'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--password-stdin/) });

    await login('lead', LEAD_PASSWORD);
    chmodSync(credentialsFile(), 0o644);
    const exposed = await airlock(['approvals', 'list']);
    expect(exposed.status).toBe(1);
    expect(exposed.stderr).toMatch(/may be read by others \(mode 0644\)/);
    chmodSync(credentialsFile(), 0o600);
    expect((await airlock(['approvals', 'list'])).status).toBe(0);
    const elsewhere = await airlock(['approvals', 'list', '--url', 'http://127.0.0.1:9']);
    expect(elsewhere.status).toBe(2);
    expect(elsewhere.stderr).toMatch(/signed in to .* not http:\/\/127\.0\.0\.1:9/);
  }, SLOW);

  it('approvals approve <id> --reason: the waiting agent runs its $75 refund once', async () => {
    freshConfig();
    await login('lead', LEAD_PASSWORD);
    const issueRefund = vi.fn(async (args: { account_id: string; amount: number; currency: string }) => ({ refunded: args.amount }));
    const requested = { account_id: 'CLI-APPROVE', amount: 75, currency: 'USD' };
    const running = support.guard('issue_refund', issueRefund)(requested);
    const pending = await pendingFor('CLI-APPROVE');
    expect(issueRefund).not.toHaveBeenCalled();

    const table = await airlock(['approvals', 'list']);
    expect(table.status, table.stderr).toBe(0);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['ID', 'AGENT', 'TOOL', 'ARGS', 'AGE', 'TIER']);
    const row = rows.find((line) => line.startsWith(pending.id)) ?? '';
    expect(row).toContain('support-bot-1');
    expect(row).toContain('issue_refund');
    expect(row).toContain('account_id=CLI-APPROVE amount=75 currency=USD');
    expect(row).toMatch(/\d+[smhd]\s+\S+ 0\/1$/);

    const shown = await airlock(['approvals', 'show', pending.id]);
    expect(shown.stdout).toContain('"account_id":"CLI-APPROVE"');

    const approved = await airlock(['approvals', 'approve', pending.id, '--reason', 'double charge, refund it']);
    expect(approved.status, approved.stderr).toBe(0);
    expect(approved.stdout).toBe(`Approved ${pending.id}: support-bot-1 may now run issue_refund.\n`);
    expect(await running).toEqual({ refunded: 75 });
    expect(issueRefund.mock.calls).toEqual([[requested]]);
    const after = await airlock(['approvals', 'show', pending.id, '--json']);
    expect(JSON.parse(after.stdout)).toMatchObject({ status: 'redeemed', resolvedBy: 'lead', resolutionReason: 'double charge, refund it' });
  }, SLOW);

  it('approvals approve --edit amount=50 runs the edited call; deny runs nothing', async () => {
    freshConfig();
    await login('lead', LEAD_PASSWORD);
    const issueRefund = vi.fn(async (args: { account_id: string; amount: number; currency: string }) => ({ refunded: args.amount }));
    const guarded = support.guard('issue_refund', issueRefund);
    const requested = { account_id: 'CLI-EDIT', amount: 75, currency: 'USD' };
    const running = guarded(requested);
    const pending = await pendingFor('CLI-EDIT');
    const edited = await airlock(['approvals', 'approve', pending.id, '--reason', 'goodwill capped at $50', '--edit', 'amount=50', '--json']);
    expect(edited.status, edited.stderr).toBe(0);
    expect(JSON.parse(edited.stdout)).toMatchObject({ status: 'approved', edited: true, args: { ...requested, amount: 50 } });
    expect(await running).toEqual({ airlock: 'approved_with_changes', args: { ...requested, amount: 50 }, result: { refunded: 50 } });
    expect(issueRefund.mock.calls).toEqual([[{ ...requested, amount: 50 }]]);

    issueRefund.mockClear();
    const refused = guarded({ account_id: 'CLI-DENY', amount: 75, currency: 'USD' });
    const other = await pendingFor('CLI-DENY');
    expect(await airlock(['approvals', 'deny', other.id])).toMatchObject({ status: 2, stderr: expect.stringMatching(/--reason/) });
    const denied = await airlock(['approvals', 'deny', other.id, '--reason', 'not eligible']);
    expect(denied.status, denied.stderr).toBe(0);
    expect(denied.stdout).toBe(`Denied ${other.id}: support-bot-1 will not run issue_refund.\n`);
    expect(await refused).toMatchObject({ airlock: 'blocked', code: 'approval_denied' });
    expect(issueRefund).not.toHaveBeenCalled();
  }, SLOW);

  it("a viewer's token lists but cannot approve; AIRLOCK_TOKEN works without a file", async () => {
    freshConfig();
    await login('watcher', VIEWER_PASSWORD);
    const { token } = JSON.parse(readFileSync(credentialsFile(), 'utf8')) as { token: string };
    const decided = await api<{ approval: { id: string } }>('POST', '/v1/decide', supportKey, { tool: 'issue_refund', args: { account_id: 'CLI-VIEW', amount: 75, currency: 'USD' } });
    const id = decided.body.approval.id;
    const refused = await airlock(['approvals', 'approve', id, '--reason', 'sure']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/forbidden: role viewer may not call POST/);
    freshConfig(); // no file: the variable alone
    const listed = await airlock(['approvals', 'list', '--json'], { AIRLOCK_TOKEN: token });
    expect(listed.status, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as ApprovalView[]).map((a) => a.id)).toContain(id);
    // The password path of before keeps working.
    const byPassword = await airlock(['approvals', 'show', id, '--json'], { AIRLOCK_USER: 'watcher', AIRLOCK_PASSWORD: VIEWER_PASSWORD });
    expect(JSON.parse(byPassword.stdout)).toMatchObject({ id, status: 'pending' });
  }, SLOW);

  it('approvals wait exits 0 approved, 1 denied, 3 still pending at --timeout, 4 on errors', async () => {
    freshConfig();
    await login('lead', LEAD_PASSWORD);
    const { token } = JSON.parse(readFileSync(credentialsFile(), 'utf8')) as { token: string };
    const open = async (account: string) =>
      (await api<{ approval: { id: string } }>('POST', '/v1/decide', supportKey, { tool: 'issue_refund', args: { account_id: account, amount: 75, currency: 'USD' } })).body.approval.id;

    const first = await open('CLI-WAIT-1');
    const waiting = airlock(['approvals', 'wait', first]);
    // The waiter is blocked on the server's long poll; decide meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await api('POST', `/v1/approvals/${first}/approve`, token, { reason: 'ok' })).status).toBe(200);
    const approved = await waiting;
    expect(approved.status, approved.stderr).toBe(0);
    expect(approved.stdout).toBe(`${first} approved by lead: ok\n`);

    const second = await open('CLI-WAIT-2');
    const waitingDenied = airlock(['approvals', 'wait', second, '--json']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await api('POST', `/v1/approvals/${second}/deny`, token, { reason: 'no' })).status).toBe(200);
    const denied = await waitingDenied;
    expect(denied.status).toBe(1);
    expect(JSON.parse(denied.stdout)).toMatchObject({ id: second, status: 'denied' });

    const third = await open('CLI-WAIT-3');
    const pending = await airlock(['approvals', 'wait', third, '--timeout', '1s']);
    expect(pending.status).toBe(3);
    expect(pending.stdout).toBe(`${third} is still pending\n`);
    expect((await airlock(['approvals', 'wait', 'apr_nope'])).status).toBe(4);
    expect((await airlock(['approvals', 'wait', third, '--no-such-flag'])).status).toBe(4);
    expect((await airlock(['approvals', 'wait', third], { AIRLOCK_TOKEN: 'apt_0123456789abcdef_' + 'A'.repeat(43) })).status).toBe(4);
  }, SLOW);

  it('agents create / list / keys rotate / keys revoke, users create / list, as an admin', async () => {
    freshConfig();
    await login('admin', ADMIN_PASSWORD);
    const created = await airlock(['agents', 'create', 'cli-bot', '--role', 'support', '--json']);
    expect(created.status, created.stderr).toBe(0);
    const { agent, key } = JSON.parse(created.stdout) as { agent: { id: string; role: string }; key: { id: string; key: string } };
    expect(agent).toMatchObject({ id: 'cli-bot', role: 'support' });
    const decide = (apiKey: string) => api<{ effect: string }>('POST', '/v1/decide', apiKey, { tool: 'get_account', args: { account_id: 'A-1' } });
    expect((await decide(key.key)).body.effect).toBe('allow');
    expect((await airlock(['agents', 'list'])).stdout).toMatch(/cli-bot\s+support\s+production/);

    const rotated = await airlock(['agents', 'keys', 'rotate', 'cli-bot']);
    expect(rotated.status, rotated.stderr).toBe(0);
    const fresh = /^(ak_\S+)$/m.exec(rotated.stdout)?.[1] ?? '';
    expect(rotated.stdout).toContain(`Revoked ${key.id}`);
    expect((await decide(key.key)).status).toBe(401);
    expect((await decide(fresh)).body.effect).toBe('allow');
    const keyId = /^API key (\S+)/.exec(rotated.stdout)?.[1] ?? '';
    expect((await airlock(['agents', 'keys', 'revoke', keyId])).status).toBe(0);
    expect((await decide(fresh)).status).toBe(401);
    expect((await airlock(['agents', 'keys', 'list', 'cli-bot', '--json'])).stdout).toContain(keyId);

    const user = await airlock(['users', 'create', 'newlead', '--role', 'approver', '--group', 'support-leads']);
    expect(user.status, user.stderr).toBe(0);
    const password = user.stdout.trimEnd().split('\n').at(-1) ?? '';
    expect(password.length).toBeGreaterThanOrEqual(12);
    const session = await fetch(`${server.url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'newlead', password }) });
    expect(session.status).toBe(200);
    const chosen = await airlock(['users', 'create', 'picked', '--role', 'viewer', '--password-stdin'], {}, 'a password I chose myself\n');
    expect(chosen.status, chosen.stderr).toBe(0);
    expect(chosen.stdout).not.toContain('a password I chose myself');
    const bot = await airlock(['users', 'create', 'harness', '--role', 'approver', '--group', 'support-leads', '--bot']);
    expect(bot.status, bot.stderr).toBe(0);
    expect(bot.stdout).toContain('Created bot harness (role approver');
    const listed = (await airlock(['users', 'list'])).stdout;
    expect(listed).toMatch(/newlead\s+person\s+approver\s+support-leads/);
    expect(listed).toMatch(/harness\s+bot\s+approver\s+support-leads/);

    // Not an admin: refused by the server.
    freshConfig();
    await login('lead', LEAD_PASSWORD);
    expect(await airlock(['agents', 'create', 'nope', '--role', 'support'])).toMatchObject({ status: 1, stderr: expect.stringMatching(/forbidden/) });
    expect(await airlock(['users', 'list'])).toMatchObject({ status: 1, stderr: expect.stringMatching(/forbidden/) });
  }, SLOW);

  it('approvals wait exits 2 when the approval expires', async () => {
    freshConfig();
    await login('lead', LEAD_PASSWORD);
    const decided = await api<{ approval: { id: string } }>('POST', '/v1/decide', supportKey, { tool: 'issue_refund', args: { account_id: 'CLI-EXPIRE', amount: 75, currency: 'USD' } });
    const id = decided.body.approval.id;
    const waiting = airlock(['approvals', 'wait', id]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Past every tier deadline and the expiry; timers an escalation sets fire on the next moves.
    let done = false;
    void waiting.then(() => (done = true));
    await clock.advance(7 * 24 * 60 * 60_000);
    for (let i = 0; i < 100 && !done; i++) {
      await clock.advance(60_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const expired = await waiting;
    expect(expired.status, expired.stderr).toBe(2);
    expect(expired.stdout).toBe(`${id} expired\n`);
  }, SLOW);
});
