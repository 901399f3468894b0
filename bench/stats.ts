/**
 * The median the benches report: the middle value of an odd count (3 rounds: the second best),
 * the upper middle of an even one; NaN for none. A value that was measured, never an average of two.
 */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
}
