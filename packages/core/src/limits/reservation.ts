import { parseDuration } from '../duration.js';
import type { Decision, LimitOutcome } from '../engine/types.js';
import { BUDGET_SCALE, type Release } from './counter-store.js';

/**
 * What one decision charged to the limit counters, as the audit trail records it: a call waiting
 * for approval holds it as a reservation, released if the call never runs.
 */
export interface Reservation {
  /** Unique per charge; the ids of its releases derive from it. No `:` in it. */
  id: string;
  /** When the charge was made (epoch ms): the time its consumptions count at. */
  at: number;
  /** Each consumption: the limit, its counter key, what the call added (in the limit's unit) and the window. */
  limits: ReservedLimit[];
}

export type ReservedLimit = Pick<LimitOutcome, 'limit' | 'kind' | 'key' | 'adding' | 'window'>;

/** The consumptions a decision made (none when it ended blocked), as a reservation named `id`. */
export function reservationOf(id: string, at: number, decision: Pick<Decision, 'limits'>): Reservation {
  return {
    id,
    at,
    limits: decision.limits.filter((outcome) => outcome.consumed).map(({ limit, kind, key, adding, window }) => ({ limit, kind, key, adding, window })),
  };
}

/** The releases that take a reservation back, in the counters' integer units. */
export function releasesOf(reservation: Reservation): Release[] {
  const releases: Release[] = [];
  reservation.limits.forEach((limit, i) => {
    const windowMs = parseDuration(limit.window);
    if (windowMs === undefined || !Number.isFinite(reservation.at)) return;
    const scale = limit.kind === 'budget' ? BUDGET_SCALE : 1;
    releases.push({ id: `${reservation.id}.${i}`, key: limit.key, atMs: reservation.at, windowMs, amount: Math.round(limit.adding * scale) });
  });
  return releases;
}
