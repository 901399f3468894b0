import { parseBundle } from '@airlock/core';
import { setTimer, type Clock } from '../clock.js';
import type { AuditWriter } from '../audit/writer.js';
import { newId } from '../ids.js';
import type { Store } from '../store/store.js';
import { AnomalyDetector, type AnomalyOptions, type RateAnomaly } from './anomaly-detector.js';
import { FailureRateDetector, type FailureRateOptions, type OutcomeCount } from './failure-rate-detector.js';
import type { EventBus } from './events.js';
import { KeyedLock, type Locks } from './keyed-lock.js';
import type { PolicyService } from './policies.js';

/** One agent's anomalies in one closed bucket: what is audited, published and notified. */
export interface AnomalyAlert {
  id: string;
  /** When it was raised, ISO 8601. */
  at: string;
  agent: string;
  bucketStart: string;
  bucketEnd: string;
  anomalies: RateAnomaly[];
  /** One line for people. */
  summary: string;
}

export interface AnomalyServiceOptions {
  /** Bucket length. Default 5 minutes. */
  bucketMs?: number;
  /** History replayed into the baselines at start. Default 24 hours. */
  historyMs?: number;
  /** The same anomaly (agent, tool, metric, kind) is not alerted again within this time. Default 1 hour. */
  cooldownMs?: number;
  /** Detector thresholds (anomaly-detector.ts). */
  detector?: Partial<AnomalyOptions>;
  /** Failure-rate thresholds (failure-rate-detector.ts). */
  failureRates?: Partial<FailureRateOptions>;
  /** Cluster-wide mutual exclusion (Redis), so one instance raises each alert. */
  locks?: Locks;
  logError: (message: string) => void;
}

export type AlertListener = (alert: AnomalyAlert) => void;

/** How much history the baselines have: no alert is raised for an agent still learning. */
export interface AnomalyBaseline {
  /** History an agent needs before it can be flagged. */
  warmupMs: number;
  /** Agents seen (of the one asked for), with the history observed since their first call. */
  agents: { agent: string; historyMs: number; learning: boolean }[];
  /** True while the detector has not yet run (the server just started). */
  starting: boolean;
}

/**
 * Runs the anomaly detector over the audit trail, bucket by bucket on the injected clock: at
 * start it replays the last day into the baselines, then after each bucket closes it counts that
 * bucket's decisions and raises an alert per agent with anomalies (audited `anomaly.flagged`,
 * published as an `anomaly` event, sent to the listeners: notifications, quarantine). The
 * trail is the source, so every instance of a cluster sees the whole fleet; the lock and a look
 * at the trail make one of them raise each alert, and hold the cooldown across instances and
 * restarts.
 */
export class AnomalyService {
  private readonly bucketMs: number;
  private readonly historyMs: number;
  private readonly cooldownMs: number;
  private readonly locks: Locks;
  private detector: AnomalyDetector;
  private readonly failures: FailureRateDetector;
  private limitIds = new Set<string>();
  private limitVersion: number | undefined;
  private readonly listeners: AlertListener[] = [];
  private nextBucket = 0;
  private cancel: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly writer: AuditWriter,
    private readonly events: EventBus,
    private readonly policies: PolicyService,
    private readonly clock: Clock,
    private readonly options: AnomalyServiceOptions,
  ) {
    this.bucketMs = options.bucketMs ?? 5 * 60_000;
    this.historyMs = options.historyMs ?? 24 * 3_600_000;
    this.cooldownMs = options.cooldownMs ?? 3_600_000;
    this.locks = options.locks ?? new KeyedLock();
    this.detector = new AnomalyDetector(options.detector, (rule) => this.limitIds.has(rule));
    this.failures = new FailureRateDetector(options.failureRates);
  }

  /** Calls `listener` with every alert this instance raises. */
  onAlert(listener: AlertListener): void {
    this.listeners.push(listener);
  }

  /** Replays recent history into the baselines, then checks each bucket as it closes. */
  async start(): Promise<void> {
    await this.refreshLimits();
    const current = Math.floor(this.clock.now() / this.bucketMs) * this.bucketMs;
    const from = current - this.historyMs;
    const [rows, outcomeRows] = await Promise.all([
      this.store.decisionCounts({ fromMs: from, toMs: current }, this.bucketMs),
      this.store.outcomeCounts({ fromMs: from, toMs: current }, this.bucketMs),
    ]);
    const buckets = Math.round(this.historyMs / this.bucketMs);
    let i = 0;
    let j = 0;
    for (let bucket = 0; bucket < buckets; bucket++) {
      const counts = [];
      while (i < rows.length && (rows[i] as { bucket: number }).bucket === bucket) counts.push(rows[i++] as (typeof rows)[number]);
      this.detector.observe(from + bucket * this.bucketMs, counts, false);
      const outcomes: OutcomeCount[] = [];
      while (j < outcomeRows.length && (outcomeRows[j] as { bucket: number }).bucket === bucket) outcomes.push(outcomeRows[j++] as OutcomeCount);
      this.failures.observe(from + bucket * this.bucketMs, outcomes, false);
    }
    this.nextBucket = current;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancel?.();
    await this.running;
  }

  /** How far each agent's baseline has come (all agents seen, or one). */
  baseline(agent?: string): AnomalyBaseline {
    const warmup = this.detector.warmupBuckets;
    const seen = agent === undefined ? this.detector.observedAgents() : [{ agent, buckets: this.detector.observedBuckets(agent) }];
    return {
      warmupMs: warmup * this.bucketMs,
      agents: seen.map(({ agent: id, buckets }) => ({ agent: id, historyMs: buckets * this.bucketMs, learning: buckets < warmup })),
      starting: this.nextBucket === 0,
    };
  }

  /** Recent alerts from the audit trail, newest first. */
  async recent(filter: { sinceMs: number; agent?: string; limit: number }): Promise<AnomalyAlert[]> {
    const rows = await this.store.queryAudit(
      { type: 'anomaly.flagged', fromMs: filter.sinceMs, ...(filter.agent === undefined ? {} : { agent: filter.agent }) },
      { limit: filter.limit },
    );
    return rows.map((row) => (JSON.parse(row.payload) as { data: AnomalyAlert }).data);
  }

  private schedule(): void {
    if (this.stopped) return;
    // A little after the bucket closes, so decisions decided at its end are durable.
    const due = this.nextBucket + this.bucketMs + 1_000;
    this.cancel = setTimer(this.clock, Math.max(0, due - this.clock.now()), () => {
      this.running = this.catchUp()
        .catch((error: unknown) => this.options.logError(`anomaly check failed: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => this.schedule());
      return this.running;
    });
  }

  /** Checks every bucket that has closed since the last check, in order. */
  private async catchUp(): Promise<void> {
    while (!this.stopped && this.nextBucket + this.bucketMs + 1_000 <= this.clock.now()) {
      const start = this.nextBucket;
      await this.checkBucket(start);
      this.nextBucket = start + this.bucketMs;
    }
  }

  private async checkBucket(start: number): Promise<void> {
    await this.refreshLimits();
    const end = start + this.bucketMs;
    const [rows, outcomes] = await Promise.all([this.store.decisionCounts({ fromMs: start, toMs: end }, this.bucketMs), this.store.outcomeCounts({ fromMs: start, toMs: end }, this.bucketMs)]);
    // Failure rates per tool (execution outcomes reported in the bucket) beside the decision rates.
    const anomalies = [...this.detector.observe(start, rows), ...this.failures.observe(start, outcomes)];
    const byAgent = new Map<string, RateAnomaly[]>();
    for (const anomaly of anomalies) {
      const list = byAgent.get(anomaly.agent) ?? [];
      list.push(anomaly);
      byAgent.set(anomaly.agent, list);
    }
    for (const [agent, list] of byAgent) await this.raise(agent, start, end, list);
  }

  /**
   * Raises one agent's alert for a bucket, without the anomalies alerted within the cooldown.
   * Both checks read the trail under the cluster lock, not this process's memory: every instance
   * flags the same anomalies from the shared trail, and an instance that started (or restarted)
   * after an alert knows of it only from there.
   */
  private async raise(agent: string, start: number, end: number, flagged: RateAnomaly[]): Promise<void> {
    const alert = await this.locks.run(`anomaly:${agent}`, async () => {
      const now = this.clock.now();
      const from = Math.min(end, now - this.cooldownMs);
      // One alert per agent and bucket, raised as the bucket closes: the window holds one per bucket.
      const recent = (await this.store.queryAudit({ type: 'anomaly.flagged', agent, fromMs: from }, { limit: Math.ceil((now - from) / this.bucketMs) + 1 })).map(
        (row) => (JSON.parse(row.payload) as { data: AnomalyAlert }).data,
      );
      const bucketStart = new Date(start).toISOString();
      // Another instance raised this bucket's alert already.
      if (recent.some((raised) => raised.bucketStart === bucketStart)) return undefined;
      const cooling = new Set(recent.filter((raised) => Date.parse(raised.at) > now - this.cooldownMs).flatMap((raised) => raised.anomalies.flatMap(alertedKeys)));
      const anomalies = flagged.filter((anomaly) => !cooling.has(anomalyKey(anomaly)));
      if (anomalies.length === 0) return undefined;
      const raised: AnomalyAlert = {
        id: newId('anm'),
        at: new Date(now).toISOString(),
        agent,
        bucketStart,
        bucketEnd: new Date(end).toISOString(),
        anomalies,
        summary: anomalies.map((a) => a.message).join('; '),
      };
      await this.writer.append([{ record: { type: 'anomaly.flagged', at: now, actor: 'system', agent, data: raised as unknown as Record<string, unknown> } }]);
      return raised;
    });
    if (!alert) return;
    this.events.publish({ type: 'anomaly', data: alert });
    for (const listener of this.listeners) {
      try {
        listener(alert);
      } catch (error) {
        this.options.logError(`anomaly listener failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  /** Limit ids of the active version: decisions they decided are limit hits. */
  private async refreshLimits(): Promise<void> {
    const active = this.policies.active();
    if (!active || active.version === this.limitVersion) return;
    const detail = await this.policies.get(active.version);
    const bundle = parseBundle(detail.sources, detail.bundle);
    this.limitIds = new Set(bundle.policies.flatMap((policy) => (policy.document.limits ?? []).map((limit) => limit.id)));
    this.limitVersion = active.version;
  }
}

/** What the cooldown tells apart: the same kind of anomaly on the same agent, tool and metric. */
function anomalyKey(anomaly: Pick<RateAnomaly, 'code' | 'agent' | 'tool' | 'metric'>): string {
  return `${anomaly.code}\u0000${anomaly.agent}\u0000${anomaly.tool ?? ''}\u0000${anomaly.metric}`;
}

/** The keys an alerted anomaly holds back: a new tool's first burst and the spike of calls that follows it are one story. */
function alertedKeys(anomaly: RateAnomaly): string[] {
  const key = anomalyKey(anomaly);
  return anomaly.code === 'new_tool' ? [key, anomalyKey({ ...anomaly, code: 'rate_spike', metric: 'calls' })] : [key];
}
