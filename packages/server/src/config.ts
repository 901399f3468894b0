import { fileURLToPath } from 'node:url';

export interface ServerConfig {
  host: string;
  port: number;
  /** Holds airlock.db and demo-keys.json. */
  dataDir: string;
  /** Password of the `admin` user created on first start; random (and printed) when absent. */
  adminPassword?: string;
  /** Bundle directory seeded as policy version 1 on first start. */
  seedPolicies: string;
  /** The built dashboard served at `/` (index.html and assets/). */
  dashboardDir: string;
  approvalTtlMs: number;
  sessionTtlMs: number;
  /** Mark session cookies Secure; needed when served over https, impossible over plain http. */
  secureCookies: boolean;
  heartbeatMs: number;
  /** Period of the approval-expiry and cleanup sweep. */
  sweepIntervalMs: number;
  loginAttemptsPerMinute: number;
  restoreWindowMs: number;
  idempotencyTtlMs: number;
  /** Most audit records per transaction. */
  maxBatch: number;
  /** Audit batches handed to the writer before the first of them is durable. */
  maxBatchesInFlight: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const DEFAULT_CONFIG: ServerConfig = {
  host: '127.0.0.1',
  port: 7300,
  dataDir: './data',
  seedPolicies: fileURLToPath(new URL('../../../examples/policies', import.meta.url)),
  dashboardDir: fileURLToPath(new URL('../../dashboard/dist', import.meta.url)),
  approvalTtlMs: 15 * MINUTE,
  sessionTtlMs: 12 * HOUR,
  secureCookies: false,
  heartbeatMs: 15_000,
  sweepIntervalMs: 30_000,
  loginAttemptsPerMinute: 5,
  restoreWindowMs: 7 * 24 * HOUR,
  idempotencyTtlMs: 24 * HOUR,
  maxBatch: 32,
  maxBatchesInFlight: 4,
};

export interface ConfigFlags {
  host?: string | undefined;
  port?: string | number | undefined;
  dataDir?: string | undefined;
}

/** Flags win over the environment (AIRLOCK_HOST, AIRLOCK_PORT, AIRLOCK_DATA_DIR, AIRLOCK_ADMIN_PASSWORD), which wins over defaults. */
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
  return config;
}
