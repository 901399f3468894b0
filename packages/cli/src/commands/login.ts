import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import type { ApiBody, ApiResponse } from '@airlock/sdk/api';
import {
  CommandFailure,
  DEFAULT_URL,
  PasswordSession,
  ServerError,
  connect,
  credentialsPath,
  deleteCredentials,
  normalizeUrl,
  readCredentials,
  reportFailure,
  writeCredentials,
  type Env,
  type Io,
} from './server-client.js';

/**
 * `airlock login`: exchanges a username and password for a personal API token, once, and stores
 * `{url, token}` readable by the owner only. Later people commands use it without a password.
 * `airlock logout` revokes the token on the server and deletes the file.
 */

export interface LoginOptions {
  url?: string;
  user?: string;
  passwordStdin?: boolean;
  /** The token's name on the server (default: "airlock CLI on <host>"). */
  name?: string;
  /** Expire the token after this many days (default: never). */
  expiresInDays?: string;
  /** A narrower role for the token than yours. */
  role?: string;
}

interface LoginIo extends Io {
  stdin: Readable;
}

export async function loginCommand(options: LoginOptions, io: LoginIo, env: Env = process.env): Promise<number> {
  try {
    const url = normalizeUrl(options.url ?? env.AIRLOCK_URL ?? DEFAULT_URL);
    let expiresInDays: number | undefined;
    if (options.expiresInDays !== undefined) {
      expiresInDays = Number(options.expiresInDays);
      if (!Number.isInteger(expiresInDays) || expiresInDays < 1) throw new CommandFailure('--expires-in-days takes a whole number of days, at least 1', 2);
    }
    const interactive = Boolean((io.stdin as { isTTY?: boolean }).isTTY) && !options.passwordStdin;
    let username = options.user ?? env.AIRLOCK_USER;
    if (!username) {
      if (!interactive) throw new CommandFailure('name the user with --user (or AIRLOCK_USER)', 2);
      username = (await ask(io, 'Username: ')).trim();
    }
    let password: string;
    if (options.passwordStdin) password = (await readAll(io.stdin)).replace(/\r?\n$/, '');
    else if (interactive) password = await askHidden(io, 'Password: ');
    else throw new CommandFailure('no terminal to ask the password on: pipe it with --password-stdin', 2);
    if (!username || !password) throw new CommandFailure('a username and a password are needed', 2);

    const previous = safeRead(env);
    const session = await PasswordSession.login(url, username, password);
    let created: ApiResponse<'POST', '/v1/tokens'>;
    try {
      created = await session.call('POST', '/v1/tokens', {
        body: {
          name: options.name ?? `airlock CLI on ${hostname()}`,
          ...(options.role !== undefined ? { role: options.role as NonNullable<ApiBody<'POST', '/v1/tokens'>['role']> } : {}),
          ...(expiresInDays !== undefined ? { expiresInDays } : {}),
        },
      });
    } finally {
      await session.close();
    }
    const path = writeCredentials(env, { url, token: created.token, tokenId: created.id, username: created.username });
    // The token this replaces, for the same server, is of no further use: revoke it (best effort).
    if (previous && previous.url === url && previous.tokenId !== created.id) {
      await fetch(`${url}/v1/tokens/${encodeURIComponent(previous.tokenId)}`, { method: 'DELETE', headers: { authorization: `Bearer ${previous.token}` } }).catch(() => undefined);
    }
    const expiry = created.expiresAt ? `, expires ${created.expiresAt}` : '';
    io.stdout.write(`Signed in to ${url} as ${created.username}. Token ${created.id}${created.role ? ` (role ${created.role})` : ''}${expiry} stored in ${path}.\n`);
    return 0;
  } catch (error) {
    return reportFailure(error, io);
  }
}

export async function logoutCommand(io: Io, env: Env = process.env): Promise<number> {
  try {
    const stored = readCredentials(env);
    if (!stored) {
      io.stdout.write('Not signed in.\n');
      return 0;
    }
    let revoked = true;
    let problem = '';
    try {
      const client = await connect({ url: stored.url }, { ...env, AIRLOCK_TOKEN: '', AIRLOCK_USER: '', AIRLOCK_PASSWORD: '', AIRLOCK_URL: '' });
      await client.call('DELETE', '/v1/tokens/{id}', { params: { id: stored.tokenId } });
    } catch (error) {
      // A token the server no longer takes is as good as revoked.
      if (!(error instanceof ServerError && error.code === 'invalid_token')) {
        revoked = false;
        problem = error instanceof Error ? error.message : String(error);
      }
    }
    deleteCredentials(env);
    if (!revoked) {
      io.stderr.write(`airlock: deleted ${credentialsPath(env)}, but the token ${stored.tokenId} may still work: ${problem}. Revoke it in the dashboard or with DELETE /v1/tokens/${stored.tokenId}.\n`);
      return 1;
    }
    io.stdout.write(`Signed out of ${stored.url}: token ${stored.tokenId} revoked, ${credentialsPath(env)} deleted.\n`);
    return 0;
  } catch (error) {
    return reportFailure(error, io);
  }
}

function safeRead(env: Env) {
  try {
    return readCredentials(env);
  } catch {
    return undefined;
  }
}

async function readAll(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
  return text;
}

function ask(io: LoginIo, question: string): Promise<string> {
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer);
    });
  });
}

/** Reads a line from the terminal without echoing it. Ctrl-C aborts (exit 130). */
function askHidden(io: LoginIo, question: string): Promise<string> {
  const input = io.stdin as Readable & { setRawMode?: (raw: boolean) => void };
  io.stderr.write(question);
  return new Promise((resolve, reject) => {
    let answer = '';
    const finish = (error?: CommandFailure): void => {
      input.removeListener('data', onData);
      input.setRawMode?.(false);
      input.pause();
      io.stderr.write('\n');
      if (error) reject(error);
      else resolve(answer);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const char of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (char === '\r' || char === '\n' || char === '\u0004') return finish();
        if (char === '\u0003') return finish(new CommandFailure('cancelled', 130));
        if (char === '\u007f' || char === '\b') answer = answer.slice(0, -1);
        else answer += char;
      }
    };
    input.setRawMode?.(true);
    input.on('data', onData);
    input.resume();
  });
}
