import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { buildApp } from './app.js';
import { systemClock, type Clock } from './clock.js';
import { DEFAULT_CONFIG, type ServerConfig } from './config.js';
import { DEMO_KEYS_FILE, seed, type SeedResult } from './seed.js';
import { createServices } from './services/services.js';
import { openSharedState, type SharedState } from './redis/shared-state.js';
import { openPostgresStore, withSetupLock } from './store/postgres/postgres-store.js';
import { openSqliteStore } from './store/sqlite/sqlite-store.js';
import { loadLinkSecret } from './notifications/link-secret.js';
import type { Notifier } from './notifications/notifier.js';
import type { Store } from './store/store.js';
import { Telemetry, type OtelEnvironment } from './telemetry.js';

export const DATABASE_FILE = 'airlock.db';

export interface StartOptions extends Partial<ServerConfig> {
  clock?: Clock;
  /** Operator-facing lines (URL, login, demo keys). Default: stdout. */
  print?: (line: string) => void;
  /** Unexpected errors. Default: stderr. */
  logError?: (message: string) => void;
  /** Shut down gracefully on SIGINT / SIGTERM. */
  handleSignals?: boolean;
  /** Checks a password against its stored hash instead of scrypt (tests count and hold the checks). */
  verifyPassword?: (password: string, hash: string) => Promise<boolean>;
  /** Transports for notification channels, by channel name, instead of the built-in ones (custom channels, tests). */
  notifiers?: Notifier[];
  /** Where the OpenTelemetry `OTEL_*` variables are read (docs/observability.md). Default: process.env. */
  otelEnvironment?: OtelEnvironment;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  dataDir: string;
  databaseFile: string;
  /** What this start created (first start only): admin login, demo keys, seed policy version. */
  seeded: SeedResult;
  /** Stops accepting requests, ends streams, flushes the audit writer, closes the database. */
  close(): Promise<void>;
  /** Resolves once the server has closed (by `close` or a signal). */
  closed: Promise<void>;
}

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** Starts the control plane on one SQLite file: migrate, seed on first start, listen. */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const config: ServerConfig = { ...DEFAULT_CONFIG };
  const optional = ['databaseUrl', 'databaseSchema', 'redisUrl', 'redisPrefix'];
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && (key in DEFAULT_CONFIG || optional.includes(key))) (config as unknown as Record<string, unknown>)[key] = value;
  }
  if (options.adminPassword !== undefined) config.adminPassword = options.adminPassword;
  if (options.notifications !== undefined) config.notifications = options.notifications;
  if (options.linkSecret !== undefined) config.linkSecret = options.linkSecret;
  if (options.auditWebhook !== undefined) config.auditWebhook = options.auditWebhook;
  if (options.oidc !== undefined) config.oidc = options.oidc;
  const clock = options.clock ?? systemClock;
  const print = options.print ?? ((line: string) => console.log(line));
  const logError = options.logError ?? ((message: string) => console.error(message));

  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const databaseFile = config.databaseUrl === undefined ? join(config.dataDir, DATABASE_FILE) : redactUrl(config.databaseUrl);
  const { databaseUrl, databaseSchema } = config;
  const store: Store =
    databaseUrl === undefined ? await openSqliteStore(databaseFile) : await openPostgresStore(databaseUrl, databaseSchema === undefined ? {} : { schema: databaseSchema });
  let shared: SharedState | undefined;
  let telemetry: Telemetry | undefined;
  let services;
  let app;
  let seeded: SeedResult;
  let port: number;
  try {
    if (config.redisUrl !== undefined) shared = await openSharedState(config.redisUrl, config.redisPrefix === undefined ? {} : { prefix: config.redisPrefix });
    services = await createServices(store, {
      ...config,
      clock,
      linkKey: loadLinkSecret(config.dataDir, config.linkSecret),
      logError,
      notifiers: options.notifiers,
      verifyPassword: options.verifyPassword,
      ...(shared ? { shared } : {}),
    });
    telemetry = await Telemetry.fromEnvironment(options.otelEnvironment ?? process.env, { version, logError });
    const counted = services;
    telemetry?.observe(services.metrics, () => counted.store.countPendingApprovals(clock.now()));
    const ready = services;
    const seedOnce = (): Promise<SeedResult> => seed(ready, { seedPolicies: config.seedPolicies, adminPassword: config.adminPassword, dataDir: config.dataDir });
    // Instances starting together on one database seed it once.
    seeded = databaseUrl === undefined ? await seedOnce() : await withSetupLock(databaseUrl, databaseSchema, seedOnce);
    app = await buildApp(services, { secureCookies: config.secureCookies, trustProxy: config.trustProxy, sessionTtlMs: config.sessionTtlMs, heartbeatMs: config.heartbeatMs, version, logError, dashboardDir: config.dashboardDir, telemetry });
    await app.listen({ host: config.host, port: config.port });
    port = (app.server.address() as AddressInfo).port;
    services.notifications.useServerUrl(serverUrl(config.host, port));
    // Applies timeouts that fell due while the server was down, then fires them on time.
    await services.approvals.startScheduler((error) => logError(`approval scheduler: ${error instanceof Error ? error.message : String(error)}`));
    // Replays the last day into the per-agent baselines, then checks each bucket as it closes.
    await services.anomalies.start();
    services.auditForwarder?.start();
  } catch (error) {
    await app?.close();
    await telemetry?.shutdown();
    if (services) await services.close();
    else {
      await store.close();
      await shared?.close();
    }
    throw error;
  }
  const ready = services;
  const listening = app;

  const sweep = setInterval(() => {
    ready.maintain().catch((error: unknown) => logError(`maintenance failed: ${error instanceof Error ? error.message : String(error)}`));
  }, config.sweepIntervalMs);
  sweep.unref();

  const url = serverUrl(config.host, port);

  let resolveClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let closing: Promise<void> | undefined;
  const onSignal = (): void => {
    void close();
  };
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(sweep);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      try {
        await listening.close();
      } finally {
        await telemetry?.shutdown();
        await ready.close();
        resolveClosed();
      }
    })();
    return closing;
  };
  if (options.handleSignals) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  printBanner(print, { url, databaseFile, dataDir: config.dataDir, seeded, passwordFromEnv: config.adminPassword !== undefined });
  return { url, host: config.host, port, dataDir: config.dataDir, databaseFile, seeded, close, closed };
}

function serverUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function printBanner(
  print: (line: string) => void,
  info: { url: string; databaseFile: string; dataDir: string; seeded: SeedResult; passwordFromEnv: boolean },
): void {
  const { seeded } = info;
  print(`Airlock is running at ${info.url}`);
  print(`  database: ${info.databaseFile}`);
  if (seeded.policyVersion !== undefined) print(`  policies: the example bundle, stored and activated as version ${seeded.policyVersion}`);
  if (seeded.admin) {
    const shown = seeded.admin.generated ? `${seeded.admin.password}   (random, shown only this once)` : '(the password in AIRLOCK_ADMIN_PASSWORD)';
    print(`  login:    ${seeded.admin.username} / ${shown}`);
  } else {
    print('  login:    admin / (the password set on first start)');
  }
  if (seeded.demoKeys) {
    print(`  demo agent keys (shown once; also in ${join(info.dataDir, DEMO_KEYS_FILE)}):`);
    for (const key of seeded.demoKeys) print(`    ${key.agent.padEnd(15)} ${key.role.padEnd(9)} ${key.key}`);
  }
}

/** A database URL without its password, for printing. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres (unparsable URL)';
  }
}
