import {
  limitsOf,
  parseBundle,
  parseDuration,
  restoreConsumption,
  restoreReleased,
  restoreReservation,
  type ConsumptionSink,
  type Decision,
  type DecisionRequest,
  type Engine,
  type Release,
  type Reservation,
} from '@airlock/core';
import { auditRows } from '../audit/verify.js';
import type { Clock } from '../clock.js';
import type { RedisCounterStore } from '../redis/redis-counter-store.js';
import type { PolicyVersionRow } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { Locks } from './keyed-lock.js';

/**
 * The approval records that carry limit consumption (docs/approvals.md, "Approvals and limits"):
 * an approver's edit charges the edited call and releases what the call it replaces held; a
 * denial, expiry or timeout releases what the approval held.
 */
const RESERVATION_RECORDS = ['approval.vote', 'approval.approved', 'approval.denied', 'approval.expired', 'approval.timed_out'] as const;

/**
 * How far back the counters are rebuilt at start: at least `floorMs`, and the longest limit window
 * of any stored policy version (the environments' own limits included), since a charge stays in a
 * budget for its whole window. A 30-day budget rebuilt from one week of the trail would hand an
 * agent everything spent before that week again after a restart. Every version counts, not only the
 * active one: charges made under an earlier version stay counted for the window they were made with.
 * A version whose sources no longer parse (written by another server version) adds nothing.
 */
export function restoreSpanMs(versions: readonly Pick<PolicyVersionRow, 'sources'>[], floorMs: number): number {
  let span = floorMs;
  for (const version of versions) {
    let policies;
    try {
      policies = parseBundle(JSON.parse(version.sources) as { file: string; text: string }[]).policies;
    } catch {
      continue;
    }
    for (const { document } of policies) {
      for (const limit of limitsOf(document)) span = Math.max(span, parseDuration(limit.window) ?? 0);
    }
  }
  return span;
}

/**
 * Rebuilds limit state from the audit trail: every decision recorded since `sinceMs` re-adds what
 * it consumed, so a restart never hands an agent a fresh budget; then the charges of approvers'
 * edits are re-added and the releases of approvals that ended without running are applied again.
 * A charge made before `sinceMs` is not restored, and neither is its release.
 * Returns the number of records replayed.
 */
export async function restoreCounters(store: Store, counters: ConsumptionSink, sinceMs: number): Promise<number> {
  let replayed = await eachRecord(store, 'decision', sinceMs, (data: { decision?: Pick<Decision, 'limits'> }, at) => {
    if (!data.decision || data.decision.limits.length === 0) return false;
    restoreConsumption(counters, data.decision, at);
    return true;
  });
  for (const type of RESERVATION_RECORDS) {
    replayed += await eachRecord(store, type, sinceMs, (data: { charged?: Reservation; released?: Reservation }) => {
      const charged = data.charged && data.charged.at >= sinceMs ? data.charged : undefined;
      const released = data.released && data.released.at >= sinceMs ? data.released : undefined;
      if (charged) restoreReservation(counters, charged);
      if (released) restoreReleased(counters, released);
      return charged !== undefined || released !== undefined;
    });
  }
  return replayed;
}

/** Calls `replay` with the data of every record of `type` since `sinceMs`, in order; counts the trues. */
async function eachRecord<T>(store: Store, type: string, sinceMs: number, replay: (data: T, at: number) => boolean): Promise<number> {
  let replayed = 0;
  for await (const row of auditRows((after, limit) => store.auditAfter(after, limit, { type, fromMs: sinceMs }))) {
    const { data } = JSON.parse(row.payload) as { data: T };
    if (replay(data, Number(row.at))) replayed++;
  }
  return replayed;
}

/**
 * Makes sure the shared counters in Redis are complete before anything is decided on them: when
 * the epoch marker is missing (first start, or Redis lost its data) one instance, holding the
 * fleet-wide lock, replays the audit trail into Redis and then sets the marker. Until then every
 * decision that needs a limit fails closed (the script refuses to count without the marker).
 * Returns the number of decisions replayed (0 when the counters were already complete).
 */
export async function ensureSharedCounters(
  store: Store,
  counters: RedisCounterStore,
  locks: Locks,
  clock: Clock,
  /** How far back to replay, asked when a rebuild starts (`restoreSpanMs` over the versions stored by then). */
  restoreSpan: () => Promise<number>,
): Promise<number> {
  if (await counters.hasEpoch()) return 0;
  return locks.run('counters.restore', async () => {
    if (await counters.hasEpoch()) return 0;
    const entries: { key: string; atMs: number; amount: number; windowMs: number }[] = [];
    const releases: Release[] = [];
    const replayed = await restoreCounters(
      store,
      { restore: (key, atMs, amount, windowMs) => entries.push({ key, atMs, amount, windowMs }), restoreRelease: (release) => releases.push(release) },
      clock.now() - (await restoreSpan()),
    );
    await counters.restore(entries);
    await counters.release(releases);
    await counters.setEpoch(new Date(clock.now()).toISOString());
    return replayed;
  });
}

/**
 * Rebuilds novelty state (`novel.*`) from the audit trail: every allowed decision, and every
 * approval that was redeemed (approved and executed), marks its keys seen, as it did when it
 * happened. Novelty is about all history, so the whole trail is read, and only when the active
 * version declares a novelty signal. Returns the number of calls replayed.
 */
export async function restoreSeen(store: Store, engine: Engine): Promise<number> {
  if (!engine.hasNovelty) return 0;
  let replayed = 0;
  for await (const row of auditRows((after, limit) => store.auditAfter(after, limit, {}))) {
    const { data } = JSON.parse(row.payload) as {
      data: { request?: Omit<DecisionRequest, 'agent' | 'role'>; identity?: { agent: string; role: string; environment: string }; approval?: string };
    };
    if (row.type === 'decision' && row.effect === 'allow' && data.request && data.identity) {
      engine.markExecuted({ ...data.request, ...data.identity, at: Number(row.at) } as DecisionRequest);
      replayed++;
    } else if (row.type === 'approval.redeemed' && data.approval) {
      const approval = await store.getApproval(data.approval);
      if (!approval) continue;
      engine.markExecuted({
        agent: approval.agent,
        role: approval.role,
        environment: approval.environment,
        tool: approval.tool,
        args: JSON.parse(approval.edited_args ?? approval.args) as Record<string, unknown>,
        ...(approval.session_attributes === null ? {} : { sessionAttributes: JSON.parse(approval.session_attributes) as Record<string, string> }),
      });
      replayed++;
    }
  }
  return replayed;
}
