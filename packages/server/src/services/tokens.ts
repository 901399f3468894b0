import { randomBytes, timingSafeEqual } from 'node:crypto';
import { sha256Bytes, sha256Hex } from '@airlock/core';
import type { Clock } from '../clock.js';
import { AirlockError, notFound } from '../errors.js';
import { newSecret } from '../ids.js';
import type { AuditWriter } from '../audit/writer.js';
import type { UserTokenRow } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { isDisabled, kindOf, type UserPrincipal, type UserRole } from './auth.js';

/** A person's API token as the API shows it; the secret is never shown again after creation. */
export interface TokenView {
  id: string;
  name: string;
  username: string;
  /** The narrower role the token was given; null: the person's own role. */
  role: UserRole | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  lastUsedAt: string | null;
}

/**
 * `apt_<keyId>_<secret>`, beside agent keys' `ak_…`: the key id finds the row, the secret (256 bits)
 * proves possession. The prefix tells the two apart before any lookup.
 */
export const PERSONAL_TOKEN_PREFIX = 'apt_';
const PERSONAL_TOKEN = /^apt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** last_used_at is written at most this often per token and instance. */
const TOUCH_INTERVAL_MS = 60_000;

/** What each role may do, as roles: a token may be given any role its person's role includes. */
const INCLUDES: Record<UserRole, readonly UserRole[]> = {
  admin: ['admin', 'policy-author', 'approver', 'viewer'],
  'policy-author': ['policy-author', 'viewer'],
  approver: ['approver', 'viewer'],
  viewer: ['viewer'],
};

/** Whether `role` grants nothing that `of` does not. */
export function roleWithin(role: UserRole, of: UserRole): boolean {
  return INCLUDES[of].includes(role);
}

/** The widest role within both (approver and policy-author share only viewer). */
export function narrowerRole(a: UserRole, b: UserRole): UserRole {
  if (roleWithin(a, b)) return a;
  if (roleWithin(b, a)) return b;
  return 'viewer';
}

export interface CreateTokenInput {
  name: string;
  role?: UserRole | undefined;
  /** Epoch ms; undefined: never expires. */
  expiresAt?: number | undefined;
}

/**
 * People's API tokens: for scripts and the CLI, instead of a password. A token acts as its person
 * with the person's role (or the narrower role it was given, never a wider one, also after the
 * person's role changes). High-entropy secrets: a SHA-256 of the secret is stored and compared in
 * constant time, as for agent keys. Nothing is cached, so a revocation holds on the next request,
 * on every instance. Creation and revocation are audited.
 */
export class TokenService {
  /** When this instance last recorded each token's use. */
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly writer: AuditWriter,
    private readonly clock: Clock,
    private readonly logError: (message: string) => void,
  ) {}

  /** The person a bearer token speaks for; `invalid_token` for a malformed, unknown, wrong, revoked or expired one. */
  async authenticate(token: string): Promise<UserPrincipal> {
    const match = PERSONAL_TOKEN.exec(token);
    if (!match) throw invalidToken('the token is not valid');
    const id = match[1] as string;
    const found = await this.store.getUserToken(id);
    const presented = sha256Bytes(match[2] as string);
    // The secret is checked before anything about the row is told, so only its holder learns
    // that a token was revoked or has expired.
    if (!found || !timingSafeEqual(presented, Buffer.from(found.token.secret_hash, 'hex'))) throw invalidToken('the token is not valid');
    const { token: row, user } = found;
    const now = this.clock.now();
    if (row.revoked_at !== null) throw invalidToken('the token was revoked');
    if (isDisabled(user)) throw invalidToken('the token\'s person is disabled');
    if (row.expires_at !== null && Number(row.expires_at) <= now) throw invalidToken('the token has expired');
    this.touch(id, now);
    const role = user.role as UserRole;
    return {
      userId: user.id,
      username: user.username,
      role: row.role === null ? role : narrowerRole(row.role as UserRole, role),
      groups: JSON.parse(user.groups) as string[],
      kind: kindOf(user),
      sessionHash: '',
      csrfToken: '',
      tokenId: id,
    };
  }

  /** Issues a token for the signed-in person; the returned `token` is the only time the secret exists outside the caller. */
  async create(person: UserPrincipal, input: CreateTokenInput): Promise<TokenView & { token: string }> {
    if (person.tokenId !== undefined) throw new AirlockError('forbidden', 'a token cannot create tokens: sign in with a password (airlock login)');
    if (input.role !== undefined && !roleWithin(input.role, person.role)) {
      throw new AirlockError('forbidden', `a token cannot have a wider role than its person's (${person.role})`);
    }
    const now = this.clock.now();
    if (input.expiresAt !== undefined && input.expiresAt <= now) throw new AirlockError('invalid_request', 'expiresAt must be in the future');
    const id = randomBytes(8).toString('hex');
    const secret = newSecret();
    const row: UserTokenRow = {
      id,
      user_id: person.userId,
      name: input.name,
      role: input.role ?? null,
      secret_hash: sha256Hex(secret),
      created_at: now,
      expires_at: input.expiresAt ?? null,
      revoked_at: null,
      revoked_by: null,
      last_used_at: null,
    };
    const actor = `user:${person.username}`;
    await this.writer.append([
      {
        record: {
          type: 'token.created',
          at: now,
          actor,
          data: { tokenId: id, username: person.username, name: row.name, role: row.role, expiresAt: row.expires_at },
        },
        writes: [{ kind: 'token.insert', row }],
      },
    ]);
    return { ...tokenView({ ...row, username: person.username }), token: `${PERSONAL_TOKEN_PREFIX}${id}_${secret}` };
  }

  /** The caller's own tokens; an admin may ask for one person's (`username`) or everyone's (`all`). */
  async list(caller: UserPrincipal, filter: { username?: string | undefined; all?: boolean | undefined }): Promise<TokenView[]> {
    const others = filter.all === true || (filter.username !== undefined && filter.username !== caller.username);
    if (others && caller.role !== 'admin') throw new AirlockError('forbidden', "only an admin may list other people's tokens");
    let userId: string | undefined = caller.userId;
    if (filter.all === true) userId = undefined;
    else if (filter.username !== undefined && filter.username !== caller.username) {
      const user = await this.store.getUserByName(filter.username);
      if (!user) throw notFound(`user '${filter.username}'`);
      userId = user.id;
    }
    return (await this.store.listUserTokens(userId === undefined ? {} : { userId })).map(tokenView);
  }

  /** Revokes one of the caller's tokens (an admin: anyone's); it stops working on the next request. */
  async revoke(caller: UserPrincipal, id: string): Promise<TokenView> {
    const found = await this.store.getUserToken(id);
    // Someone else's token is as absent as a missing one, except to an admin.
    if (!found || (found.user.id !== caller.userId && caller.role !== 'admin')) throw notFound(`token '${id}'`);
    const { token, user } = found;
    if (token.revoked_at !== null) return tokenView({ ...token, username: user.username });
    const at = this.clock.now();
    const actor = `user:${caller.username}`;
    await this.writer.append([
      {
        record: { type: 'token.revoked', at, actor, data: { tokenId: id, username: user.username, name: token.name } },
        writes: [{ kind: 'token.revoke', id, at, by: caller.username }],
      },
    ]);
    return tokenView({ ...token, username: user.username, revoked_at: at, revoked_by: caller.username });
  }

  /** Whether a token can still be used (open event streams of a token end when it cannot). */
  async active(id: string): Promise<boolean> {
    const found = await this.store.getUserToken(id);
    if (!found) return false;
    const { token } = found;
    return token.revoked_at === null && !isDisabled(found.user) && (token.expires_at === null || Number(token.expires_at) > this.clock.now());
  }

  /** Records the use, at most once a minute per token; a failure here never fails the request. */
  private touch(id: string, now: number): void {
    const last = this.touched.get(id);
    if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return;
    this.touched.set(id, now);
    if (this.touched.size > 10_000) this.touched.clear();
    this.store.touchUserToken(id, now).catch((error: unknown) => this.logError(`recording a token's use failed: ${String(error)}`));
  }
}

function invalidToken(message: string): AirlockError {
  return new AirlockError('invalid_token', message);
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(Number(ms)).toISOString();
}

function tokenView(row: UserTokenRow & { username: string }): TokenView {
  return {
    id: row.id,
    name: row.name,
    username: row.username,
    role: row.role as UserRole | null,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    expiresAt: iso(row.expires_at),
    revokedAt: iso(row.revoked_at),
    revokedBy: row.revoked_by,
    lastUsedAt: iso(row.last_used_at),
  };
}
