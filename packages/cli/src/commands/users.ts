import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { components } from '@airlock/sdk/api';
import { table } from './approvals.js';
import { withServer, type Env, type Io, type ServerLoginOptions } from './server-client.js';

/**
 * `airlock users create|list`: people and their roles, as an admin. A password the command
 * generates is printed once; with --password-stdin the caller's own is used and never printed.
 */

export interface UserCreateOptions extends ServerLoginOptions {
  role?: string;
  group?: string[];
  /** A service account (scripts, harnesses): its approval decisions are counted apart. */
  bot?: boolean;
  passwordStdin?: boolean;
  json?: boolean;
}

type Role = components['schemas']['Role'];

export const USER_ROLE_NAMES = ['admin', 'policy-author', 'approver', 'viewer'] as const satisfies readonly Role[];

export async function usersListCommand(options: ServerLoginOptions & { json?: boolean }, io: Io, env: Env = process.env): Promise<number> {
  return withServer(options, io, env, async (client) => {
    const { users } = await client.call('GET', '/v1/users', {});
    if (options.json) io.stdout.write(`${JSON.stringify(users)}\n`);
    else io.stdout.write(table([['USER', 'KIND', 'ROLE', 'GROUPS', 'CREATED', 'BY'], ...users.map((u) => [u.username, u.kind, u.role, u.groups.join(',') || '-', u.createdAt, u.createdBy])]));
  });
}

export async function usersCreateCommand(username: string, options: UserCreateOptions, io: Io & { stdin: Readable }, env: Env = process.env): Promise<number> {
  if (!options.role) {
    io.stderr.write(`airlock: give the person a --role: ${USER_ROLE_NAMES.join(', ')}\n`);
    return 2;
  }
  let password: string;
  let generated = false;
  if (options.passwordStdin) {
    password = (await readAll(io.stdin)).replace(/\r?\n$/, '');
    if (password.length < 12) {
      io.stderr.write('airlock: the password must be at least 12 characters\n');
      return 2;
    }
  } else {
    password = randomBytes(18).toString('base64url');
    generated = true;
  }
  return withServer(options, io, env, async (client) => {
    const user = await client.call('POST', '/v1/users', {
      body: {
        username,
        password,
        role: options.role as Role,
        ...(options.group && options.group.length > 0 ? { groups: options.group } : {}),
        ...(options.bot ? { kind: 'bot' as const } : {}),
      },
    });
    if (options.json) {
      io.stdout.write(`${JSON.stringify({ user, ...(generated ? { password } : {}) })}\n`);
      return;
    }
    const groups = user.groups.length > 0 ? `, approver groups ${user.groups.join(', ')}` : '';
    io.stdout.write(`Created ${user.kind === 'bot' ? 'bot ' : ''}${user.username} (role ${user.role}${groups}).\n`);
    if (generated) io.stdout.write(`Password (shown this once; hand it over privately):\n${password}\n`);
  });
}

async function readAll(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
  return text;
}
