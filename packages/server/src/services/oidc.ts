import { timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '@airlock/core';
import * as oidc from 'openid-client';
import type { AuditInput } from '../audit/record.js';
import type { AuditWriter } from '../audit/writer.js';
import type { Clock } from '../clock.js';
import { AirlockError } from '../errors.js';
import { newId, newSecret } from '../ids.js';
import { mapClaims, type OidcConfig } from '../sso-config.js';
import type { UserRow } from '../store/schema.js';
import type { Store, StoreWrite } from '../store/store.js';
import { groupsOf, isDisabled, normalizeGroups, type AuthService, type LoginResult } from './auth.js';
import { KeyedLock } from './keyed-lock.js';

/** How long a sign-in started at the provider may take to come back. */
export const OIDC_LOGIN_TTL_MS = 10 * 60_000;
/** Seconds the provider gets to answer discovery, token and userinfo requests. */
const PROVIDER_TIMEOUT_S = 10;

export interface OidcStart {
  /** The provider's authorization URL to send the browser to. */
  url: string;
  /** Goes into the HttpOnly binding cookie: the callback must come back to the browser that started. */
  binding: string;
}

/**
 * Single sign-on with OpenID Connect (docs/sso.md): authorization code flow with PKCE (S256),
 * state and nonce, through `openid-client`, which validates the provider's answers (issuer,
 * audience, signature, nonce, expiry of the ID token; `iss` of the authorization response).
 *
 * Each sign-in started is stored (state hashed, PKCE verifier, nonce, the hash of a browser binding
 * value) and taken once by its callback, before the code is exchanged: a replayed callback, a
 * tampered state, a callback in another browser or 100 concurrent copies of one callback find it
 * gone or foreign, so one code opens at most one session. People are found by (issuer, subject);
 * their role and approver groups are set from the claims at every sign-in.
 */
export class OidcService {
  private configuration: Promise<oidc.Configuration> | undefined;
  /** Serialises the find-or-create of people (first sign-ins of one subject or one username at once). */
  private readonly people = new KeyedLock();

  constructor(
    private readonly store: Store,
    private readonly writer: AuditWriter,
    private readonly clock: Clock,
    private readonly auth: AuthService,
    readonly config: OidcConfig,
  ) {}

  /** The provider's metadata, read once (again after a failure). */
  private discover(): Promise<oidc.Configuration> {
    this.configuration ??= oidc
      .discovery(
        new URL(this.config.issuer),
        this.config.clientId,
        undefined,
        this.config.clientSecret === undefined ? oidc.None() : oidc.ClientSecretBasic(this.config.clientSecret),
        { timeout: PROVIDER_TIMEOUT_S, ...(this.config.allowHttp ? { execute: [oidc.allowInsecureRequests] } : {}) },
      )
      .catch((error: unknown) => {
        this.configuration = undefined;
        throw new AirlockError('sso_unavailable', `the identity provider ${this.config.issuer} did not answer its discovery document: ${describe(error)}`);
      });
    return this.configuration;
  }

  /** Starts a sign-in: stores its state, verifier and nonce, and answers where to send the browser. */
  async start(redirectUri: string): Promise<OidcStart> {
    const configuration = await this.discover();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    const binding = newSecret();
    const at = this.clock.now();
    await this.store.putOidcLogin({
      state_hash: sha256Hex(state),
      binding_hash: sha256Hex(binding),
      code_verifier: verifier,
      nonce,
      redirect_uri: redirectUri,
      created_at: at,
      expires_at: at + OIDC_LOGIN_TTL_MS,
      taken_by: null,
    });
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUri,
      scope: this.config.scopes.join(' '),
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, binding };
  }

  /**
   * Finishes a sign-in from the provider's redirect (`query`: its query string): takes the stored
   * sign-in once, checks the browser binding, exchanges the code, validates the ID token, maps the
   * claims, creates or updates the person and opens a session (audited `user.sso_login`).
   */
  async callback(query: URLSearchParams, binding: string | undefined, client: string): Promise<LoginResult> {
    const state = query.get('state');
    if (state === null || state === '' || binding === undefined) throw stateInvalid();
    const login = await this.store.takeOidcLogin(sha256Hex(state), this.clock.now());
    if (!login || !sameHash(login.binding_hash, sha256Hex(binding))) throw stateInvalid();
    const fail = async (code: 'sso_failed' | 'sso_no_role' | 'sso_user_disabled' | 'sso_claim_invalid' | 'sso_username_taken', message: string, data: Record<string, unknown> = {}): Promise<never> => {
      await this.writer.append([{ record: { type: 'auth.sso_failed', at: this.clock.now(), actor: 'anonymous', data: { issuer: this.config.issuer, code, client, ...data } } }]);
      throw new AirlockError(code, message);
    };
    const providerError = query.get('error');
    if (providerError !== null) return fail('sso_failed', `the identity provider refused the sign-in: ${providerError.slice(0, 200)}`, { error: providerError.slice(0, 200) });
    const configuration = await this.discover();
    const currentUrl = new URL(login.redirect_uri);
    currentUrl.search = query.toString();
    let claims: Record<string, unknown>;
    try {
      const tokens = await oidc.authorizationCodeGrant(configuration, currentUrl, {
        pkceCodeVerifier: login.code_verifier,
        expectedState: state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
      const idToken = tokens.claims();
      if (!idToken) throw new Error('no ID token');
      claims = { ...idToken };
      if (this.config.userinfo && configuration.serverMetadata().userinfo_endpoint !== undefined) {
        // The ID token's claims win; userinfo adds what the provider puts only there (often groups).
        claims = { ...(await oidc.fetchUserInfo(configuration, tokens.access_token, idToken.sub)), ...idToken };
      }
    } catch (error) {
      return fail('sso_failed', `the identity provider's answer was refused: ${describe(error)}`);
    }
    const issuer = String(claims.iss);
    const subject = String(claims.sub);
    const mapped = mapClaims(claims, this.config);
    if (!mapped.ok) return fail(mapped.code, mapped.message, { subject });
    return this.people.run('people', async () => {
      const at = this.clock.now();
      const known = await this.store.getUserByIdentity(issuer, subject);
      const groups = normalizeGroups(mapped.groups);
      const signIn: AuditInput = {
        type: 'user.sso_login',
        at,
        actor: `user:${known?.username ?? mapped.username}`,
        data: { username: known?.username ?? mapped.username, issuer, subject, role: mapped.role, groups, client, created: known === undefined },
      };
      // An administrator's disable outlasts the provider's say-so: the provider cannot re-enable a person.
      if (known && isDisabled(known)) return fail('sso_user_disabled', `'${known.username}' is disabled here; ask an administrator`, { subject });
      if (known) {
        const changed = known.role !== mapped.role || JSON.stringify(groupsOf(known)) !== JSON.stringify(groups);
        const writes: StoreWrite[] = changed ? [{ kind: 'user.update', id: known.id, patch: { role: mapped.role, groups: JSON.stringify(groups) } }] : [];
        if (changed) signIn.data.previous = { role: known.role, groups: groupsOf(known) };
        return this.auth.openSession({ ...known, role: mapped.role, groups: JSON.stringify(groups) }, at, [signIn], writes);
      }
      if (await this.store.getUserByName(mapped.username)) {
        return fail('sso_username_taken', `the username '${mapped.username}' belongs to another Airlock user; an admin must rename or remove it first`, { subject, username: mapped.username });
      }
      const user: UserRow = {
        id: newId('usr'),
        username: mapped.username,
        // No password: a hash no password matches (verifyPassword refuses a non-scrypt value).
        password_hash: 'sso',
        role: mapped.role,
        groups: JSON.stringify(groups),
        created_at: at,
        created_by: `sso:${issuer}`,
        disabled_at: null,
        kind: 'person',
      };
      const created: AuditInput = { type: 'user.created', at, actor: `sso:${issuer}`, data: { username: user.username, role: user.role, groups, issuer, subject } };
      return this.auth.openSession(user, at, [created, signIn], [
        { kind: 'user.insert', row: user },
        { kind: 'identity.insert', row: { issuer, subject, user_id: user.id, created_at: at } },
      ]);
    });
  }

  /** Forgets sign-ins that were started and never finished. */
  async purge(): Promise<void> {
    await this.store.deleteOidcLoginsExpiredBy(this.clock.now());
  }
}


function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

function stateInvalid(): AirlockError {
  return new AirlockError('sso_state_invalid', 'this sign-in is unknown, expired, already finished or was started in another browser; start again');
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 300);
}
