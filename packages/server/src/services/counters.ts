import { restoreConsumption, type Decision, type MemoryCounterStore } from '@airlock/core';
import type { Store } from '../store/store.js';

/**
 * Rebuilds limit state from the audit trail: every decision recorded since `sinceMs` re-adds what
 * it consumed, so a restart never hands an agent a fresh budget.
 * Returns the number of decisions replayed.
 */
export async function restoreCounters(store: Store, counters: MemoryCounterStore, sinceMs: number): Promise<number> {
  let after = 0;
  let replayed = 0;
  for (;;) {
    const page = await store.auditAfter(after, 1000, { type: 'decision', fromMs: sinceMs });
    for (const row of page) {
      const { data } = JSON.parse(row.payload) as { data: { decision?: Pick<Decision, 'limits'> } };
      if (data.decision && data.decision.limits.length > 0) {
        restoreConsumption(counters, data.decision, Number(row.at));
        replayed++;
      }
    }
    const last = page[page.length - 1];
    if (!last || page.length < 1000) return replayed;
    after = last.seq;
  }
}
