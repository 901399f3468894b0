import { createTwoFilesPatch } from 'diff';

/**
 * Past this many inserted and deleted lines, or this long, a diff gives up: Myers' algorithm costs
 * the lines of both texts times the edits, so two large, wholly different versions (a policy file
 * can be most of a 1 MiB body) held the event loop for seconds (8,000 changed lines: 9.4 s).
 */
export const PATCH_LIMITS = { maxEditLength: 2_000, timeout: 250 } as const;

/**
 * A unified diff of one file between two texts, or, when the texts differ more than PATCH_LIMITS
 * allow to compute, the same headers with one hunk-less line saying so (what the console shows).
 */
export function filePatch(file: string, before: string, after: string, beforeLabel: string, afterLabel: string): string {
  const patch = createTwoFilesPatch(`a/${file}`, `b/${file}`, before, after, beforeLabel, afterLabel, PATCH_LIMITS);
  if (patch !== undefined) return patch;
  const lines = (text: string) => (text === '' ? 0 : text.split('\n').length);
  return (
    `===================================================================\n--- a/${file}\t${beforeLabel}\n+++ b/${file}\t${afterLabel}\n` +
    `# too different to show line by line (${lines(before)} lines before, ${lines(after)} after; more than ${PATCH_LIMITS.maxEditLength} lines changed)\n`
  );
}
