import { chmodSync, mkdirSync, openSync, closeSync, writeSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { apiPath, type ApiMethod, type ApiPath, type ApiRequest, type ApiResponse } from '@airlock/sdk/api';

/**
 * How the people commands (pause, approvals, agents, users, …) reach a server as a person:
 * a personal API token (AIRLOCK_TOKEN, or the one `airlock login` stored), or a password sign-in
 * (--user/--password, AIRLOCK_USER/AIRLOCK_PASSWORD) that opens a session for this one run.
 */

export const DEFAULT_URL = 'http://127.0.0.1:7300';

export interface ServerLoginOptions {
  url?: string;
  user?: string;
  password?: string;
}

export interface Io {
  stdout: Writable;
  stderr: Writable;
}

export type Env = Record<string, string | undefined>;

export type Method = ApiMethod;

/** A failure the command reports as one line and an exit code (1 by default, 2 for usage). */
export class CommandFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
  }
}

/**
 * One server, as one person. Requests name a route of the API by method and path template; its
 * parameters, query, body and answer are typed from the server's own description (`@airlock/sdk/api`).
 */
export interface ServerClient {
  readonly url: string;
  call<M extends Method, P extends ApiPath<M>>(method: M, route: P, request: ApiRequest<M, P>): Promise<ApiResponse<M, P>>;
  /** Ends what this run opened (a password session); a token stays valid. */
  close(): Promise<void>;
}

/** What `airlock login` stores: one server and a token for it. */
export interface StoredCredentials {
  url: string;
  token: string;
  tokenId: string;
  username: string;
}

export function normalizeUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

/** `$XDG_CONFIG_HOME/airlock/credentials.json`, or `~/.config/airlock/credentials.json`. */
export function credentialsPath(env: Env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), '.config');
  return join(base, 'airlock', 'credentials.json');
}

/** The stored credentials; undefined when there are none. Refused when others may read the file. */
export function readCredentials(env: Env): StoredCredentials | undefined {
  const path = credentialsPath(env);
  let text: string;
  try {
    const mode = statSync(path).mode & 0o777;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new CommandFailure(`${path} may be read by others (mode ${mode.toString(8).padStart(4, '0')}): run chmod 600 on it, or airlock login again`);
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<StoredCredentials>;
  if (typeof parsed.url !== 'string' || typeof parsed.token !== 'string' || typeof parsed.tokenId !== 'string') {
    throw new CommandFailure(`${path} is not what airlock login writes: run airlock login again`);
  }
  return { url: normalizeUrl(parsed.url), token: parsed.token, tokenId: parsed.tokenId, username: parsed.username ?? '' };
}

/**
 * Writes the credentials readable by their owner only (0600, in a 0700 directory): a fresh file
 * created with that mode and renamed over the old one, so no moment exists where the token is in
 * a file others may read.
 */
export function writeCredentials(env: Env, credentials: StoredCredentials): string {
  const path = credentialsPath(env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(credentials, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  chmodSync(temporary, 0o600); // whatever the umask
  renameSync(temporary, path);
  return path;
}

export function deleteCredentials(env: Env): void {
  rmSync(credentialsPath(env), { force: true });
}

/**
 * The person to act as, in order: --user/--password flags; AIRLOCK_TOKEN; AIRLOCK_USER and
 * AIRLOCK_PASSWORD; the credentials `airlock login` stored (only for the server they were stored
 * for: a token is never sent to another server). The server: --url, AIRLOCK_URL, the stored
 * credentials' server, then the default.
 */
export async function connect(options: ServerLoginOptions, env: Env): Promise<ServerClient> {
  const named = options.url ?? env.AIRLOCK_URL;
  const explicitUrl = named ? normalizeUrl(named) : undefined;
  if (options.user !== undefined || options.password !== undefined) {
    return PasswordSession.login(explicitUrl ?? DEFAULT_URL, options.user ?? env.AIRLOCK_USER, options.password ?? env.AIRLOCK_PASSWORD);
  }
  if (env.AIRLOCK_TOKEN) return new TokenClient(explicitUrl ?? DEFAULT_URL, env.AIRLOCK_TOKEN);
  if (env.AIRLOCK_USER || env.AIRLOCK_PASSWORD) return PasswordSession.login(explicitUrl ?? DEFAULT_URL, env.AIRLOCK_USER, env.AIRLOCK_PASSWORD);
  const stored = readCredentials(env);
  if (stored) {
    if (explicitUrl !== undefined && explicitUrl !== stored.url) {
      throw new CommandFailure(`signed in to ${stored.url}, not ${explicitUrl}: run airlock login --url ${explicitUrl}, or set AIRLOCK_TOKEN`, 2);
    }
    return new TokenClient(stored.url, stored.token);
  }
  throw new CommandFailure('not signed in: run airlock login, or set AIRLOCK_TOKEN (or --user and --password)', 2);
}

/** Runs one command body as a person; maps failures to a message and an exit code. */
export async function withServer(options: ServerLoginOptions, io: Io, env: Env, body: (client: ServerClient) => Promise<number | void>): Promise<number> {
  try {
    const client = await connect(options, env);
    try {
      return (await body(client)) ?? 0;
    } finally {
      await client.close();
    }
  } catch (error) {
    return reportFailure(error, io);
  }
}

/** A CommandFailure as one line on stderr and its exit code; anything else is rethrown. */
export function reportFailure(error: unknown, io: Io): number {
  if (error instanceof CommandFailure) {
    io.stderr.write(`airlock: ${error.message}\n`);
    return error.exitCode;
  }
  throw error;
}

/** A person's API token: sent as a bearer credential, no session, no CSRF token. */
class TokenClient implements ServerClient {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  call<M extends Method, P extends ApiPath<M>>(method: M, route: P, request: ApiRequest<M, P>): Promise<ApiResponse<M, P>> {
    return send(this.url, method, route, request, { authorization: `Bearer ${this.token}` });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A password sign-in: a session cookie and its CSRF token, for this run only. */
export class PasswordSession implements ServerClient {
  private constructor(
    readonly url: string,
    private readonly cookie: string,
    private readonly csrf: string,
  ) {}

  static async login(url: string, username: string | undefined, password: string | undefined): Promise<PasswordSession> {
    if (!username || !password) throw new CommandFailure('sign in with --user and --password (or AIRLOCK_USER and AIRLOCK_PASSWORD)', 2);
    const response = await request(`${url}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    const body = (await readJson(response)) as Partial<ApiResponse<'POST', '/v1/auth/login'>>;
    if (!response.ok) throw failure(response, body, 'sign-in failed');
    const cookie = (response.headers.getSetCookie?.() ?? []).map((header) => header.split(';')[0] ?? '').find((pair) => pair.startsWith('airlock_session='));
    if (!cookie || !body.csrfToken) throw new CommandFailure('sign-in answered without a session');
    return new PasswordSession(url, cookie, body.csrfToken);
  }

  call<M extends Method, P extends ApiPath<M>>(method: M, route: P, request: ApiRequest<M, P>): Promise<ApiResponse<M, P>> {
    const headers: Record<string, string> = { cookie: this.cookie };
    if (method !== 'GET') headers['x-airlock-csrf'] = this.csrf;
    return send(this.url, method, route, request, headers);
  }

  /** Ends the session on the server, so a CLI run leaves no live session behind. */
  async close(): Promise<void> {
    await this.call('POST', '/v1/auth/logout', {}).catch(() => undefined);
  }
}

/** An error answer of the server, with its code. */
export class ServerError extends CommandFailure {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message, 1);
  }
}

async function send<M extends Method, P extends ApiPath<M>>(base: string, method: M, route: P, parts: ApiRequest<M, P>, auth: Record<string, string>): Promise<ApiResponse<M, P>> {
  const { params, query, body } = parts as { params?: Record<string, string>; query?: object; body?: unknown };
  const path = apiPath(route, params, query);
  const withBody = method === 'POST';
  const response = await request(`${base}${path}`, {
    method,
    headers: { ...auth, ...(withBody ? { 'content-type': 'application/json' } : {}) },
    ...(withBody ? { body: JSON.stringify(body ?? {}) } : {}),
  });
  const parsed = await readJson(response);
  if (!response.ok) throw failure(response, parsed, `${method} ${path.split('?')[0] ?? path} failed`);
  return parsed as ApiResponse<M, P>;
}

async function request(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    throw new CommandFailure(`cannot reach ${new URL(url).origin}${cause}`);
  }
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { message: text };
  }
}

function failure(response: Response, body: unknown, what: string): ServerError {
  const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const detail = error ? `${error.code ?? 'error'}: ${error.message ?? ''}` : `HTTP ${response.status}`;
  const hint = error?.code === 'invalid_token' ? '; sign in again with airlock login' : '';
  return new ServerError(`${what} (${detail})${hint}`, response.status, error?.code);
}
