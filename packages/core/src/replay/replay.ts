import { compile, type Engine } from '../engine/engine.js';
import { requestTime } from '../engine/request.js';
import type { Decision, DecisionRequest, Effect } from '../engine/types.js';
import { MemoryCounterStore } from '../limits/memory-counter-store.js';
import type { PolicyBundle } from '../policy/load.js';

/** A decision that was made earlier: the request (its `at` is when) and what was decided then. */
export interface RecordedCall {
  /** `at` is required: it is the replay's clock, for limits and time conditions alike. */
  request: DecisionRequest & { at: string | number };
  effect: Effect;
  rule: string | null;
  /** Shown with examples so a flip can be traced back (decision id, audit seq, input line). */
  id?: string;
}

export interface ReplayOptions {
  /** Version reported in the candidate's decisions. Default: the bundle digest. */
  version?: string | number;
  /** Examples kept per flip group. Default 5. */
  examplesPerFlip?: number;
}

export interface FlipExample {
  id?: string;
  request: RecordedCall['request'];
  before: { effect: Effect; rule: string | null };
  after: { effect: Effect; rule: string | null; reason: string; decidedBy: Decision['decidedBy'] };
}

/** Calls whose effect changed the same way under the same candidate rule (or limit). */
export interface FlipGroup {
  from: Effect;
  to: Effect;
  /** The candidate's deciding rule or limit; null for a default, risk tier or error. */
  rule: string | null;
  count: number;
  examples: FlipExample[];
}

export type EffectTotals = Record<Effect, number>;

export interface ReplayReport {
  calls: number;
  /** Recorded effects. */
  before: EffectTotals;
  /** The candidate's effects. */
  after: EffectTotals;
  /** Calls whose effect changed. */
  flipped: number;
  /** Largest groups first. */
  flips: FlipGroup[];
}

const DEFAULT_EXAMPLES = 5;

function totals(): EffectTotals {
  return { allow: 0, require_approval: 0, block: 0 };
}

/**
 * Replays recorded calls against a candidate bundle, one call at a time and in time order, with
 * its own fresh in-memory limit state: the candidate's rates and budgets fill up exactly as they
 * would have had it been active. Feed it from a stream (`add`), then read the `report`.
 */
export class Replay {
  private readonly engine: Engine;
  private readonly examples: number;
  private readonly groups = new Map<string, FlipGroup>();
  private readonly before = totals();
  private readonly after = totals();
  private calls = 0;
  private flipped = 0;
  private lastAt = 0;

  constructor(candidate: PolicyBundle, options: ReplayOptions = {}) {
    this.examples = options.examplesPerFlip ?? DEFAULT_EXAMPLES;
    // Every request carries its own `at`; a call without one happens when the previous one did.
    this.engine = compile(candidate, {
      counters: new MemoryCounterStore(),
      clock: () => this.lastAt,
      ...(options.version === undefined ? {} : { version: options.version }),
    });
  }

  /** Decides one recorded call with the candidate. Calls must come in time order. */
  add(call: RecordedCall): Decision {
    const at = requestTime(call.request.at);
    if (at !== undefined && Number.isFinite(at)) this.lastAt = at;
    const decision = this.engine.decideSync(call.request);
    this.calls++;
    this.before[call.effect]++;
    this.after[decision.effect]++;
    if (decision.effect !== call.effect) {
      this.flipped++;
      const key = `${call.effect}\u0000${decision.effect}\u0000${decision.rule ?? ''}`;
      let group = this.groups.get(key);
      if (!group) {
        group = { from: call.effect, to: decision.effect, rule: decision.rule, count: 0, examples: [] };
        this.groups.set(key, group);
      }
      group.count++;
      if (group.examples.length < this.examples) {
        group.examples.push({
          ...(call.id === undefined ? {} : { id: call.id }),
          request: call.request,
          before: { effect: call.effect, rule: call.rule },
          after: { effect: decision.effect, rule: decision.rule, reason: decision.reason, decidedBy: decision.decidedBy },
        });
      }
    }
    return decision;
  }

  report(): ReplayReport {
    const flips = [...this.groups.values()]
      .map((group) => ({ ...group, examples: [...group.examples] }))
      .sort((a, b) => b.count - a.count || a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || (a.rule ?? '').localeCompare(b.rule ?? ''));
    return { calls: this.calls, before: { ...this.before }, after: { ...this.after }, flipped: this.flipped, flips };
  }
}

/**
 * Replays recorded calls against a candidate bundle (see `Replay`), sorting them by time first
 * when they are not already in order (stable: calls at the same time keep their order).
 */
export function replayCalls(candidate: PolicyBundle, calls: Iterable<RecordedCall>, options: ReplayOptions = {}): ReplayReport {
  const replay = new Replay(candidate, options);
  for (const call of inTimeOrder(calls)) replay.add(call);
  return replay.report();
}

/** Streams the calls through a replay; they must already be in time order (an audit trail is). */
export async function replayStream(candidate: PolicyBundle, calls: AsyncIterable<RecordedCall>, options: ReplayOptions = {}): Promise<ReplayReport> {
  const replay = new Replay(candidate, options);
  for await (const call of calls) replay.add(call);
  return replay.report();
}

/** The calls sorted by time (stable; unreadable times first), or the same array when already in order. */
export function inTimeOrder(calls: Iterable<RecordedCall>): RecordedCall[] {
  const list = Array.isArray(calls) ? (calls as RecordedCall[]) : [...calls];
  let previous = -Infinity;
  let sorted = true;
  const times = list.map((call) => {
    const at = requestTime(call.request.at) ?? Number.NaN;
    if (!(at >= previous)) sorted = false;
    previous = at;
    return at;
  });
  if (sorted) return list;
  // Unreadable times sort first; the engine blocks them as invalid requests.
  const key = (i: number): number => {
    const at = times[i] as number;
    return Number.isNaN(at) ? -Infinity : at;
  };
  const order = list.map((_, i) => i).sort((a, b) => (key(a) === key(b) ? a - b : key(a) < key(b) ? -1 : 1));
  return order.map((i) => list[i] as RecordedCall);
}
