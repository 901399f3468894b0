import { binomialTailStart } from './tail-bounds.js';
import type { RateAnomaly } from './anomaly-detector.js';

/**
 * Failure-rate anomalies per agent and tool, from the execution outcomes agents report. Pure: fed
 * one closed bucket at a time (its finished outcomes, counted by status), it answers the flags of
 * that bucket.
 *
 * Each series (agent × tool) keeps exponentially decayed sums of its failed and reported calls.
 * Its baseline failure rate is their ratio smoothed towards `priorRate` with the weight of
 * `priorCalls` reports, so a tool never reported before has a baseline of 5 %, and a tool that
 * always fails has a high one. A bucket is flagged when it has at least `minReported` reported
 * calls and `minFailures` failures (1 failure in 2 calls is never an alert), its failure rate is at
 * least `minIncrease` above the baseline and `ratio` times it, and that many failures are beyond
 * the `falseAlarm` tail of a binomial distribution with the baseline rate. A flagged bucket enters
 * the sums with its failures clamped at the threshold, so a lasting outage keeps being flagged for
 * a while (the alert cooldown keeps it to one alert an hour) before it becomes the baseline.
 */
export interface FailureRateOptions {
  /** Weight of the history in the decayed sums: each bucket multiplies them by 1 - alpha. Default 0.1. */
  alpha: number;
  /** Fewest reported calls in a bucket for it to be judged. Default 10. */
  minReported: number;
  /** Fewest failures in a bucket worth flagging. Default 5. */
  minFailures: number;
  /** Smallest rise of the failure rate over the baseline (absolute). Default 0.3. */
  minIncrease: number;
  /** Smallest multiple of the baseline rate. Default 2. */
  ratio: number;
  /** Baseline rate of a series with no history, and the weight (reports) it keeps. Defaults 0.05 and 20. */
  priorRate: number;
  priorCalls: number;
  /** Chance that an ordinary bucket is flagged (binomial tail cut). Default 1e-6. */
  falseAlarm: number;
}

export const DEFAULT_FAILURE_RATE_OPTIONS: FailureRateOptions = {
  alpha: 0.1,
  minReported: 10,
  minFailures: 5,
  minIncrease: 0.3,
  ratio: 2,
  priorRate: 0.05,
  priorCalls: 20,
  falseAlarm: 1e-6,
};

/** Outcomes of one bucket counted by agent, tool and status (`succeeded` | `failed`). */
export interface OutcomeCount {
  agent: string;
  tool: string;
  status: string;
  count: number;
}

interface Series {
  failed: number;
  reported: number;
}

export class FailureRateDetector {
  private readonly series = new Map<string, Series>();
  private readonly options: FailureRateOptions;

  constructor(options: Partial<FailureRateOptions> = {}) {
    this.options = { ...DEFAULT_FAILURE_RATE_OPTIONS, ...options };
  }

  /** Feeds one closed bucket; returns its anomalies (none while `warm` is false: replaying history). */
  observe(bucketStart: number, counts: readonly OutcomeCount[], warm = true): RateAnomaly[] {
    const now = new Map<string, Series & { agent: string; tool: string }>();
    for (const row of counts) {
      if (row.count <= 0 || (row.status !== 'succeeded' && row.status !== 'failed')) continue;
      const key = `${row.agent}\u0001${row.tool}`;
      const bucket = now.get(key) ?? { agent: row.agent, tool: row.tool, failed: 0, reported: 0 };
      bucket.reported += row.count;
      if (row.status === 'failed') bucket.failed += row.count;
      now.set(key, bucket);
    }
    const anomalies: RateAnomaly[] = [];
    const decay = 1 - this.options.alpha;
    for (const key of new Set([...this.series.keys(), ...now.keys()])) {
      const state = this.series.get(key) ?? { failed: 0, reported: 0 };
      const bucket = now.get(key);
      let failed = bucket?.failed ?? 0;
      const reported = bucket?.reported ?? 0;
      if (bucket) {
        const baseline = this.baseline(state);
        const threshold = this.threshold(reported, baseline);
        if (threshold !== undefined && failed >= threshold) {
          if (warm) {
            anomalies.push({
              code: 'failure_rate',
              agent: bucket.agent,
              tool: bucket.tool,
              metric: 'failures',
              bucketStart,
              count: failed,
              reported,
              baseline,
              threshold,
              message: `${bucket.agent} on ${bucket.tool}: ${failed} of ${reported} reported calls failed (${percent(failed / reported)}) against ${percent(baseline)} before`,
            });
          }
          failed = threshold;
        }
      }
      const next = { failed: state.failed * decay + failed, reported: state.reported * decay + reported };
      // A series that has decayed to nothing is forgotten (its baseline is the prior again).
      if (next.reported < 0.01) this.series.delete(key);
      else this.series.set(key, next);
    }
    return anomalies;
  }

  /** The series' failure rate before this bucket, smoothed towards the prior. */
  private baseline(state: Series): number {
    const { priorRate, priorCalls } = this.options;
    return (state.failed + priorRate * priorCalls) / (state.reported + priorCalls);
  }

  /** The fewest failures of `reported` calls flagged against `baseline`; undefined: none would be. */
  private threshold(reported: number, baseline: number): number | undefined {
    const { minReported, minFailures, minIncrease, ratio, falseAlarm } = this.options;
    if (reported < minReported) return undefined;
    const byRate = Math.ceil(reported * Math.min(1, Math.max(baseline + minIncrease, baseline * ratio)) - 1e-9);
    const byTail = binomialTailStart(reported, baseline, falseAlarm);
    const threshold = Math.max(minFailures, byRate, byTail);
    return threshold <= reported ? threshold : undefined;
  }
}

export { binomialTailStart } from './tail-bounds.js';

function percent(rate: number): string {
  return `${Math.round(rate * 100)} %`;
}
