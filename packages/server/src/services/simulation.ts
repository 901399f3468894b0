import { setImmediate } from 'node:timers/promises';
import { compile, inTimeOrder, MemoryCounterStore, Replay, type Decision, type PolicySource, type RecordedCall, type ReplayReport } from '@airlock/core';
import type { Clock } from '../clock.js';
import { AirlockError } from '../errors.js';
import type { AuditRow } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { PolicyService } from './policies.js';

/** A call written by hand; role and environment default to the registered agent's. */
export interface HandCall {
  agent: string;
  role?: string | undefined;
  environment?: string | undefined;
  tool: string;
  args: Record<string, unknown>;
  session?: string | undefined;
}

export interface CallSimulation {
  mode: 'call';
  request: RecordedCall['request'];
  /** What the active version decides (null when none is active). */
  current: { version: number; decision: Decision } | null;
  candidate: Decision;
  flipped: boolean;
}

export interface RecordedSimulation {
  mode: 'recorded';
  /** Time of the oldest and newest replayed call; null when there were none. */
  from: string | null;
  to: string | null;
  report: ReplayReport;
  /**
   * Set when the recorded calls asked for held more than MAX_SIMULATION_CHARS of records: the
   * replay covers the newest ones that fit (from `from` on), not all of them.
   */
  cutBySize?: true;
}

export type Simulation = CallSimulation | RecordedSimulation;

/** Audit records read per page. */
const PAGE = 1000;
/**
 * Most record text one simulation reads (the calls are all held at once, to be replayed in time
 * order): 100,000 ordinary records are ~70-150 MB; 100,000 records of an agent's 900 KB
 * arguments would have been 90 GB.
 */
export const MAX_SIMULATION_CHARS = 256 * 1024 * 1024;
/**
 * A replay of recorded calls runs in slices of this long, then lets the event loop serve others:
 * 100,000 calls (the most one request may ask for) take seconds even at a few microseconds each,
 * and a policy's budget allows milliseconds a call.
 */
const SLICE_MS = 10;
/** A replay still running after this long stops with `simulation_too_long` (ServerConfig.simulationDeadlineMs). */
const SIMULATION_DEADLINE_MS = 30_000;
const EXAMPLES_PER_FLIP = 5;

interface DecisionPayload {
  at: string;
  data: {
    id: string;
    request: { tool: string; args: Record<string, unknown>; session: string | null };
    identity: { agent: string; role: string; environment: string };
  };
}

/**
 * Tries a draft bundle without activating it: against one hand-written call, or against the last
 * N decisions of the audit trail replayed in time order with fresh limit state (`replayCalls`).
 * Neither touches the live limit state.
 */
export class SimulationService {
  constructor(
    private readonly store: Store,
    private readonly policies: PolicyService,
    private readonly clock: Clock,
    private readonly deadlineMs = SIMULATION_DEADLINE_MS,
    private readonly maxChars = MAX_SIMULATION_CHARS,
  ) {}

  async call(bundle: string, sources: PolicySource[], call: HandCall): Promise<CallSimulation> {
    const candidate = this.policies.parse(bundle, sources);
    const registered = await this.store.getAgent(call.agent);
    const role = call.role ?? registered?.role;
    const environment = call.environment ?? registered?.environment;
    if (role === undefined) throw new AirlockError('invalid_request', `agent '${call.agent}' is not registered: give the call a role`, { param: 'body.call.role' });
    const request: RecordedCall['request'] = {
      agent: call.agent,
      role,
      ...(environment === undefined ? {} : { environment }),
      tool: call.tool,
      args: call.args,
      ...(call.session === undefined ? {} : { session: call.session }),
      at: this.clock.now(),
    };
    const active = this.policies.activeEvent();
    let current: CallSimulation['current'] = null;
    if (active) {
      const engine = compile(this.policies.parse(active.bundle, active.sources), { counters: new MemoryCounterStore(), version: active.version });
      current = { version: active.version, decision: engine.decideSync(request) };
    }
    const decision = new Replay(candidate, { version: 'draft' }).add({ request, effect: current?.decision.effect ?? 'block', rule: current?.decision.rule ?? null });
    return { mode: 'call', request, current, candidate: decision, flipped: current !== null && current.decision.effect !== decision.effect };
  }

  async recorded(bundle: string, sources: PolicySource[], last: number): Promise<RecordedSimulation> {
    const candidate = this.policies.parse(bundle, sources);
    const rows: AuditRow[] = [];
    let before: number | undefined;
    let chars = 0;
    let cutBySize = false;
    reading: while (rows.length < last) {
      // Pages bounded in bytes too (searchAudit): a short page is the end only when not cut.
      const limit = Math.min(PAGE, last - rows.length);
      const { rows: page, truncated } = await this.store.searchAudit({ type: 'decision' }, { ...(before === undefined ? {} : { beforeSeq: before }), limit, scanLimit: Number.MAX_SAFE_INTEGER });
      for (const row of page) {
        chars += row.payload.length;
        if (chars > this.maxChars && rows.length > 0) {
          cutBySize = true;
          break reading;
        }
        rows.push(row);
      }
      const oldest = page[page.length - 1];
      if (!oldest || (page.length < limit && !truncated)) break;
      before = Number(oldest.seq);
    }
    rows.reverse();
    const started = performance.now();
    const calls: RecordedCall[] = [];
    await inSlices(rows, (row) => calls.push(recordedCall(row)), started, this.deadlineMs, () => `reading ${calls.length} of ${rows.length} recorded calls`);
    const ordered = inTimeOrder(calls);
    const replay = new Replay(candidate, { version: 'draft', examplesPerFlip: EXAMPLES_PER_FLIP });
    let replayed = 0;
    await inSlices(ordered, (call) => {
      replay.add(call);
      replayed++;
    }, started, this.deadlineMs, () => `replaying ${replayed} of ${ordered.length} recorded calls`);
    const report = replay.report();
    const first = ordered[0];
    const final = ordered[ordered.length - 1];
    return {
      mode: 'recorded',
      from: first ? new Date(first.request.at).toISOString() : null,
      to: final ? new Date(final.request.at).toISOString() : null,
      report,
      ...(cutBySize ? { cutBySize: true as const } : {}),
    };
  }
}

/**
 * Runs `each` over the items a slice of SLICE_MS at a time, yielding to the event loop between
 * slices; past `deadlineMs` from `started` it stops with `simulation_too_long`.
 */
async function inSlices<T>(items: readonly T[], each: (item: T) => unknown, started: number, deadlineMs: number, progress: () => string): Promise<void> {
  let slice = performance.now();
  for (const item of items) {
    each(item);
    const now = performance.now();
    if (now - slice < SLICE_MS) continue;
    if (now - started > deadlineMs) {
      throw new AirlockError('simulation_too_long', `the simulation stopped after ${deadlineMs / 1000} s, ${progress()}: simulate fewer calls (last)`, { param: 'body.last' });
    }
    await setImmediate();
    slice = performance.now();
  }
}

/** A decision record of the audit trail as a call to replay: the request as decided, and its effect. */
export function recordedCall(row: AuditRow): RecordedCall {
  const { at, data } = JSON.parse(row.payload) as DecisionPayload;
  return {
    id: data.id,
    request: {
      agent: data.identity.agent,
      role: data.identity.role,
      environment: data.identity.environment,
      tool: data.request.tool,
      args: data.request.args,
      ...(data.request.session === null ? {} : { session: data.request.session }),
      at,
    },
    effect: row.effect as RecordedCall['effect'],
    rule: row.rule,
  };
}
