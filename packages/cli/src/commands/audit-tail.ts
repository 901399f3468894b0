import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { auditRecordHash, GENESIS_HASH, type AuditRecordView } from '@airlock/server';
import { CommandFailure, normalizeUrl, readCredentials } from './server-client.js';

/**
 * `airlock audit tail [--follow] [--after <seq>] [--json]`: the audit trail from a server's
 * GET /v1/audit/stream, oldest first, verifying the hash chain as it goes: each record's hash is
 * recomputed from its content, and each must link to the one before (from the genesis hash when
 * starting at the first record). With --follow it waits for new records, and on a dropped
 * connection (or a server restart) reconnects and resumes after the last seq it printed, so
 * nothing is printed twice or skipped. Acts as a person like `airlock pause`: --user/--password,
 * AIRLOCK_TOKEN, AIRLOCK_USER/AIRLOCK_PASSWORD, or the token `airlock login` stored.
 *
 * Exit 0 at the end of the trail (without --follow), 1 when the chain does not verify (naming the
 * record), the server refuses or (without --follow) cannot be reached, 2 for usage.
 */
export interface AuditTailOptions {
  url?: string;
  user?: string;
  password?: string;
  follow?: boolean;
  after?: string;
  json?: boolean;
}

interface Io {
  stdout: Writable;
  stderr: Writable;
}

type Env = Record<string, string | undefined>;

class TailFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** A connection that dropped or could not be made: --follow tries again. */
class Disconnected extends Error {}

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;

export async function auditTailCommand(options: AuditTailOptions, io: Io, env: Env = process.env, signal?: AbortSignal): Promise<number> {
  const after = options.after ?? '0';
  if (!/^\d{1,15}$/.test(after)) {
    io.stderr.write(`airlock: --after takes a seq (a whole number), not ${JSON.stringify(after)}\n`);
    return 2;
  }
  let credentials: { base: string; token?: string; username?: string; password?: string };
  try {
    credentials = whoTails(options, env);
  } catch (error) {
    if (!(error instanceof CommandFailure)) throw error;
    io.stderr.write(`airlock: ${error.message}\n`);
    return error.exitCode;
  }
  const { base } = credentials;
  const verifier = new ChainVerifier(Number(after));
  let session: Session | undefined;
  let delay = RECONNECT_MIN_MS;
  try {
    for (;;) {
      if (signal?.aborted) return 0;
      try {
        session ??= credentials.token !== undefined ? { headers: { authorization: `Bearer ${credentials.token}` } } : await login(base, credentials.username as string, credentials.password as string, signal);
        const outcome = await streamOnce(base, session, verifier, options, io, signal, () => (delay = RECONNECT_MIN_MS));
        if (outcome === 'session') {
          session = undefined;
          continue;
        }
        // The trail starts after an archived record: ask again from there, at once.
        if (outcome === 'rebased') continue;
        if (!options.follow) return 0;
        // The server ended a followed stream (shutdown): resume like after a drop.
        throw new Disconnected('the server ended the stream');
      } catch (error) {
        if (!(error instanceof Disconnected)) throw error;
        if (!options.follow || signal?.aborted) {
          if (signal?.aborted) return 0;
          throw new TailFailure(error.message, 1);
        }
        io.stderr.write(`airlock: ${error.message}; reconnecting in ${delay} ms to resume after seq ${verifier.last}\n`);
        await sleep(delay, signal);
        delay = Math.min(delay * 2, RECONNECT_MAX_MS);
        continue;
      }
    }
  } catch (error) {
    if (error instanceof TailFailure) {
      io.stderr.write(`airlock: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  } finally {
    if (session) await logout(base, session);
  }
}

/** How the stream is asked for: a password session (signed out at the end) or a personal token. */
interface Session {
  headers: Record<string, string>;
  csrf?: string;
}

/** The same order as the other people commands (server-client.ts `connect`). */
function whoTails(options: AuditTailOptions, env: Env): { base: string; token?: string; username?: string; password?: string } {
  const named = options.url ?? env.AIRLOCK_URL;
  const explicit = named ? normalizeUrl(named) : undefined;
  const password = (username: string | undefined, secret: string | undefined) => {
    if (!username || !secret) throw new CommandFailure('sign in with --user and --password (or AIRLOCK_USER and AIRLOCK_PASSWORD), AIRLOCK_TOKEN, or airlock login', 2);
    return { base: explicit ?? 'http://127.0.0.1:7300', username, password: secret };
  };
  if (options.user !== undefined || options.password !== undefined) return password(options.user ?? env.AIRLOCK_USER, options.password ?? env.AIRLOCK_PASSWORD);
  if (env.AIRLOCK_TOKEN) return { base: explicit ?? 'http://127.0.0.1:7300', token: env.AIRLOCK_TOKEN };
  if (env.AIRLOCK_USER || env.AIRLOCK_PASSWORD) return password(env.AIRLOCK_USER, env.AIRLOCK_PASSWORD);
  const stored = readCredentials(env);
  if (stored) {
    if (explicit !== undefined && explicit !== stored.url) throw new CommandFailure(`signed in to ${stored.url}, not ${explicit}: run airlock login --url ${explicit}, or set AIRLOCK_TOKEN`, 2);
    return { base: stored.url, token: stored.token };
  }
  return password(undefined, undefined);
}

/** One connection: prints and verifies records until the stream ends. */
async function streamOnce(
  base: string,
  session: Session,
  chain: ChainVerifier,
  opts: AuditTailOptions,
  out: Io,
  abort: AbortSignal | undefined,
  connected: () => void,
): Promise<'ended' | 'session' | 'rebased'> {
  let response: Response;
  try {
    response = await fetch(`${base}/v1/audit/stream?after=${chain.last}&follow=${opts.follow ? 'true' : 'false'}`, { headers: session.headers, ...(abort ? { signal: abort } : {}) });
  } catch (error) {
    throw new Disconnected(`cannot reach ${new URL(base).origin}${causeOf(error)}`);
  }
  if (response.status === 401) {
    // A password session that expired is opened again; a token refused stays refused.
    if (session.csrf === undefined) throw new TailFailure(`GET /v1/audit/stream refused the token (${await errorText(response)})`, 1);
    return 'session';
  }
  if (response.status === 503 || response.status === 502 || response.status === 504) throw new Disconnected(`the server answered ${response.status}`);
  if (!response.ok) throw new TailFailure(`GET /v1/audit/stream failed (${await errorText(response)})`, 1);
  connected();
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw new Disconnected(`the connection dropped${causeOf(error)}`);
      }
      if (chunk.done) return 'ended';
      buffer += decoder.decode(chunk.value, { stream: true });
      let end: number;
      let text = '';
      while ((end = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, end).trim();
        buffer = buffer.slice(end + 1);
        if (line === '') continue; // heartbeat
        const item = JSON.parse(line) as AuditRecordView | { error: { code: string; message: string; seq?: number; hash?: string; file?: string } };
        if ('error' in item) {
          if (item.error.code === 'store_unavailable') throw new Disconnected(`the server could not read the trail (${item.error.message})`);
          const { seq, hash, file } = item.error;
          if (item.error.code === 'audit_archived' && typeof seq === 'number' && typeof hash === 'string' && seq > chain.last) {
            // Not a break: the records before are in an archive file. Go on from its last record's hash.
            if (text) await write(out.stdout, text);
            out.stderr.write(`airlock: records ${chain.last + 1}–${seq} were archived (${file ?? 'file not named'}; airlock audit verify --db <archive> checks them); following from ${seq + 1}\n`);
            chain.startAfter(seq, hash);
            return 'rebased';
          }
          throw new TailFailure(`the stream failed: ${item.error.code}: ${item.error.message}`, 1);
        }
        const problem = chain.check(item);
        if (problem) {
          if (text) await write(out.stdout, text);
          throw new TailFailure(`CHAIN BROKEN at seq ${item.seq}: ${problem}`, 1);
        }
        text += opts.json ? `${line}\n` : `${describe(item)}\n`;
      }
      if (text) await write(out.stdout, text);
    }
  } finally {
    // Stop reading (a broken chain, a drop): the connection must not keep the process alive.
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * Checks each record as it arrives: the next seq, a hash that recomputes from its content, and a
 * link to the record before (the genesis hash for the first record; starting after a seq, the
 * first record's link is taken as given).
 */
export class ChainVerifier {
  last: number;
  private prevHash: string | undefined;

  constructor(after: number) {
    this.last = after;
    this.prevHash = after === 0 ? GENESIS_HASH : undefined;
  }

  /** Goes on after an archived record: the next record must be `seq` + 1 and link to `hash`. */
  startAfter(seq: number, hash: string): void {
    this.last = seq;
    this.prevHash = hash;
  }

  /** A problem in words, or undefined when the record continues the chain (then it is the last one). */
  check(record: AuditRecordView): string | undefined {
    if (record.seq !== this.last + 1) {
      return record.seq <= this.last ? `record ${record.seq} was sent again after record ${this.last}` : `record ${this.last + 1} is missing (the next record is ${record.seq})`;
    }
    if (auditRecordHash(record) !== record.hash) return `record ${record.seq} does not match its hash: it was changed after it was sealed`;
    if (this.prevHash !== undefined && record.prevHash !== this.prevHash) {
      return record.seq === 1
        ? 'the first record does not start from the genesis hash'
        : `record ${record.seq} does not link to record ${record.seq - 1} (its prevHash ${record.prevHash} is not ${this.prevHash}): record ${record.seq - 1} was changed or replaced`;
    }
    this.last = record.seq;
    this.prevHash = record.hash;
    return undefined;
  }
}

function describe(record: AuditRecordView): string {
  const what = [record.agent, record.tool, record.effect, record.rule].filter((part) => part !== null && part !== '').join(' ');
  return `${record.seq}  ${record.at}  ${record.type}  ${record.actor}${what ? `  ${what}` : ''}`;
}

async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

async function login(base: string, username: string, password: string, signal?: AbortSignal): Promise<Session> {
  let response: Response;
  try {
    response = await fetch(`${base}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    throw new Disconnected(`cannot reach ${new URL(base).origin}${causeOf(error)}`);
  }
  if (response.status >= 500) throw new Disconnected(`sign-in answered ${response.status}`);
  if (!response.ok) throw new TailFailure(`sign-in failed (${await errorText(response)})`, 1);
  const body = (await response.json().catch(() => ({}))) as { csrfToken?: string };
  const cookie = (response.headers.getSetCookie?.() ?? []).map((header) => header.split(';')[0] ?? '').find((pair) => pair.startsWith('airlock_session='));
  if (!cookie || !body.csrfToken) throw new TailFailure('sign-in answered without a session', 1);
  return { headers: { cookie }, csrf: body.csrfToken };
}

/** Ends the session, so a CLI run leaves no live session behind (best effort: the server may be gone). */
async function logout(base: string, session: Session): Promise<void> {
  if (session.csrf === undefined) return; // a token stays valid: the person revokes it
  await fetch(`${base}/v1/auth/logout`, { method: 'POST', headers: { ...session.headers, 'x-airlock-csrf': session.csrf, 'content-type': 'application/json' }, body: '{}' }).catch(() => undefined);
}

async function errorText(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const error = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
    if (error) return `${error.code ?? 'error'}: ${error.message ?? ''}`;
  } catch {
    // not JSON
  }
  return `HTTP ${response.status}`;
}

function causeOf(error: unknown): string {
  if (error instanceof Error && error.cause instanceof Error) return `: ${error.cause.message}`;
  return error instanceof Error ? `: ${error.message}` : '';
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
