import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { USER_ROLES, type UserRole } from './services/auth.js';

/**
 * Single sign-on through an OpenID Connect provider (docs/sso.md): where the provider is, who
 * Airlock is to it, and how the provider's claims become a role and approver groups.
 */
export interface OidcConfig {
  /** The provider's issuer URL; its discovery document is read from `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** Confidential client (sent with HTTP Basic, the spec's default); absent: a public client (PKCE only). */
  clientSecret?: string | undefined;
  /**
   * The callback URL registered at the provider (`https://airlock.example.com/v1/auth/oidc/callback`).
   * Absent: derived from the request (its protocol and Host), which the provider still checks
   * against the URLs registered for the client.
   */
  redirectUrl?: string | undefined;
  /** Shown on the sign-in page: "Sign in with <name>". */
  name: string;
  scopes: string[];
  /** Claim holding the Airlock username; the subject (`sub`) when the claim is absent. */
  usernameClaim: string;
  /** Claim whose values (a string or an array of strings, e.g. groups) choose the role and approver groups. */
  roleClaim: string;
  /** Claim value → role. Several matching values: the first in the order admin, policy-author, approver, viewer. */
  roles: Record<string, UserRole>;
  /** Claim value → approver groups; a person gets the union for all their values. */
  approverGroups: Record<string, string[]>;
  /** The role of a person no mapped value matches: a role (default viewer) or `none` (refused, `sso_no_role`). */
  defaultRole: UserRole | 'none';
  /** Read the userinfo endpoint too (claims some providers put only there); default true when the provider has one. */
  userinfo: boolean;
  /** Plain http for the provider: only ever allowed for a loopback issuer (tests, local development). */
  allowHttp: boolean;
}

const Role = z.enum(USER_ROLES);

/** The file (AIRLOCK_OIDC_CONFIG, YAML or JSON) and the environment variables fill the same fields. */
export const OidcConfigInput = z
  .object({
    issuer: z.url(),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1).optional(),
    redirectUrl: z.url().optional(),
    name: z.string().min(1).max(64).default('SSO'),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).default(['openid', 'profile', 'email']),
    usernameClaim: z.string().min(1).default('preferred_username'),
    roleClaim: z.string().min(1).default('groups'),
    roles: z.record(z.string(), Role).default({}),
    approverGroups: z.record(z.string(), z.array(z.string().min(1).max(128))).default({}),
    defaultRole: z.union([Role, z.literal('none')]).default('viewer'),
    userinfo: z.boolean().default(true),
  })
  .strict();

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Validates a configuration; throws a readable Error naming what is wrong (at start, fail closed). */
export function parseOidcConfig(input: unknown, source: string): OidcConfig {
  const result = OidcConfigInput.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    throw new Error(`invalid single sign-on configuration (${source}): ${problems}`);
  }
  const value = result.data;
  const issuer = new URL(value.issuer);
  const allowHttp = issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname);
  if (issuer.protocol !== 'https:' && !allowHttp) throw new Error(`invalid single sign-on configuration (${source}): the issuer must be https (plain http only on loopback)`);
  if (!value.scopes.includes('openid')) value.scopes.unshift('openid');
  return { ...value, allowHttp };
}

/**
 * AIRLOCK_OIDC_CONFIG (a YAML or JSON file with the fields of `OidcConfigInput`), then the
 * variables, which win: AIRLOCK_OIDC_ISSUER, AIRLOCK_OIDC_CLIENT_ID, AIRLOCK_OIDC_CLIENT_SECRET,
 * AIRLOCK_OIDC_REDIRECT_URL, AIRLOCK_OIDC_NAME, AIRLOCK_OIDC_SCOPES (space-separated),
 * AIRLOCK_OIDC_USERNAME_CLAIM, AIRLOCK_OIDC_ROLE_CLAIM, AIRLOCK_OIDC_ROLES
 * (`value=role;value=role`), AIRLOCK_OIDC_APPROVER_GROUPS (`value=group,group;value=group`),
 * AIRLOCK_OIDC_DEFAULT_ROLE (a role or none), AIRLOCK_OIDC_USERINFO (true/false).
 * Undefined when neither names an issuer.
 */
export function oidcConfigFromEnvironment(env: Record<string, string | undefined>): OidcConfig | undefined {
  let input: Record<string, unknown> = {};
  if (env.AIRLOCK_OIDC_CONFIG) {
    const parsed: unknown = parse(readFileSync(env.AIRLOCK_OIDC_CONFIG, 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`invalid single sign-on configuration (${env.AIRLOCK_OIDC_CONFIG}): not a mapping`);
    input = { ...(parsed as Record<string, unknown>) };
  }
  const text: [string, string][] = [
    ['issuer', 'AIRLOCK_OIDC_ISSUER'],
    ['clientId', 'AIRLOCK_OIDC_CLIENT_ID'],
    ['clientSecret', 'AIRLOCK_OIDC_CLIENT_SECRET'],
    ['redirectUrl', 'AIRLOCK_OIDC_REDIRECT_URL'],
    ['name', 'AIRLOCK_OIDC_NAME'],
    ['usernameClaim', 'AIRLOCK_OIDC_USERNAME_CLAIM'],
    ['roleClaim', 'AIRLOCK_OIDC_ROLE_CLAIM'],
    ['defaultRole', 'AIRLOCK_OIDC_DEFAULT_ROLE'],
  ];
  for (const [field, name] of text) if (env[name]) input[field] = env[name];
  if (env.AIRLOCK_OIDC_SCOPES) input.scopes = env.AIRLOCK_OIDC_SCOPES.split(/\s+/).filter(Boolean);
  if (env.AIRLOCK_OIDC_ROLES) input.roles = Object.fromEntries(entries('AIRLOCK_OIDC_ROLES', env.AIRLOCK_OIDC_ROLES));
  if (env.AIRLOCK_OIDC_APPROVER_GROUPS) {
    input.approverGroups = Object.fromEntries(
      entries('AIRLOCK_OIDC_APPROVER_GROUPS', env.AIRLOCK_OIDC_APPROVER_GROUPS).map(([key, groups]) => [key, groups.split(',').map((g) => g.trim()).filter(Boolean)]),
    );
  }
  if (env.AIRLOCK_OIDC_USERINFO) input.userinfo = parseSwitch('AIRLOCK_OIDC_USERINFO', env.AIRLOCK_OIDC_USERINFO);
  if (input.issuer === undefined) {
    if (Object.keys(input).length > 0) throw new Error('invalid single sign-on configuration: AIRLOCK_OIDC_ISSUER (or issuer in AIRLOCK_OIDC_CONFIG) is required');
    return undefined;
  }
  return parseOidcConfig(input, env.AIRLOCK_OIDC_CONFIG ?? 'environment');
}

/** `key=value;key=value` (whitespace around each part trimmed). */
function entries(name: string, text: string): [string, string][] {
  return text
    .split(';')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const at = part.lastIndexOf('=');
      if (at <= 0) throw new Error(`invalid ${name}: '${part}' (expected value=target; entries separated by ';')`);
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()];
    });
}

/** on/off, true/false, 1/0. */
export function parseSwitch(name: string, text: string): boolean {
  const value = text.trim().toLowerCase();
  if (['on', 'true', '1', 'yes'].includes(value)) return true;
  if (['off', 'false', '0', 'no'].includes(value)) return false;
  throw new Error(`invalid ${name}: ${text} (on or off)`);
}

/** Which role wins when several mapped values match. */
const ROLE_ORDER: readonly UserRole[] = ['admin', 'policy-author', 'approver', 'viewer'];

export type ClaimMapping = { ok: true; username: string; role: UserRole; groups: string[] } | { ok: false; code: 'sso_no_role' | 'sso_claim_invalid'; message: string };

/**
 * The provider's claims as an Airlock person: the username from `usernameClaim` (else `sub`), the
 * role and approver groups from the values of `roleClaim` (a string or an array; other entries and
 * other types are ignored). No mapped value: `defaultRole`, least privilege (viewer), or refused.
 */
export function mapClaims(claims: Record<string, unknown>, config: Pick<OidcConfig, 'usernameClaim' | 'roleClaim' | 'roles' | 'approverGroups' | 'defaultRole'>): ClaimMapping {
  const named = claims[config.usernameClaim];
  const username = typeof named === 'string' && named.trim() !== '' ? named.trim() : claims.sub;
  if (typeof username !== 'string' || username === '' || username.length > 128 || [...username].some((char) => char < ' ' || char === '\u007f')) {
    return { ok: false, code: 'sso_claim_invalid', message: `the provider sent no usable '${config.usernameClaim}' or 'sub' claim (a string of 1 to 128 printable characters)` };
  }
  const raw = claims[config.roleClaim];
  const values = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.filter((value): value is string => typeof value === 'string') : [];
  // Own properties only: a claim value like "constructor" or "__proto__" maps to nothing.
  const own = <T>(table: Record<string, T>, key: string): T | undefined => (Object.hasOwn(table, key) ? table[key] : undefined);
  const matched = new Set(values.map((value) => own(config.roles, value)).filter((role): role is UserRole => role !== undefined));
  const groups = [...new Set(values.flatMap((value) => own(config.approverGroups, value) ?? []))].sort();
  const role = ROLE_ORDER.find((candidate) => matched.has(candidate)) ?? config.defaultRole;
  if (role === 'none') {
    return { ok: false, code: 'sso_no_role', message: `no value of the '${config.roleClaim}' claim maps to an Airlock role, and people without one are refused (defaultRole: none)` };
  }
  return { ok: true, username, role, groups };
}
