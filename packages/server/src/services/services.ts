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
import { InsightsService } from './insights.js';
import { MemoryEventBus, type EventBus } from './events.js';
import { LoginThrottle } from './login-throttle.js';
import { PolicyService } from './policies.js';
import { SimulationService } from './simulation.js';

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
  decisions: DecisionService;
  audit: AuditService;
  insights: InsightsService;
  simulation: SimulationService;
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
  const approvals = new ApprovalService(store, writer, events, clock, options.approvalTtlMs);
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
    decisions: new DecisionService(store, writer, policies, approvals, events, metrics, clock),
    audit: new AuditService(store),
    insights: new InsightsService(store, approvals, clock),
    simulation: new SimulationService(store, policies, clock),
    async maintain() {
      await approvals.sweep();
      await store.deleteSessionsExpiredBy(clock.now());
      await store.deleteIdempotencyBefore(clock.now() - options.idempotencyTtlMs);
    },
    async close() {
      approvals.releaseWaiters();
      await writer.flush();
      await store.close();
    },
  };
}
