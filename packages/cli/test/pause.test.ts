import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@airlock/server';

const BIN = 'packages/cli/bin/airlock.js';
const PASSWORD = 'kill switch test password';

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a user would (a separate process), asynchronously: the server is in this one. */
function airlock(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      // No token, and no credentials of `airlock login` from the machine's own config directory.
      env: { ...process.env, AIRLOCK_USER: '', AIRLOCK_PASSWORD: '', AIRLOCK_URL: '', AIRLOCK_TOKEN: '', XDG_CONFIG_HOME: join(tmpdir(), 'airlock-cli-pause-no-config'), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('airlock pause / resume / pauses', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-cli-pause-'));
  let server: RunningServer;
  let login: Record<string, string>;
  let supportKey: string;

  beforeAll(async () => {
    server = await startServer({ dataDir: dir, port: 0, adminPassword: PASSWORD, print: () => undefined, logError: () => undefined });
    login = { AIRLOCK_URL: server.url, AIRLOCK_USER: 'admin', AIRLOCK_PASSWORD: PASSWORD };
    supportKey = server.seeded.demoKeys?.find((key) => key.agent === 'support-bot-1')?.key ?? '';
    expect(supportKey).not.toBe('');
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const readAccount = async () => {
    const response = await fetch(`${server.url}/v1/decide`, {
      method: 'POST',
      headers: { authorization: `Bearer ${supportKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tool: 'get_account', args: { account_id: 'A-1' } }),
    });
    return (await response.json()) as { effect: string; reason: string; error?: { code: string } };
  };

  it('pauses an agent, lists the pause, and resumes it; the agent is refused in between', async () => {
    expect((await readAccount()).effect).toBe('allow');

    const paused = await airlock(['pause', '--agent', 'support-bot-1', '--reason', 'refund loop, INC-7', '--json'], login);
    expect(paused.status, paused.stderr).toBe(0);
    const pause = JSON.parse(paused.stdout) as { id: string; scope: string; target: string; active: boolean; createdBy: string };
    expect(pause).toMatchObject({ scope: 'agent', target: 'support-bot-1', active: true, createdBy: 'admin' });

    const refused = await readAccount();
    expect(refused).toMatchObject({ effect: 'block', error: { code: 'paused' } });
    expect(refused.reason).toContain('refund loop, INC-7');

    const listed = await airlock(['pauses'], login);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(pause.id);
    expect(listed.stdout).toContain('agent support-bot-1');
    expect(listed.stdout).toContain('refund loop, INC-7');

    const resumed = await airlock(['resume', pause.id], login);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toBe('Resumed agent support-bot-1.\n');
    expect((await readAccount()).effect).toBe('allow');

    expect((await airlock(['pauses'], login)).stdout).toBe('Nothing is paused.\n');
    const all = await airlock(['pauses', '--all', '--json'], login);
    const history = JSON.parse(all.stdout) as { id: string; active: boolean; resumedBy: string }[];
    expect(history.find((p) => p.id === pause.id)).toMatchObject({ active: false, resumedBy: 'admin' });
  });

  it('takes the login from flags as well as from the environment', async () => {
    const result = await airlock(['pause', '--fleet', '--reason', 'drill', '--url', server.url, '--user', 'admin', '--password', PASSWORD]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Paused the fleet: every call in it is refused \(paused\) until `airlock resume (pau_\S+)`\.\n$/);
    expect((await readAccount()).error?.code).toBe('paused');
    const id = /airlock resume (\S+)`/.exec(result.stdout)?.[1] ?? '';
    expect((await airlock(['resume', id], login)).status).toBe(0);
    expect((await readAccount()).effect).toBe('allow');
  });

  it('pauses for a while (--for): the pause says when it ends, and so does the listing', async () => {
    const before = Date.now();
    const paused = await airlock(['pause', '--tool', 'get_account', '--reason', 'vendor outage', '--for', '2h'], login);
    expect(paused.status, paused.stderr).toBe(0);
    const endsAt = /until (\S+): every call/.exec(paused.stdout)?.[1] ?? '';
    expect(Date.parse(endsAt) - before).toBeGreaterThanOrEqual(2 * 3_600_000);
    expect(Date.parse(endsAt) - before).toBeLessThan(2 * 3_600_000 + 60_000);
    expect((await readAccount()).error?.code).toBe('paused');
    expect((await airlock(['pauses'], login)).stdout).toContain(`active until ${endsAt}`);
    expect((await airlock(['resume', '--tool', 'get_account'], login)).status).toBe(0);
    expect((await readAccount()).effect).toBe('allow');
  });

  it('resumes by scope, without the id', async () => {
    expect((await airlock(['pause', '--role', 'support', '--reason', 'role drill'], login)).status).toBe(0);
    expect((await readAccount()).error?.code).toBe('paused');
    const resumed = await airlock(['resume', '--role', 'support'], login);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toBe('Resumed role support.\n');
    expect((await readAccount()).effect).toBe('allow');
    const again = await airlock(['resume', '--role', 'support'], login);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/role support is not paused/);
  });

  it.each([
    ['resume with neither id nor scope', ['resume'], 2, /name the pause to resume/],
    ['resume with both', ['resume', 'pau_x', '--fleet'], 2, /name the pause to resume/],
    ['no scope', ['pause', '--reason', 'x'], 2, /exactly one of --fleet/],
    ['two scopes', ['pause', '--fleet', '--tool', 'issue_refund', '--reason', 'x'], 2, /exactly one of --fleet/],
    ['no reason', ['pause', '--tool', 'issue_refund'], 2, /--reason/],
    ['both --for and --until', ['pause', '--fleet', '--reason', 'x', '--for', '1h', '--until', '2030-01-01T00:00:00Z'], 2, /--for or --until/],
    ['a malformed duration', ['pause', '--fleet', '--reason', 'x', '--for', 'a while'], 1, /invalid_request|duration/],
    ['unknown pause', ['resume', 'pau_nope'], 1, /not_found/],
  ] as [string, string[], number, RegExp][])('refuses %s', async (_name, args, status, message) => {
    const result = await airlock(args, login);
    expect(result.status).toBe(status);
    expect(result.stderr).toMatch(message);
  });

  it('says what is wrong with the login, and pauses nothing', async () => {
    const missing = await airlock(['pause', '--fleet', '--reason', 'x', '--url', server.url]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--user and --password/);
    const wrong = await airlock(['pause', '--fleet', '--reason', 'x'], { ...login, AIRLOCK_PASSWORD: 'wrong' });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/sign-in failed/);
    const unreachable = await airlock(['pauses'], { ...login, AIRLOCK_URL: 'http://127.0.0.1:9' });
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9/);
    expect((await readAccount()).effect).toBe('allow');
  });
});
