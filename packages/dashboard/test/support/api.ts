/** The API as the test's own clients use it, beside the browser: agents and people over fetch. */
export interface Reply<T> {
  status: number;
  body: T;
}

export interface Client {
  get<T = Record<string, unknown>>(path: string): Promise<Reply<T>>;
  post<T = Record<string, unknown>>(path: string, body?: unknown): Promise<Reply<T>>;
}

function client(base: string, headers: Record<string, string>): Client {
  const send = async <T>(method: string, path: string, body?: unknown): Promise<Reply<T>> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  return { get: (path) => send('GET', path), post: (path, body) => send('POST', path, body ?? {}) };
}

export function agentClient(base: string, key: string): Client {
  return client(base, { authorization: `Bearer ${key}` });
}

export async function personClient(base: string, username: string, password: string): Promise<Client> {
  const response = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  if (response.status !== 200) throw new Error(`login failed: ${response.status}`);
  const { csrfToken } = (await response.json()) as { csrfToken: string };
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
  return client(base, { cookie, 'x-airlock-csrf': csrfToken });
}

/** The decide body of a refund, the call these tests make most (the seed policy: ≤ $50 allow, ≤ $500 approval, above that block). */
export const refund = (account: string, amount: number) => ({ tool: 'issue_refund', args: { account_id: account, amount, currency: 'USD' } });

/** What the tests read of a decide answer. */
export interface Decided {
  id: string;
  at: string;
  effect: string;
  approval?: { id: string };
}
