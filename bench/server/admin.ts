/** What every server bench does through the admin API: sign in, register the bench agent, issue its key. */

/** The admin password the benches start their servers with (AIRLOCK_ADMIN_PASSWORD). */
export const ADMIN_PASSWORD = 'bench admin password';

export async function json<T>(url: string, init: RequestInit): Promise<{ body: T; headers: Headers }> {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${await response.text()}`);
  return { body: (await response.json()) as T, headers: response.headers };
}

/** Signs in as admin and issues a key for a new support agent. */
export async function benchKey(base: string): Promise<string> {
  const login = await json<{ csrfToken: string }>(`${base}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  const headers = { cookie: (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '', 'x-airlock-csrf': login.body.csrfToken, 'content-type': 'application/json' };
  await json(`${base}/v1/agents`, { method: 'POST', headers, body: JSON.stringify({ id: 'bench-bot-1', role: 'support', environment: 'production' }) });
  return (await json<{ key: string }>(`${base}/v1/agents/bench-bot-1/keys`, { method: 'POST', headers, body: '{}' })).body.key;
}
