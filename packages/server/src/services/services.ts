import { randomBytes } from 'node:crypto';
import { MemoryCounterStore, MemorySeenStore, type CounterStore, type SessionAttributes } from '@airlock/core';
import type { Clock } from '../clock.js';
import { AuditWriter } from '../audit/writer.js';
import { Metrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import { AgentService } from './agents.js';
import { ApprovalService } from './approvals.js';
import { AuditService } from './audit.js';
import { AuditFeed } from './audit-feed.js';
import { AuditForwarder, type AuditWebhookConfig } from './audit-forwarder.js';
import { AuthService } from './auth.js';
import { OidcService } from './oidc.js';
import type { OidcConfig } from '../sso-config.js';
import type { SharedState } from '../redis/shared-state.js';
import { COUNTERS_LOST } from '../redis/redis-counter-store.js';
import { ensureSharedCounters, restoreCounters, restoreSeen, restoreSpanMs } from './counters.js';
import { DecisionService } from './decisions.js';
import { OutcomeService } from './outcomes.js';
import { InsightsService } from './insights.js';
import { MemoryEventBus, type EventBus } from './events.js';
import { MemoryLoginThrottle } from './login-throttle.js';
import { verifyPassword } from './passwords.js';
import { PolicyService } from './policies.js';
import { ShadowService } from './shadow.js';
import { AnomalyService } from './anomaly-alerts.js';
import { PauseService } from './pauses.js';
import { AirlockError } from '../errors.js';
import { newId } from '../ids.js';
import { SimulationService } from './simulation.js';
import { TrustService } from './trust.js';
import { TokenService } from './tokens.js';
import { parseNotificationConfig, type NotificationConfigInput } from '../notifications/config.js';
import { NotificationDispatcher } from '../notifications/dispatcher.js';
import { LinkSigner } from '../notifications/links.js';
import type { Notifier } from '../notifications/notifier.js';

export interface ServiceOptions {
  clock: Clock;
  /** How long an approval stays open. */
  approvalTtlMs: number;
  sessionTtlMs: number;
  /** Login attempts allowed per username and client address per minute (counted before the password is checked). */
  loginAttemptsPerMinute: number;
  /** Login attempts allowed per username per minute from all addresses together. */
  loginAttemptsPerUserPerMinute: number;
  /** Checks a password against its stored hash; default scrypt (`passwords.ts`). Tests count and hold checks with it. */
  verifyPassword?: ((password: string, hash: string) => Promise<boolean>) | undefined;
  /** How far back the audit trail is replayed into the limit counters at start, at least: longer when a stored policy version has a longer limit window. */
  restoreWindowMs: number;
  /** Idempotency keys are honoured this long. */
  idempotencyTtlMs: number;
  /** Most audit records per transaction. */
  maxBatch: number;
  /** Audit batches handed to the store before the first of them is durable. */
  maxBatchesInFlight: number;
  events?: EventBus;
  /**
   * State shared with other instances (Redis): limit counters, live events and locks. Without it
   * the instance keeps them in memory, restoring the counters from the audit trail at start.
   */
  shared?: SharedState;
  /** Notification channels; absent: none. */
  notifications?: NotificationConfigInput | undefined;
  /** Signs approve/deny links; default: a random key for this process only. */
  linkKey?: Buffer | undefined;
  /** Replace configured channels by name (custom transports). */
  notifiers?: Notifier[] | undefined;
  /** Where notification secrets named by `secretEnv` are read. Default: process.env. */
  env?: Record<string, string | undefined>;
  /** Anomaly detection bucket length. */
  anomalyBucketMs?: number;
  /** Audit streams and the forwarder read the store at least this often (backstop for lost wake-ups). Default 1 s. */
  auditPollMs?: number;
  /** A simulation replaying recorded calls stops past this long (default 30 s). */
  simulationDeadlineMs?: number;
  /** Most record text a simulation of recorded calls reads (default MAX_SIMULATION_CHARS). */
  simulationMaxChars?: number;
  /** Most records one page of an audit search examines when no single index serves its filter (default AUDIT_SCAN_LIMIT). */
  auditScanLimit?: number;
  /** Push the audit trail to a webhook; absent: no forwarding. */
  auditWebhook?: AuditWebhookConfig | undefined;
  /** Single sign-on through an OpenID Connect provider (docs/sso.md); absent: none. */
  oidc?: OidcConfig | undefined;
  /** False: password sign-in is refused (needs `oidc`). Default true. */
  passwordLogin?: boolean | undefined;
  /** Reports background failures (e.g. rebuilding shared counters). */
  logError?: (message: string) => void;
}

export interface Services {
  store: Store;
  clock: Clock;
  writer: AuditWriter;
  events: EventBus;
  metrics: Metrics;
  agents: AgentService;
  auth: AuthService;
  /** Single sign-on through an OpenID Connect provider; undefined when none is configured. */
  oidc: OidcService | undefined;
  /** People's API tokens. */
  tokens: TokenService;
  policies: PolicyService;
  approvals: ApprovalService;
  notifications: NotificationDispatcher;
  links: { signer: LinkSigner; mode: 'login' | 'one-click' };
  decisions: DecisionService;
  shadow: ShadowService;
  audit: AuditService;
  /** The trail as it grows: what audit streams and the forwarder follow. */
  auditFeed: AuditFeed;
  /** Pushes the trail to the configured webhook; started once the server listens. */
  auditForwarder: AuditForwarder | undefined;
  insights: InsightsService;
  simulation: SimulationService;
  trust: TrustService;
  anomalies: AnomalyService;
  pauses: PauseService;
  /** Execution outcomes: what ran after each decision, and the calls the trail cannot account for. */
  outcomes: OutcomeService;
  /** Expires due approvals and forgets expired sessions and idempotency keys. */
  maintain(): Promise<void>;
  /** Resolves when every dependency answers (store, shared state); for readiness. */
  ready(): Promise<void>;
  /** Waits for queued audit records, then closes the store. */
  close(): Promise<void>;
}

/** Wires the services over a store; restores limit state and the active policy from it. */
export async function createServices(store: Store, options: ServiceOptions): Promise<Services> {
  const { clock } = options;
  const writer = new AuditWriter(store, { maxBatch: options.maxBatch, maxInFlight: options.maxBatchesInFlight });
  const { shared } = options;
  const events = options.events ?? shared?.events ?? new MemoryEventBus();
  const metrics = new Metrics();
  const logError = options.logError ?? ((message: string) => console.error(message));
  // Every committed batch wakes the audit streams and forwarders of every instance (they then read the store).
  writer.onCommitted((last) => {
    if (events.hasSubscribers('audit')) events.publish({ type: 'audit', data: { seq: last.seq } });
  });
  const auditFeed = new AuditFeed(store, events, { pollMs: options.auditPollMs ?? 1_000, logError });
  const auditForwarder = options.auditWebhook ? new AuditForwarder(store, auditFeed, clock, options.auditWebhook, { logError }) : undefined;
  // Read at each rebuild: the versions stored by then (docs/design-notes.md).
  const restoreSpan = async (): Promise<number> => restoreSpanMs(await store.listPolicyVersions(), options.restoreWindowMs);
  let counters: CounterStore;
  if (shared) {
    const redisCounters = shared.counters;
    await ensureSharedCounters(store, redisCounters, shared.locks, clock, restoreSpan);
    // Redis lost the counters while running (restart without persistence, flush): decisions with
    // limits block until they are rebuilt from the audit trail, which starts at the first refusal.
    let rebuilding: Promise<unknown> | undefined;
    counters = {
      release: (releases) => redisCounters.release(releases),
      async checkAndConsume(checks, atMs, replacing) {
        try {
          return await redisCounters.checkAndConsume(checks, atMs, replacing);
        } catch (error) {
          if (error instanceof Error && error.message.includes(COUNTERS_LOST) && !rebuilding) {
            rebuilding = ensureSharedCounters(store, redisCounters, shared.locks, clock, restoreSpan)
              .catch((failure: unknown) => logError(`rebuilding the shared limit counters failed: ${String(failure)}`))
              .finally(() => (rebuilding = undefined));
          }
          throw error;
        }
      },
    };
  } else {
    const memory = new MemoryCounterStore();
    await restoreCounters(store, memory, clock.now() - (await restoreSpan()));
    counters = memory;
  }
  const locks = shared?.locks;
  const seen = new MemorySeenStore();
  const policies = new PolicyService(store, writer, events, clock, counters, locks, seen);
  await policies.load();
  const loaded = policies.active();
  if (loaded) await restoreSeen(store, loaded.engine);
  // Another instance activated a version: load it (the database names the active version).
  events.subscribe(['policy'], (event) => {
    if (event.type === 'policy' && event.data.version !== policies.active()?.version) {
      policies.load().catch((error: unknown) => logError(`loading the policy activated elsewhere failed: ${String(error)}`));
    }
  });
  shared?.events.onReconnect(() => {
    policies.load().catch((error: unknown) => logError(`reloading the active policy failed: ${String(error)}`));
  });
  const approvals = new ApprovalService(store, writer, events, clock, {
    ttlMs: options.approvalTtlMs,
    policies,
    counters,
    logError,
    ...(locks ? { lock: locks } : {}),
  });
  const notificationConfig = parseNotificationConfig(options.notifications ?? {});
  const signer = new LinkSigner(options.linkKey ?? randomBytes(32));
  const notifications = new NotificationDispatcher({
    config: notificationConfig,
    store,
    clock,
    signer,
    env: options.env ?? process.env,
    logError,
    ...(options.notifiers ? { notifiers: options.notifiers } : {}),
  });
  approvals.listen(notifications.approvalChanged);
  // An approved call is about to run: novelty signals count it as seen from now on.
  approvals.onRedeemed = (row) => {
    policies.active()?.engine.markExecuted({
      agent: row.agent,
      role: row.role,
      environment: row.environment,
      tool: row.tool,
      args: JSON.parse(row.edited_args ?? row.args) as Record<string, unknown>,
      ...(row.session_attributes === null ? {} : { sessionAttributes: JSON.parse(row.session_attributes) as SessionAttributes }),
    });
  };
  // Several instances count login attempts together in Redis; one instance in memory.
  const throttle = shared?.logins ?? new MemoryLoginThrottle();
  const shadow = new ShadowService(store, writer, policies, clock);
  const anomalies = new AnomalyService(store, writer, events, policies, clock, {
    ...(options.anomalyBucketMs === undefined ? {} : { bucketMs: options.anomalyBucketMs }),
    ...(locks ? { locks } : {}),
    logError,
  });
  anomalies.onAlert(notifications.alert);
  const pauses = new PauseService(store, writer, events, policies, clock, { instance: newId('ins'), ...(locks ? { locks } : {}), logError });
  pauses.onQuarantine(notifications.quarantined);
  await pauses.start();
  // A policy may quarantine its agents on an anomaly alert too (`quarantine: { onAnomaly: true }`).
  // Only on what the agent did (a spike of calls, a tool it never used): a tool that keeps failing
  // says more about the system behind it than about the agent, and quarantining every agent that
  // calls a broken upstream would turn one outage into a fleet-wide stop. Those alerts notify only.
  anomalies.onAlert((alert) => {
    if (!alert.anomalies.some((anomaly) => anomaly.code !== 'failure_rate')) return;
    void (async () => {
      const agent = await store.getAgent(alert.agent);
      const setting = agent && policies.quarantineForRole(agent.role);
      if (setting?.onAnomaly) await pauses.quarantine(alert.agent, `anomaly alert ${alert.id}: ${alert.summary}`);
    })().catch((error: unknown) => logError(`quarantine on anomaly failed: ${String(error)}`));
  });
  // The kill switch holds approved calls too: they do not run while paused.
  approvals.redeemGuard = (row) => {
    const pause = pauses.check({ agent: row.agent, role: row.role }, row.tool);
    if (pause) throw new AirlockError('paused', pauses.decision(pause, { bundle: '', version: 0, policies: [] }).reason);
  };
  if (options.passwordLogin === false && !options.oidc) throw new Error('password login is switched off (AIRLOCK_PASSWORD_LOGIN=off) but no single sign-on is configured (AIRLOCK_OIDC_ISSUER): nobody could sign in');
  const auth = new AuthService(store, writer, clock, throttle, {
    sessionTtlMs: options.sessionTtlMs,
    attemptsPerClient: options.loginAttemptsPerMinute,
    attemptsPerUser: options.loginAttemptsPerUserPerMinute,
    verifyPassword: options.verifyPassword ?? verifyPassword,
    passwordLogin: options.passwordLogin,
  }, locks);
  const oidc = options.oidc ? new OidcService(store, writer, clock, auth, options.oidc) : undefined;
  const agents = new AgentService(store, writer, clock, { locks, events });
  // Revocations published while the shared bus was away were missed: look every key up again.
  shared?.events.onReconnect(() => agents.forgetAll());
  return {
    store,
    clock,
    writer,
    events,
    metrics,
    agents,
    auth,
    oidc,
    tokens: new TokenService(store, writer, clock, logError),
    policies,
    approvals,
    notifications,
    links: { signer, mode: notificationConfig.links.mode },
    shadow,
    decisions: new DecisionService(store, writer, policies, approvals, events, metrics, clock, shadow, pauses, logError, locks),
    outcomes: new OutcomeService(store, writer, policies, events, metrics, clock),
    audit: new AuditService(store, options.auditScanLimit),
    auditFeed,
    auditForwarder,
    insights: new InsightsService(store, approvals, clock),
    simulation: new SimulationService(store, policies, clock, options.simulationDeadlineMs, options.simulationMaxChars),
    trust: new TrustService(store, policies, clock),
    anomalies,
    pauses,
    async maintain() {
      await approvals.sweep();
      await store.deleteSessionsExpiredBy(clock.now());
      await oidc?.purge();
      await store.deleteIdempotencyBefore(clock.now() - options.idempotencyTtlMs);
    },
    async ready() {
      await store.ping();
      if (shared) {
        await shared.ping();
        if (!(await shared.counters.hasEpoch())) throw new Error('the shared limit counters are being rebuilt');
      }
    },
    async close() {
      approvals.releaseWaiters();
      await approvals.stopScheduler();
      await anomalies.stop();
      pauses.stop();
      // Before the feed and the store close: the POST in flight finishes and its acknowledgement is stored.
      await auditForwarder?.stop();
      auditFeed.close();
      await notifications.close();
      await writer.flush();
      await store.close();
      await shared?.close();
    },
  };
}
