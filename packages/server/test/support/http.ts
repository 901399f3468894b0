export interface Reply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** What the outcome and anomaly tests read of a decide answer (the decision they report outcomes for). */
export interface DecisionBody {
  id: string;
  at: string;
  effect: string;
  /** Set when the effect is require_approval. */
  approval?: { id: string };
}

export interface Caller {
  get<T = Record<string, unknown>>(path: string, headers?: Record<string, string>): Promise<Reply<T>>;
  post<T = Record<string, unknown>>(path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply<T>>;
  delete<T = Record<string, unknown>>(path: string, headers?: Record<string, string>): Promise<Reply<T>>;
}

/** fetch with JSON in and out; `auth` adds the caller's credentials to every request. */
export function caller(base: string, auth: Record<string, string> = {}): Caller {
  const send = async <T>(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Reply<T>> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    return { status: response.status, headers: response.headers, body: (type.startsWith('application/json') && text ? JSON.parse(text) : text) as T };
  };
  return {
    get: (path, headers = {}) => send('GET', path, undefined, headers),
    post: (path, body, headers = {}) => send('POST', path, body, headers),
    delete: (path, headers = {}) => send('DELETE', path, undefined, headers),
  };
}

export function agent(base: string, key: string): Caller {
  return caller(base, { authorization: `Bearer ${key}` });
}

export interface Person extends Caller {
  csrfToken: string;
  cookie: string;
  /** The same session without the CSRF header. */
  withoutCsrf: Caller;
}

/** Signs in and returns a caller that sends the session cookie and the CSRF header. */
export async function signIn(base: string, username: string, password: string): Promise<Person> {
  const response = await fetch(`${base}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  const { csrfToken } = (await response.json()) as { csrfToken: string };
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
  return { ...caller(base, { cookie, 'x-airlock-csrf': csrfToken }), csrfToken, cookie, withoutCsrf: caller(base, { cookie }) };
}
