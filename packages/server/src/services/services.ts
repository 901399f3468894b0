import { randomBytes } from 'node:crypto';
import { MemoryCounterStore } from '@airlock/core';
import type { Clock } from '../clock.js';
import { AuditWriter } from '../audit/writer.js';
import { Metrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import { AgentService } from './agents.js';
import { ApprovalService } from './approvals.js';
import { AuditService } from './audit.js';
import { AuthService } from './auth.js';
import { restoreCounters } from './counters.js';
import { DecisionService } from './decisions.js';
import { MemoryEventBus, type EventBus } from './events.js';
import { LoginThrottle } from './login-throttle.js';
import { PolicyService } from './policies.js';
import { parseNotificationConfig, type NotificationConfigInput } from '../notifications/config.js';
import { NotificationDispatcher } from '../notifications/dispatcher.js';
import { LinkSigner } from '../notifications/links.js';
import type { Notifier } from '../notifications/notifier.js';

export interface ServiceOptions {
  clock: Clock;
  /** How long an approval stays open. */
  approvalTtlMs: number;
  sessionTtlMs: number;
  /** Failed logins allowed per username and client address per minute. */
  loginAttemptsPerMinute: number;
  /** How far back the audit trail is replayed into the limit counters at start. */
  restoreWindowMs: number;
  /** Idempotency keys are honoured this long. */
  idempotencyTtlMs: number;
  /** Most audit records per transaction. */
  maxBatch: number;
  /** Audit batches handed to the store before the first of them is durable. */
  maxBatchesInFlight: number;
  events?: EventBus;
  /** Notification channels; absent: none. */
  notifications?: NotificationConfigInput | undefined;
  /** Signs approve/deny links; default: a random key for this process only. */
  linkKey?: Buffer | undefined;
  /** Replace configured channels by name (custom transports). */
  notifiers?: Notifier[] | undefined;
  /** Where notification secrets named by `secretEnv` are read. Default: process.env. */
  env?: Record<string, string | undefined>;
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
  policies: PolicyService;
  approvals: ApprovalService;
  notifications: NotificationDispatcher;
  links: { signer: LinkSigner; mode: 'login' | 'one-click' };
  decisions: DecisionService;
  audit: AuditService;
  /** Expires due approvals and forgets expired sessions and idempotency keys. */
  maintain(): Promise<void>;
  /** Waits for queued audit records, then closes the store. */
  close(): Promise<void>;
}

/** Wires the services over a store; restores limit state and the active policy from it. */
export async function createServices(store: Store, options: ServiceOptions): Promise<Services> {
  const { clock } = options;
  const writer = new AuditWriter(store, { maxBatch: options.maxBatch, maxInFlight: options.maxBatchesInFlight });
  const events = options.events ?? new MemoryEventBus();
  const metrics = new Metrics();
  const counters = new MemoryCounterStore();
  await restoreCounters(store, counters, clock.now() - options.restoreWindowMs);
  const policies = new PolicyService(store, writer, events, clock, counters);
  await policies.load();
  const approvals = new ApprovalService(store, writer, events, clock, { ttlMs: options.approvalTtlMs, policies });
  const notificationConfig = parseNotificationConfig(options.notifications ?? {});
  const signer = new LinkSigner(options.linkKey ?? randomBytes(32));
  const logError = options.logError ?? ((message: string) => console.error(message));
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
  const throttle = new LoginThrottle(clock, options.loginAttemptsPerMinute, 60_000);
  return {
    store,
    clock,
    writer,
    events,
    metrics,
    agents: new AgentService(store, writer, clock),
    auth: new AuthService(store, writer, clock, throttle, options.sessionTtlMs),
    policies,
    approvals,
    notifications,
    links: { signer, mode: notificationConfig.links.mode },
    decisions: new DecisionService(store, writer, policies, approvals, events, metrics, clock),
    audit: new AuditService(store),
    async maintain() {
      await approvals.sweep();
      await store.deleteSessionsExpiredBy(clock.now());
      await store.deleteIdempotencyBefore(clock.now() - options.idempotencyTtlMs);
    },
    async close() {
      approvals.releaseWaiters();
      await approvals.stopScheduler();
      await notifications.close();
      await writer.flush();
      await store.close();
    },
  };
}
