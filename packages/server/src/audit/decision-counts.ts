import type { DecisionCountsRow } from '../store/schema.js';
import type { PreparedEntry } from './record.js';

/** The width of a decision count (migration 019). */
export const COUNT_MINUTE_MS = 60_000;

/**
 * What a batch adds to `decision_counts`: its decision records counted by minute and key, one row
 * per key, in key order (so concurrent appenders would take row locks in the same order).
 */
export function decisionCountRows(entries: readonly PreparedEntry[]): DecisionCountsRow[] {
  const byKey = new Map<string, DecisionCountsRow>();
  for (const { record } of entries) {
    if (record.type !== 'decision') continue;
    const row: DecisionCountsRow = {
      minute: Math.floor(record.at / COUNT_MINUTE_MS) * COUNT_MINUTE_MS,
      agent: record.agent ?? '',
      tool: record.tool ?? '',
      effect: record.effect ?? '',
      rule: record.rule ?? '',
      decided_by: record.decidedBy ?? '',
      code: record.code ?? '',
      count: 1,
    };
    const key = keyOf(row);
    const seen = byKey.get(key);
    if (seen) seen.count += 1;
    else byKey.set(key, row);
  }
  return [...byKey.keys()].sort().map((key) => byKey.get(key) as DecisionCountsRow);
}

/** Length-prefixed parts: unambiguous whatever a tool name (agent input) holds. */
function keyOf(row: DecisionCountsRow): string {
  let key = String(row.minute);
  for (const part of [row.agent, row.tool, row.effect, row.rule, row.decided_by, row.code]) key += `|${part.length}:${part}`;
  return key;
}
