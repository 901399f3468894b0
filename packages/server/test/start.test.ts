import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../src/index.js';
import { agent, signIn } from './support/http.js';
import { tempDir } from './support/temp-dir.js';

const CLI = fileURLToPath(new URL('../../cli/bin/airlock.js', import.meta.url));

describe('first start', () => {
  const dirs: ReturnType<typeof tempDir>[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) dir.remove();
  });

  it('prints the URL, a random admin password that works, and demo keys that it also writes to a 0600 file', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const lines: string[] = [];
    const server = await startServer({ dataDir: dir.path, port: 0, print: (line) => lines.push(line) });
    try {
      expect(lines[0]).toBe(`Airlock is running at ${server.url}`);
      const login = lines.find((line) => line.includes('login:')) ?? '';
      const password = /admin \/ (\S+)/.exec(login)?.[1] ?? '';
      expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      await expect(signIn(server.url, 'admin', password)).resolves.toMatchObject({ csrfToken: expect.any(String) });

      const file = join(dir.path, 'demo-keys.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const keys = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { role: string; environment: string; key: string }>;
      expect(Object.keys(keys)).toEqual(['support-bot-1', 'devops-bot-1', 'finance-bot-1', 'workflow-bot-1']);
      for (const [id, entry] of Object.entries(keys)) {
        expect(lines.some((line) => line.includes(id) && line.includes(entry.key))).toBe(true);
        expect(entry).toMatchObject({ environment: 'production' });
      }
      const decided = await agent(server.url, keys['devops-bot-1']?.key ?? '').post('/v1/decide', { tool: 'get_metrics', args: { service: 'api', environment: 'production' } });
      expect(decided.body).toMatchObject({ effect: 'allow', rule: 'read-metrics' });
    } finally {
      await server.close();
    }
  });

  it('`airlock start` serves with flags and env, and exits 0 on SIGTERM', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const child = spawn(process.execPath, [CLI, 'start', '--port', '0', '--host', '127.0.0.1'], {
      env: { ...process.env, AIRLOCK_DATA_DIR: dir.path, AIRLOCK_ADMIN_PASSWORD: 'password from the environment' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const first = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
    const url = /running at (\S+)/.exec(first)?.[1] ?? '';
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect(signIn(url, 'admin', 'password from the environment')).resolves.toMatchObject({ csrfToken: expect.any(String) });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(statSync(join(dir.path, 'airlock.db')).size).toBeGreaterThan(0);
  });
});
