import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadNotificationConfig, type NotificationConfigInput } from './notifications/config.js';
import type { AuditWebhookConfig } from './services/audit-forwarder.js';
import { AUDIT_SCAN_LIMIT } from './services/audit.js';
import { MAX_SIMULATION_CHARS } from './services/simulation.js';
import { oidcConfigFromEnvironment, parseSwitch, type OidcConfig } from './sso-config.js';

export interface ServerConfig {
  host: string;
  port: number;
  /** Holds airlock.db and demo-keys.json. */
  dataDir: string;
  /** Password of the `admin` user created on first start; random (and printed) when absent. */
  adminPassword?: string;
  /** Bundle directory seeded as policy version 1 on first start; default: the example policies shipped in this package. */
  seedPolicies: string;
  /** The built dashboard served at `/` (index.html and assets/); default: the copy shipped in this package. */
  dashboardDir: string;
  approvalTtlMs: number;
  sessionTtlMs: number;
  /**
   * Mark session cookies Secure: always (true), never (false), or 'auto': when the request came over
   * https (TLS, or a trusted proxy's `X-Forwarded-Proto: https`). A browser drops a Secure cookie set
   * over plain http, so true is for servers only ever reached over https.
   */
  secureCookies: boolean | 'auto';
  /**
   * Reverse proxies in front of the server, whose `X-Forwarded-For` / `X-Forwarded-Proto` are
   * believed: false (default: both headers ignored, the client is the TCP peer) or their addresses,
   * CIDR ranges and the names loopback, linklocal, uniquelocal. The client is then the rightmost
   * `X-Forwarded-For` address that is not a trusted proxy; the login throttle keys on it.
   */
  trustProxy: TrustProxy;
  heartbeatMs: number;
  /** Period of the approval-expiry and cleanup sweep. */
  sweepIntervalMs: number;
  /** Login attempts per username and client address per minute. */
  loginAttemptsPerMinute: number;
  /** Login attempts per username per minute, from all addresses together. */
  loginAttemptsPerUserPerMinute: number;
  restoreWindowMs: number;
  idempotencyTtlMs: number;
  /** Most audit records per transaction. */
  maxBatch: number;
  /** Audit batches handed to the writer before the first of them is durable. */
  maxBatchesInFlight: number;
  /** Anomaly detection compares per-agent rates in buckets of this length (anomaly-alerts.ts). */
  anomalyBucketMs: number;
  /** Audit streams and the forwarder read the store at least this often, whatever the wake-up events say. */
  auditPollMs: number;
  /** A simulation replaying recorded calls stops with `simulation_too_long` past this long. */
  simulationDeadlineMs: number;
  /** Most record text a simulation of recorded calls reads; past it the replay covers the newest that fit. */
  simulationMaxChars: number;
  /** Most records one page of an audit search examines when no single index serves its filter (services/audit.ts). */
  auditScanLimit: number;
  /** `postgres://…`: the store is PostgreSQL instead of the SQLite file (several instances). */
  databaseUrl?: string;
  /** PostgreSQL schema for Airlock's tables. */
  databaseSchema?: string;
  /** `redis://…`: limit counters, live events and locks shared with other instances. */
  redisUrl?: string;
  /** Prefix of Airlock's Redis keys and channels. */
  redisPrefix?: string;
  /** Approval notification channels (webhook, Slack, email), link mode, retries. Absent: no notifications. */
  notifications?: NotificationConfigInput | undefined;
  /** Key for approve/deny links; default: a random key kept in the data directory. */
  linkSecret?: string | undefined;
  /** Push the audit trail to this webhook (docs/audit-stream.md); absent: no forwarding. */
  auditWebhook?: AuditWebhookConfig | undefined;
  /** Single sign-on through an OpenID Connect provider (docs/sso.md); absent: none. */
  oidc?: OidcConfig | undefined;
  /** Sign-in with a username and password; false (AIRLOCK_PASSWORD_LOGIN=off) needs `oidc`. */
  passwordLogin: boolean;
}

/** See `ServerConfig.trustProxy`. */
export type TrustProxy = false | string[];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const DEFAULT_CONFIG: ServerConfig = {
  host: '127.0.0.1',
  port: 7300,
  dataDir: './data',
  // Inside this package (from src/ and dist/ alike): copied there by scripts/bundle-assets.mjs at
  // build and pack time, so an installed server reads nothing outside its own directory.
  seedPolicies: fileURLToPath(new URL('../seed-policies', import.meta.url)),
  dashboardDir: fileURLToPath(new URL('../dashboard-dist', import.meta.url)),
  approvalTtlMs: 15 * MINUTE,
  sessionTtlMs: 12 * HOUR,
  secureCookies: 'auto',
  trustProxy: false,
  heartbeatMs: 15_000,
  sweepIntervalMs: 30_000,
  loginAttemptsPerMinute: 5,
  loginAttemptsPerUserPerMinute: 20,
  restoreWindowMs: 7 * 24 * HOUR,
  idempotencyTtlMs: 24 * HOUR,
  // Group commit: one batch committing while the next one grows. Measured against 32 records with
  // 4 in flight (bench:server, 2026-12-06): +7-13 % decisions/s, p99 no worse. PostgreSQL, whose
  // instances take turns at the chain's advisory lock, had these settings already.
  maxBatch: 256,
  maxBatchesInFlight: 1,
  anomalyBucketMs: 5 * 60_000,
  auditPollMs: 1_000,
  simulationDeadlineMs: 30_000,
  simulationMaxChars: MAX_SIMULATION_CHARS,
  auditScanLimit: AUDIT_SCAN_LIMIT,
  passwordLogin: true,
};

export interface ConfigFlags {
  host?: string | undefined;
  port?: string | number | undefined;
  dataDir?: string | undefined;
  /** Notification configuration file. */
  notifications?: string | undefined;
}

/**
 * Flags win over the environment, which wins over defaults: AIRLOCK_HOST, AIRLOCK_PORT,
 * AIRLOCK_DATA_DIR, AIRLOCK_ADMIN_PASSWORD, AIRLOCK_NOTIFICATIONS (a YAML or JSON file),
 * AIRLOCK_PUBLIC_URL, AIRLOCK_LINK_SECRET, AIRLOCK_DATABASE_URL, AIRLOCK_DATABASE_SCHEMA,
 * AIRLOCK_REDIS_URL, AIRLOCK_REDIS_PREFIX, AIRLOCK_AUDIT_MAX_BATCH, AIRLOCK_AUDIT_BATCHES_IN_FLIGHT,
 * AIRLOCK_ANOMALY_BUCKET_MS, AIRLOCK_AUDIT_POLL_MS, AIRLOCK_TRUST_PROXY, AIRLOCK_SECURE_COOKIES, AIRLOCK_LOGIN_ATTEMPTS_PER_MINUTE,
 * AIRLOCK_LOGIN_ATTEMPTS_PER_USER_PER_MINUTE, AIRLOCK_AUDIT_WEBHOOK_* (below), AIRLOCK_OIDC_* and
 * AIRLOCK_OIDC_CONFIG (single sign-on, sso-config.ts), AIRLOCK_PASSWORD_LOGIN (on/off).
 */
export function configFromEnvironment(flags: ConfigFlags, env: Record<string, string | undefined>): Partial<ServerConfig> {
  const config: Partial<ServerConfig> = {};
  const host = flags.host ?? env.AIRLOCK_HOST;
  if (host) config.host = host;
  const port = flags.port ?? env.AIRLOCK_PORT;
  if (port !== undefined && port !== '') {
    const value = Number(port);
    if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`invalid port: ${String(port)}`);
    config.port = value;
  }
  const dataDir = flags.dataDir ?? env.AIRLOCK_DATA_DIR;
  if (dataDir) config.dataDir = dataDir;
  if (env.AIRLOCK_ADMIN_PASSWORD) config.adminPassword = env.AIRLOCK_ADMIN_PASSWORD;
  if (env.AIRLOCK_DATABASE_URL) config.databaseUrl = env.AIRLOCK_DATABASE_URL;
  if (env.AIRLOCK_DATABASE_SCHEMA) config.databaseSchema = env.AIRLOCK_DATABASE_SCHEMA;
  if (env.AIRLOCK_REDIS_URL) config.redisUrl = env.AIRLOCK_REDIS_URL;
  if (env.AIRLOCK_REDIS_PREFIX) config.redisPrefix = env.AIRLOCK_REDIS_PREFIX;
  const maxBatch = positiveInteger('AIRLOCK_AUDIT_MAX_BATCH', env.AIRLOCK_AUDIT_MAX_BATCH);
  if (maxBatch !== undefined) config.maxBatch = maxBatch;
  const inFlight = positiveInteger('AIRLOCK_AUDIT_BATCHES_IN_FLIGHT', env.AIRLOCK_AUDIT_BATCHES_IN_FLIGHT);
  if (inFlight !== undefined) config.maxBatchesInFlight = inFlight;
  const anomalyBucket = positiveInteger('AIRLOCK_ANOMALY_BUCKET_MS', env.AIRLOCK_ANOMALY_BUCKET_MS);
  if (anomalyBucket !== undefined) config.anomalyBucketMs = anomalyBucket;
  const auditPoll = positiveInteger('AIRLOCK_AUDIT_POLL_MS', env.AIRLOCK_AUDIT_POLL_MS);
  if (auditPoll !== undefined) config.auditPollMs = auditPoll;
  const trustProxy = parseTrustProxy(env.AIRLOCK_TRUST_PROXY);
  if (trustProxy !== undefined) config.trustProxy = trustProxy;
  const secureCookies = parseSecureCookies(env.AIRLOCK_SECURE_COOKIES);
  if (secureCookies !== undefined) config.secureCookies = secureCookies;
  const perClient = positiveInteger('AIRLOCK_LOGIN_ATTEMPTS_PER_MINUTE', env.AIRLOCK_LOGIN_ATTEMPTS_PER_MINUTE);
  if (perClient !== undefined) config.loginAttemptsPerMinute = perClient;
  const perUser = positiveInteger('AIRLOCK_LOGIN_ATTEMPTS_PER_USER_PER_MINUTE', env.AIRLOCK_LOGIN_ATTEMPTS_PER_USER_PER_MINUTE);
  if (perUser !== undefined) config.loginAttemptsPerUserPerMinute = perUser;
  const notifications = flags.notifications ?? env.AIRLOCK_NOTIFICATIONS;
  if (notifications) config.notifications = loadNotificationConfig(notifications);
  if (env.AIRLOCK_PUBLIC_URL) config.notifications = { ...config.notifications, publicUrl: env.AIRLOCK_PUBLIC_URL };
  if (env.AIRLOCK_LINK_SECRET) config.linkSecret = env.AIRLOCK_LINK_SECRET;
  const oidc = oidcConfigFromEnvironment(env);
  if (oidc) config.oidc = oidc;
  if (env.AIRLOCK_PASSWORD_LOGIN) config.passwordLogin = parseSwitch('AIRLOCK_PASSWORD_LOGIN', env.AIRLOCK_PASSWORD_LOGIN);
  const auditWebhook = auditWebhookFromEnvironment(env);
  if (auditWebhook) config.auditWebhook = auditWebhook;
  return config;
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * AIRLOCK_TRUST_PROXY: off (unset, empty, false, off) or a comma-separated list of the proxies'
 * addresses, CIDR ranges, and the names loopback, linklocal, uniquelocal. Neither "trust everyone"
 * (true) nor a hop count: with either, a client that reaches the server directly would choose its
 * own address by sending X-Forwarded-For (and so escape the login throttle).
 */
export function parseTrustProxy(text: string | undefined): TrustProxy | undefined {
  if (text === undefined) return undefined;
  const value = text.trim().toLowerCase();
  if (value === '' || value === 'false' || value === 'off') return false;
  const entries = value.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    const [address = '', bits, extra] = entry.split('/');
    const family = isIP(address);
    const validBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (!PROXY_NAMES.has(entry) && (family === 0 || !validBits || extra !== undefined)) {
      throw new Error(
        `invalid AIRLOCK_TRUST_PROXY: '${entry}'; name the proxies in front of Airlock by address or CIDR range (10.0.0.5, 10.0.0.0/8) or as loopback, linklocal, uniquelocal`,
      );
    }
  }
  return entries;
}

/** AIRLOCK_SECURE_COOKIES: true, false or auto (Secure when the request came over https). */
function parseSecureCookies(text: string | undefined): boolean | 'auto' | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const value = text.trim().toLowerCase();
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  if (value === 'auto') return 'auto';
  throw new Error(`invalid AIRLOCK_SECURE_COOKIES: ${text} (true, false or auto)`);
}

function positiveInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`invalid ${name}: ${text}`);
  return value;
}

/**
 * The audit forwarder: AIRLOCK_AUDIT_WEBHOOK_URL (on), AIRLOCK_AUDIT_WEBHOOK_SECRET (required with
 * it), AIRLOCK_AUDIT_WEBHOOK_NAME, AIRLOCK_AUDIT_WEBHOOK_BATCH, AIRLOCK_AUDIT_WEBHOOK_TIMEOUT_MS,
 * AIRLOCK_AUDIT_WEBHOOK_MAX_DELAY_MS. Checked when the server starts (checkAuditWebhook).
 */
function auditWebhookFromEnvironment(env: Record<string, string | undefined>): AuditWebhookConfig | undefined {
  const url = env.AIRLOCK_AUDIT_WEBHOOK_URL;
  if (!url) return undefined;
  const config: AuditWebhookConfig = { url, secret: env.AIRLOCK_AUDIT_WEBHOOK_SECRET ?? '' };
  if (env.AIRLOCK_AUDIT_WEBHOOK_NAME) config.name = env.AIRLOCK_AUDIT_WEBHOOK_NAME;
  const batch = positiveInteger('AIRLOCK_AUDIT_WEBHOOK_BATCH', env.AIRLOCK_AUDIT_WEBHOOK_BATCH);
  if (batch !== undefined) config.batchSize = batch;
  const timeout = positiveInteger('AIRLOCK_AUDIT_WEBHOOK_TIMEOUT_MS', env.AIRLOCK_AUDIT_WEBHOOK_TIMEOUT_MS);
  if (timeout !== undefined) config.timeoutMs = timeout;
  const maxDelay = positiveInteger('AIRLOCK_AUDIT_WEBHOOK_MAX_DELAY_MS', env.AIRLOCK_AUDIT_WEBHOOK_MAX_DELAY_MS);
  if (maxDelay !== undefined) config.maxDelayMs = maxDelay;
  return config;
}
