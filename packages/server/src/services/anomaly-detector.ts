import { poissonTailStart } from './tail-bounds.js';

/**
 * Rate anomalies per agent and per agent+tool, against each series' own baseline. Pure: fed one
 * closed time bucket at a time (the decisions it held, counted), it answers the flags of that
 * bucket; the caller owns time, storage and notification.
 *
 * Each series (agent × tool-or-all × metric) keeps an exponentially weighted moving average of its
 * per-bucket count and of the squared deviation (EWMA / EWMV). A bucket is a spike when the series
 * has a baseline (`warmupBuckets` observed), the count reaches `minCount`, is at least `ratio`
 * times the average, and is beyond the `falseAlarm` tail of a Poisson distribution with the
 * series' average (or its variance, when the series is burstier than Poisson), so a quiet series
 * is not flagged for one stray call. A flagged count enters the average clamped at the threshold,
 * and not the spread, so a spike does not become the new normal within one bucket. A tool that an
 * agent with a baseline never used before is flagged `new_tool` once.
 */

export type AnomalyMetric = 'calls' | 'blocks' | 'approvals' | 'limit_hits';
export const ANOMALY_METRICS: readonly AnomalyMetric[] = ['calls', 'blocks', 'approvals', 'limit_hits'];

/** Decisions of one bucket, counted by agent, tool, effect and deciding rule or limit. */
export interface DecisionCount {
  agent: string;
  tool: string;
  effect: string;
  rule: string | null;
  count: number;
}

export interface AnomalyOptions {
  /** Weight of the newest bucket in the averages. Default 0.1 (about the last 20 buckets). */
  alpha: number;
  /** Buckets a series must have seen before it can be flagged. Default 12. */
  warmupBuckets: number;
  /** Smallest count worth flagging. Default 5. */
  minCount: number;
  /** Smallest multiple of the average worth flagging. Default 3. */
  ratio: number;
  /** Chance that an ordinary bucket of a series is flagged (the Poisson tail cut). Default 1e-6. */
  falseAlarm: number;
}

export const DEFAULT_ANOMALY_OPTIONS: AnomalyOptions = { alpha: 0.1, warmupBuckets: 12, minCount: 5, ratio: 3, falseAlarm: 1e-6 };

export interface RateAnomaly {
  /** `failure_rate`: the share of a tool's reported calls that failed (failure-rate-detector.ts). */
  code: 'rate_spike' | 'new_tool' | 'failure_rate';
  agent: string;
  /** null: across all the agent's tools. */
  tool: string | null;
  /** `failures`: failed calls of those reported (execution outcomes), with `reported`. */
  metric: AnomalyMetric | 'failures';
  /** Start of the bucket, epoch ms. */
  bucketStart: number;
  count: number;
  /** The series' average per bucket before this one (0 for a new tool); for `failure_rate`, the tool's failure rate before (0 to 1). */
  baseline: number;
  /** `failure_rate`: the calls whose outcome was reported in the bucket (`count` of them failed). */
  reported?: number;
  /** The count at which this bucket would have been flagged. */
  threshold: number;
  message: string;
}

interface Series {
  mean: number;
  variance: number;
  buckets: number;
}

const ALL_TOOLS = '\u0000*';

export class AnomalyDetector {
  private readonly series = new Map<string, Series>();
  /** Tools each agent has used, and how many buckets the agent has been observed for. */
  private readonly agents = new Map<string, { tools: Set<string>; buckets: number }>();
  private readonly options: AnomalyOptions;

  constructor(
    options: Partial<AnomalyOptions> = {},
    /** Whether a deciding rule id is a limit (limit hits are decisions a limit decided). */
    private readonly isLimit: (rule: string) => boolean = () => false,
  ) {
    this.options = { ...DEFAULT_ANOMALY_OPTIONS, ...options };
  }

  /** Feeds one closed bucket; returns its anomalies (none while `warm` is false: replaying history). */
  observe(bucketStart: number, counts: readonly DecisionCount[], warm = true): RateAnomaly[] {
    const now = new Map<string, number>();
    const add = (key: string, n: number): void => {
      now.set(key, (now.get(key) ?? 0) + n);
    };
    const toolsNow = new Map<string, Set<string>>();
    for (const row of counts) {
      if (row.count <= 0) continue;
      let tools = toolsNow.get(row.agent);
      if (!tools) toolsNow.set(row.agent, (tools = new Set()));
      tools.add(row.tool);
      for (const tool of [ALL_TOOLS, row.tool]) {
        add(seriesKey(row.agent, tool, 'calls'), row.count);
        if (row.effect === 'block') add(seriesKey(row.agent, tool, 'blocks'), row.count);
        if (row.effect === 'require_approval') add(seriesKey(row.agent, tool, 'approvals'), row.count);
        if (row.rule !== null && row.effect !== 'allow' && this.isLimit(row.rule)) add(seriesKey(row.agent, tool, 'limit_hits'), row.count);
      }
    }

    const anomalies: RateAnomaly[] = [];
    for (const [agent, tools] of toolsNow) {
      const known = this.agents.get(agent);
      if (!known) continue;
      for (const tool of tools) {
        if (known.tools.has(tool) || known.buckets < this.options.warmupBuckets || !warm) continue;
        const count = now.get(seriesKey(agent, tool, 'calls')) ?? 0;
        anomalies.push({
          code: 'new_tool',
          agent,
          tool,
          metric: 'calls',
          bucketStart,
          count,
          baseline: 0,
          threshold: 1,
          message: `${agent} called ${tool} for the first time (${count} call${count === 1 ? '' : 's'}), after ${known.buckets} buckets without it`,
        });
      }
    }

    // Every known series sees this bucket (absent: 0), new ones start with it.
    const keys = new Set([...this.series.keys(), ...now.keys()]);
    for (const key of keys) {
      const count = now.get(key) ?? 0;
      let state = this.series.get(key);
      if (!state) {
        // A series the agent never had (its first block, a new tool) has been zero for as long as
        // the agent has been watched; an agent seen for the first time starts its baseline here.
        const agentBuckets = this.agents.get(splitKey(key)[0])?.buckets ?? 0;
        if (agentBuckets === 0) {
          this.series.set(key, { mean: count, variance: 0, buckets: 1 });
          continue;
        }
        state = { mean: 0, variance: 0, buckets: agentBuckets };
      }
      const threshold = this.threshold(state);
      const flagged = warm && state.buckets >= this.options.warmupBuckets && count >= threshold;
      if (flagged) {
        const [agent, tool, metric] = splitKey(key);
        anomalies.push({
          code: 'rate_spike',
          agent,
          tool,
          metric,
          bucketStart,
          count,
          baseline: state.mean,
          threshold,
          message: `${agent}${tool === null ? '' : ` on ${tool}`}: ${count} ${metricWords(metric)} in one bucket against ${round(state.mean)} on average`,
        });
      }
      const x = flagged ? threshold : count;
      const diff = x - state.mean;
      const alpha = this.options.alpha;
      // A flagged bucket moves the average (a lasting change becomes normal within an hour or so)
      // but not the spread, which would otherwise hide the next bucket of the same spike.
      const variance = flagged ? state.variance : (1 - alpha) * (state.variance + alpha * diff * diff);
      state = { mean: state.mean + alpha * diff, variance, buckets: state.buckets + 1 };
      this.series.set(key, state);
    }

    // A spike on one tool also lifts the agent's total: report the tool's, not both. A new tool's
    // calls are its `new_tool` flag, not a spike besides.
    const byTool = new Set(anomalies.filter((a) => a.code === 'rate_spike' && a.tool !== null).map((a) => `${a.agent}\u0001${a.metric}`));
    const newTools = new Set(anomalies.filter((a) => a.code === 'new_tool').map((a) => `${a.agent}\u0001${a.tool}`));
    const reported = anomalies.filter(
      (a) =>
        !(a.code === 'rate_spike' && a.tool === null && byTool.has(`${a.agent}\u0001${a.metric}`)) &&
        !(a.code === 'rate_spike' && a.metric === 'calls' && newTools.has(`${a.agent}\u0001${a.tool}`)),
    );

    for (const [agent, tools] of toolsNow) {
      const known = this.agents.get(agent);
      if (known) for (const tool of tools) known.tools.add(tool);
      else this.agents.set(agent, { tools: new Set(tools), buckets: 0 });
    }
    for (const known of this.agents.values()) known.buckets++;
    return reported;
  }

  /** Buckets a series must have seen before it can be flagged. */
  get warmupBuckets(): number {
    return this.options.warmupBuckets;
  }

  /** Buckets an agent has been observed for, from its first call (0: never seen). */
  observedBuckets(agent: string): number {
    return this.agents.get(agent)?.buckets ?? 0;
  }

  /** Every agent seen, with the buckets it has been observed for. */
  observedAgents(): { agent: string; buckets: number }[] {
    return [...this.agents].map(([agent, known]) => ({ agent, buckets: known.buckets }));
  }

  /** The smallest count flagged as a spike for this state. */
  private threshold(state: Series): number {
    const { minCount, ratio, falseAlarm } = this.options;
    // Counts are Poisson-like, overdispersed when the variance says so: the tail of a Poisson
    // with the larger of the two is the false-alarm bound (a normal approximation is far too thin
    // at small averages: 10 calls against 2.5 on average happens every few days).
    return Math.max(minCount, Math.ceil(ratio * state.mean), poissonTailStart(Math.max(state.mean, state.variance, 0.05), falseAlarm));
  }
}

export { poissonTailStart } from './tail-bounds.js';

function seriesKey(agent: string, tool: string, metric: AnomalyMetric): string {
  return `${agent}\u0001${tool}\u0001${metric}`;
}

function splitKey(key: string): [string, string | null, AnomalyMetric] {
  const [agent, tool, metric] = key.split('\u0001') as [string, string, AnomalyMetric];
  return [agent, tool === ALL_TOOLS ? null : tool, metric];
}

function metricWords(metric: AnomalyMetric): string {
  return { calls: 'calls', blocks: 'blocked calls', approvals: 'approval requests', limit_hits: 'limit hits' }[metric];
}

function round(n: number): string {
  return n >= 10 ? String(Math.round(n)) : n.toFixed(1);
}
