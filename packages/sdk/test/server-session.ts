/** A person signed in to a real Airlock server (session cookie and CSRF token), for SDK tests. */
export interface ServerSession {
  post(path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  get(path: string): Promise<{ status: number; body: Record<string, unknown> }>;
  delete(path: string): Promise<{ status: number; body: Record<string, unknown> }>;
}

export async function signIn(url: string, username: string, password: string): Promise<ServerSession> {
  const response = await fetch(`${url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const { csrfToken } = (await response.json()) as { csrfToken: string };
  const send = async (method: string, path: string, body?: unknown) => {
    const answer = await fetch(`${url}${path}`, {
      method,
      headers: { cookie, 'x-airlock-csrf': csrfToken, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
  };
  return { post: (path, body) => send('POST', path, body ?? {}), get: (path) => send('GET', path), delete: (path) => send('DELETE', path) };
}
