import { describe, expect, it } from 'vitest';
import { blockedRateSpike } from '../src/services/anomaly.js';

describe('blocked-rate spike flag', () => {
  // [case, recent {total, blocked}, baseline {total, blocked}, flagged]
  const cases: [string, [number, number], [number, number], boolean][] = [
    ['a new agent blocked 10 times in 10 calls', [10, 10], [0, 0], true],
    ['a new agent with 4 of 10 blocked (baseline 10 %: exactly +30 points)', [10, 4], [0, 0], true],
    ['a new agent with 3 of 10 blocked', [10, 3], [0, 0], false],
    ['too few recent decisions to judge', [9, 9], [0, 0], false],
    ['an agent that is usually blocked half the time, now 80 %', [100, 80], [1000, 500], false],
    ['an agent usually blocked 1 %, now 50 %', [20, 10], [1000, 10], true],
    ['an agent usually blocked 1 %, now 25 %', [20, 5], [1000, 10], false],
    ['no recent decisions', [0, 0], [1000, 10], false],
  ];
  it.each(cases)('%s', (_name, [total, blocked], [baseTotal, baseBlocked], flagged) => {
    const flag = blockedRateSpike({ total, blocked }, { total: baseTotal, blocked: baseBlocked });
    expect(flag !== undefined).toBe(flagged);
    if (flag) {
      expect(flag.code).toBe('blocked_rate_spike');
      expect(flag.recentRate).toBe(blocked / total);
      expect(flag.baselineRate).toBeCloseTo((baseBlocked + 1) / (baseTotal + 10), 10);
    }
  });
});
