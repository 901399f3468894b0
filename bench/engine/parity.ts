/** Raised before timing when a contender does not decide like the engine; run.ts aborts on it. */
export class ParityError extends Error {
  static readonly EXIT_CODE = 3;
}

export interface Comparable {
  effect: string;
  rule: string | null;
  reason?: string;
}

/**
 * Throws ParityError listing the first mismatches between the engine and a contender. Compares
 * one input at a time and keeps no decisions: results held across a GC would teach V8 to allocate
 * decisions straight into the old generation (allocation-site pretenuring), slowing the timed passes.
 */
export function assertSameDecisions<T>(
  contender: string,
  inputs: readonly T[],
  engine: (input: T) => Comparable,
  actual: (input: T) => Comparable,
): void {
  const mismatches: string[] = [];
  for (const input of inputs) {
    const expected = engine(input);
    const got = actual(input);
    const same = got.effect === expected.effect && got.rule === expected.rule && (got.reason === undefined || got.reason === expected.reason);
    if (!same) {
      const shown = (value: Comparable): string => JSON.stringify({ effect: value.effect, rule: value.rule, reason: value.reason });
      mismatches.push(`  input ${JSON.stringify(input)}\n    engine: ${shown(expected)}\n    ${contender}: ${shown(got)}`);
    }
  }
  if (mismatches.length > 0) {
    throw new ParityError(
      `${contender} disagrees with the engine on ${mismatches.length} of ${inputs.length} inputs:\n${mismatches.slice(0, 5).join('\n')}`,
    );
  }
}
