import { parseDuration } from '../duration.js';
import type { Decision } from '../engine/types.js';
import { BUDGET_SCALE, type Release } from './counter-store.js';
import { releasesOf, type Reservation } from './reservation.js';

/** Where recorded consumption is re-added: `MemoryCounterStore`, or a collector for a remote store. */
export interface ConsumptionSink {
  restore(key: string, atMs: number, amount: number, windowMs: number): void;
  /** Re-applies a recorded release (each id once, as `CounterStore.release`). */
  restoreRelease(release: Release): void;
}

/**
 * Replays what a recorded decision consumed into a counter store (counter state after a restart).
 * `atMs` is the time the decision was made (the audit record's time).
 */
export function restoreConsumption(store: ConsumptionSink, decision: Pick<Decision, 'limits'>, atMs: number): void {
  for (const outcome of decision.limits) {
    if (!outcome.consumed) continue;
    const windowMs = parseDuration(outcome.window);
    if (windowMs === undefined || !Number.isFinite(atMs)) continue;
    const scale = outcome.kind === 'budget' ? BUDGET_SCALE : 1;
    store.restore(outcome.key, atMs, Math.round(outcome.adding * scale), windowMs);
  }
}

/** Replays a recorded charge that no decision record holds (an approver's edited call). */
export function restoreReservation(store: ConsumptionSink, reservation: Reservation): void {
  for (const release of releasesOf(reservation)) store.restore(release.key, release.atMs, release.amount, release.windowMs);
}

/** Replays a recorded release: the reservation's consumptions are taken back again. */
export function restoreReleased(store: ConsumptionSink, reservation: Reservation): void {
  for (const release of releasesOf(reservation)) store.restoreRelease(release);
}
