import { timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '@airlock/core';
import type { Clock } from '../clock.js';
import { AirlockError, notFound } from '../errors.js';
import { newId, newSecret } from '../ids.js';
import type { AuditWriter } from '../audit/writer.js';
import type { AuditEntry, AuditInput } from '../audit/record.js';
import type { SessionRow, UserRow } from '../store/schema.js';
import type { Store, StoreWrite } from '../store/store.js';
import type { LoginReservation, LoginThrottle } from './login-throttle.js';
import { hashPassword } from './passwords.js';
import { KeyedLock, type Locks } from './keyed-lock.js';

export const USER_ROLES = ['admin', 'policy-author', 'approver', 'viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/**
 * A user account is a `person` or a `bot`: a service account (a harness, a script) that acts
 * automatically. Bots' approval decisions are counted apart from people's time to decision.
 */
export const USER_KINDS = ['person', 'bot'] as const;
export type UserKind = (typeof USER_KINDS)[number];

/** The kind a stored account is; anything but `bot` is a person (the column defaults to `person`). */
export function kindOf(row: Pick<UserRow, 'kind'>): UserKind {
  return row.kind === 'bot' ? 'bot' : 'person';
}

/** A person signed in with a session cookie, or acting through one of their API tokens. */
export interface UserPrincipal {
  userId: string;
  username: string;
  role: UserRole;
  /** Approver groups: which approval tiers this person may act on. */
  groups: string[];
  /** A person or a bot account; a person using their API token is still a person. */
  kind: UserKind;
  sessionHash: string;
  csrfToken: string;
  /** Set when the person authenticated with an API token (then there is no session: no hash, no CSRF token). */
  tokenId?: string;
}

export interface UserView {
  id: string;
  username: string;
  role: UserRole;
  groups: string[];
  kind: UserKind;
  createdAt: string;
  createdBy: string;
  /** When the person was disabled; null while they may sign in. */
  disabledAt: string | null;
}

export interface LoginResult {
  /** Goes into the HttpOnly cookie; never in a body or a log. */
  token: string;
  csrfToken: string;
  expiresAt: string;
  user: UserView;
}

/** Login attempts are counted in rolling windows of this length. */
export const LOGIN_WINDOW_MS = 60_000;

export interface AuthOptions {
  sessionTtlMs: number;
  /** Login attempts per username and client address per window. */
  attemptsPerClient: number;
  /** Login attempts per username per window, from all addresses together. */
  attemptsPerUser: number;
  /** Checks a password against a stored hash (scrypt, `passwords.ts`). */
  verifyPassword: (password: string, hash: string) => Promise<boolean>;
  /** False: sign-in with a password is refused (`password_login_disabled`); people sign in through single sign-on. Default true. */
  passwordLogin?: boolean | undefined;
}

/**
 * People: users with scrypt-hashed passwords, sessions stored as hashes of their tokens, each with
 * its own CSRF token. Every login, failed login and logout is audited.
 */
export class AuthService {
  /** Verified against when the username does not exist, so timing does not reveal which usernames do. */
  private dummyHash: Promise<string> | undefined;
  /** What to end when a session logs out here (its open event streams), by session hash. */
  private readonly sessionListeners = new Map<string, Set<() => void>>();

  constructor(
    private readonly store: Store,
    private readonly writer: AuditWriter,
    private readonly clock: Clock,
    private readonly throttle: LoginThrottle,
    private readonly options: AuthOptions,
    /** Serialises changes to people that check the other admins (across instances with shared locks). */
    private readonly locks: Locks = new KeyedLock(),
  ) {}

  /**
   * Signs a person in. The attempt is counted in the login throttle before the password is checked
   * (reserve, then verify), in two windows of a minute: per (username, client address) and per
   * username from all addresses. A full window refuses with `rate_limited` without checking the
   * password; a throttle that does not answer refuses with `store_unavailable` (fail closed). A
   * failed attempt keeps its place; a successful one gives its place back and forgives the failed
   * attempts of that username from that address.
   */
  async login(username: string, password: string, client: string): Promise<LoginResult> {
    if (this.options.passwordLogin === false) {
      throw new AirlockError('password_login_disabled', 'sign-in with a password is switched off on this server; sign in through single sign-on');
    }
    // JSON quoting: one key per name whatever it contains (lone surrogates too), and readable in Redis.
    const name = JSON.stringify(username);
    const fromClient = `address:${name}:${client}`;
    const anywhere = `user:${name}`;
    let reservation: LoginReservation;
    try {
      reservation = await this.throttle.reserve(
        [
          { key: fromClient, max: this.options.attemptsPerClient },
          { key: anywhere, max: this.options.attemptsPerUser },
        ],
        LOGIN_WINDOW_MS,
        this.clock.now(),
      );
    } catch {
      throw new AirlockError('store_unavailable', 'the login throttle did not answer; sign-in is refused until it does');
    }
    if (!reservation.ok) {
      throw new AirlockError('rate_limited', 'too many login attempts; try again later', { retryAfter: reservation.retryAfter });
    }
    const user = await this.store.getUserByName(username);
    this.dummyHash ??= hashPassword(newSecret());
    const valid = await this.options.verifyPassword(password, user?.password_hash ?? (await this.dummyHash));
    const at = this.clock.now();
    // A disabled person's right password is refused like a wrong one (and audited as a failure).
    if (!user || !valid || isDisabled(user)) {
      await this.writer.append([{ record: { type: 'auth.login_failed', at, actor: `user:${username}`, data: { username, client } } }]);
      throw new AirlockError('invalid_credentials', 'wrong username or password');
    }
    // Not giving the place back (shared state down) only leaves it to age out: not worth failing a login for.
    await this.throttle.succeed(reservation.ticket, [anywhere], [fromClient]).catch(() => undefined);
    return this.openSession(user, at, [{ type: 'auth.login', at, actor: `user:${username}`, data: { username, client } }]);
  }

  /**
   * Starts a session for `user` (a password sign-in, or single sign-on): the session row is written
   * with the last of `records` (what the sign-in audits), earlier ones carry their own `writes`.
   */
  async openSession(user: UserRow, at: number, records: readonly AuditInput[], writes: readonly StoreWrite[] = []): Promise<LoginResult> {
    const token = newSecret();
    const session: SessionRow = {
      id_hash: sha256Hex(token),
      user_id: user.id,
      csrf_token: newSecret(),
      created_at: at,
      expires_at: at + this.options.sessionTtlMs,
    };
    const entries: AuditEntry[] = records.map((record, index) => ({
      record,
      writes: index === records.length - 1 ? [...writes, { kind: 'session.insert', row: session }] : [],
    }));
    await this.writer.append(entries);
    return { token, csrfToken: session.csrf_token, expiresAt: new Date(session.expires_at).toISOString(), user: userView(user) };
  }

  /** Whether people may sign in with a password here. */
  get passwordLogin(): boolean {
    return this.options.passwordLogin !== false;
  }

  /** The signed-in person for a cookie's token, if the session exists and has not expired. */
  async session(token: string): Promise<UserPrincipal | undefined> {
    const found = await this.store.getSession(sha256Hex(token));
    if (!found || Number(found.session.expires_at) <= this.clock.now() || isDisabled(found.user)) return undefined;
    return {
      userId: found.user.id,
      username: found.user.username,
      role: found.user.role as UserRole,
      groups: groupsOf(found.user),
      kind: kindOf(found.user),
      sessionHash: found.session.id_hash,
      csrfToken: found.session.csrf_token,
    };
  }

  /** Constant-time comparison of the header a browser sent with the session's CSRF token. */
  checkCsrf(principal: UserPrincipal, presented: string | undefined): boolean {
    if (presented === undefined || principal.csrfToken === '') return false;
    const a = Buffer.from(presented);
    const b = Buffer.from(principal.csrfToken);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  async logout(principal: UserPrincipal): Promise<void> {
    await this.writer.append([
      {
        record: { type: 'auth.logout', at: this.clock.now(), actor: `user:${principal.username}`, data: { username: principal.username } },
        writes: [{ kind: 'session.delete', idHash: principal.sessionHash }],
      },
    ]);
    for (const listener of this.sessionListeners.get(principal.sessionHash) ?? []) listener();
    this.sessionListeners.delete(principal.sessionHash);
  }

  /**
   * Runs `listener` when the session logs out on this instance; returns the unsubscribe function.
   * (A logout on another instance, or expiry, is caught by `sessionActive` at the next heartbeat.)
   */
  onSessionEnd(sessionHash: string, listener: () => void): () => void {
    let set = this.sessionListeners.get(sessionHash);
    if (!set) {
      set = new Set();
      this.sessionListeners.set(sessionHash, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.sessionListeners.delete(sessionHash);
    };
  }

  /** True while the session exists and has not expired. */
  async sessionActive(sessionHash: string): Promise<boolean> {
    const found = await this.store.getSession(sessionHash);
    return found !== undefined && Number(found.session.expires_at) > this.clock.now() && !isDisabled(found.user);
  }

  async createUser(
    actor: string,
    input: { username: string; password: string; role: UserRole; groups?: string[] | undefined; kind?: UserKind | undefined },
  ): Promise<UserView> {
    if (await this.store.getUserByName(input.username)) throw new AirlockError('already_exists', `user '${input.username}' already exists`);
    const groups = normalizeGroups(input.groups ?? []);
    const row: UserRow = {
      id: newId('usr'),
      username: input.username,
      password_hash: await hashPassword(input.password),
      role: input.role,
      groups: JSON.stringify(groups),
      kind: input.kind ?? 'person',
      created_at: this.clock.now(),
      created_by: actor,
      disabled_at: null,
    };
    await this.writer.append([
      {
        record: { type: 'user.created', at: row.created_at, actor, data: { username: row.username, role: row.role, groups, kind: row.kind } },
        writes: [{ kind: 'user.insert', row }],
      },
    ]);
    return userView(row);
  }

  /** Replaces a person's approver groups (audited); takes effect on their next action. */
  async setGroups(actor: string, username: string, groups: string[]): Promise<UserView> {
    const user = await this.store.getUserByName(username);
    if (!user) throw notFound(`user '${username}'`);
    const next = normalizeGroups(groups);
    await this.writer.append([
      {
        record: { type: 'user.groups_changed', at: this.clock.now(), actor, data: { username, groups: next, previous: groupsOf(user) } },
        writes: [{ kind: 'user.update', id: user.id, patch: { groups: JSON.stringify(next) } }],
      },
    ]);
    return userView({ ...user, groups: JSON.stringify(next) });
  }

  /**
   * Changes a person's role (audited); it holds from their next request, for their API tokens too
   * (a token never acts with more than its person's role). The last enabled admin keeps the role.
   */
  async setRole(actor: string, username: string, role: UserRole): Promise<UserView> {
    return this.locks.run('users', async () => {
      const user = await this.store.getUserByName(username);
      if (!user) throw notFound(`user '${username}'`);
      if (user.role === role) return userView(user);
      if (user.role === 'admin' && !isDisabled(user)) await this.keepAnAdmin(user.id, `'${username}' is the last admin; make another person admin first`);
      await this.writer.append([
        {
          record: { type: 'user.role_changed', at: this.clock.now(), actor, data: { username, role, previous: user.role } },
          writes: [{ kind: 'user.update', id: user.id, patch: { role } }],
        },
      ]);
      return userView({ ...user, role });
    });
  }

  /**
   * Disables a person (audited): their sessions end, sign-in and their API tokens are refused until
   * enabled again. Nobody disables themselves, and the last enabled admin stays.
   */
  async disable(actor: string, username: string): Promise<UserView> {
    if (actor === `user:${username}`) throw new AirlockError('forbidden', 'you cannot disable yourself');
    return this.locks.run('users', async () => {
      const user = await this.store.getUserByName(username);
      if (!user) throw notFound(`user '${username}'`);
      if (isDisabled(user)) return userView(user);
      if (user.role === 'admin') await this.keepAnAdmin(user.id, `'${username}' is the last admin; make another person admin first`);
      const at = this.clock.now();
      await this.writer.append([
        {
          record: { type: 'user.disabled', at, actor, data: { username } },
          writes: [
            { kind: 'user.update', id: user.id, patch: { disabled_at: at } },
            { kind: 'sessions.delete_user', userId: user.id },
          ],
        },
      ]);
      return userView({ ...user, disabled_at: at });
    });
  }

  /** Lets a disabled person sign in again (audited); their unrevoked, unexpired tokens work again. */
  async enable(actor: string, username: string): Promise<UserView> {
    return this.locks.run('users', async () => {
      const user = await this.store.getUserByName(username);
      if (!user) throw notFound(`user '${username}'`);
      if (!isDisabled(user)) return userView(user);
      await this.writer.append([
        {
          record: { type: 'user.enabled', at: this.clock.now(), actor, data: { username } },
          writes: [{ kind: 'user.update', id: user.id, patch: { disabled_at: null } }],
        },
      ]);
      return userView({ ...user, disabled_at: null });
    });
  }

  /** Refuses a change that would leave no enabled admin besides `userId`. */
  private async keepAnAdmin(userId: string, message: string): Promise<void> {
    const others = (await this.store.listUsers()).filter((u) => u.id !== userId && u.role === 'admin' && !isDisabled(u));
    if (others.length === 0) throw new AirlockError('last_admin', message);
  }

  /** A person's approver groups, read now (one-click links act for a person without a session). */
  async approver(username: string): Promise<{ username: string; role: UserRole; groups: string[]; kind: UserKind } | undefined> {
    const user = await this.store.getUserByName(username);
    return user && !isDisabled(user) ? { username: user.username, role: user.role as UserRole, groups: groupsOf(user), kind: kindOf(user) } : undefined;
  }

  async listUsers(): Promise<UserView[]> {
    return (await this.store.listUsers()).map(userView);
  }
}


export function userView(row: UserRow): UserView {
  return {
    id: row.id,
    username: row.username,
    role: row.role as UserRole,
    groups: groupsOf(row),
    kind: kindOf(row),
    createdAt: new Date(Number(row.created_at)).toISOString(),
    createdBy: row.created_by,
    disabledAt: isDisabled(row) ? new Date(Number(row.disabled_at)).toISOString() : null,
  };
}

/** Whether a person is disabled (migration 010; null or absent: enabled). */
export function isDisabled(row: Pick<UserRow, 'disabled_at'>): boolean {
  return row.disabled_at !== null;
}

export function groupsOf(row: Pick<UserRow, 'groups'>): string[] {
  return JSON.parse(row.groups) as string[];
}

/** Sorted and without duplicates, so the stored value and the audit record are canonical. */
export function normalizeGroups(groups: readonly string[]): string[] {
  return [...new Set(groups)].sort();
}
