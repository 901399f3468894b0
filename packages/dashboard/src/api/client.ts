import type { Role } from './types';

/** An error answered by the API: `{ error: { code, message, … } }`, or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * Any failure as the API's coded error: an ApiError as it is; anything else (a bug, a parse error)
 * as `client_error` with its message in words.
 */
export function asApiError(failure: unknown): ApiError {
  return failure instanceof ApiError ? failure : new ApiError(0, 'client_error', failure instanceof Error ? failure.message : String(failure));
}

type Listener = () => void;

/**
 * Talks to the API with the session cookie (HttpOnly, sent by the browser) and, on every
 * state-changing request, the session's CSRF token in `x-airlock-csrf`.
 */
export class ApiClient {
  private csrfToken: string | undefined;
  private readonly unauthorized = new Set<Listener>();

  setCsrfToken(token: string | undefined): void {
    this.csrfToken = token;
  }

  /** Called when a request answers 401: the session is gone. */
  onUnauthorized(listener: Listener): () => void {
    this.unauthorized.add(listener);
    return () => this.unauthorized.delete(listener);
  }

  get<T>(path: string, query: Query = {}): Promise<T> {
    return this.send<T>('GET', withQuery(path, query));
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.send<T>('POST', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.send<T>('DELETE', path);
  }

  private async send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && this.csrfToken) headers['x-airlock-csrf'] = this.csrfToken;
    let response: Response;
    try {
      response = await fetch(path, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (error) {
      throw new ApiError(0, 'network_error', `the server did not answer (${error instanceof Error ? error.message : String(error)})`);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      const { code, message, ...details } = { code: 'http_error', message: `HTTP ${response.status}`, ...(error ?? {}) };
      if (response.status === 401 && path !== '/v1/auth/login') for (const listener of this.unauthorized) listener();
      throw new ApiError(response.status, code, message, details);
    }
    return parsed as T;
  }
}

/** Query parameters; a list repeats its parameter (`arg=a&arg=b`). */
export type Query = Record<string, string | number | readonly string[] | undefined>;

export function withQuery(path: string, query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (Array.isArray(value)) for (const item of value as readonly string[]) params.append(key, item);
    else if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export const api = new ApiClient();

/** What each role may do; the server enforces the same table (ROUTE_ACCESS). */
export const can = {
  approve: (role: Role): boolean => role === 'approver' || role === 'admin',
  author: (role: Role): boolean => role === 'policy-author' || role === 'admin',
  /** The kill switch: pausing and resuming are the admin's. */
  pause: (role: Role): boolean => role === 'admin',
  /** Agents, their keys, people and their roles: the admin's. */
  manage: (role: Role): boolean => role === 'admin',
};
