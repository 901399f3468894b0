import { describe, expect, it } from 'vitest';
import { MAX_RESULT_CONTENT, outcomeReport } from '../src/outcomes.js';

const decision = { id: 'dec_1', at: '2026-12-08T00:00:00.000Z', effect: 'allow', rule: 'r', reason: '' } as unknown as Parameters<typeof outcomeReport>[0]['decision'];

/**
 * An outcome's text is cut to size: a cut through a surrogate pair leaves half of it, and a tool's
 * error may hold NUL. Either is sent storable (U+FFFD): the server records the batch as it is
 * (it would store U+FFFD itself), and nothing in the report is dropped.
 */
describe('outcome reports carry storable text', () => {
  it.each([
    ['an error message cut through an emoji', new Error('x'.repeat(999) + '😀'), /^x{999}\ufffd$/],
    ['an error message holding NUL', new Error('bad\u0000byte'), /^bad\ufffdbyte$/],
    ['a thrown string with an unpaired surrogate', 'oops\udc00', /^oops\ufffd$/],
  ])('%s', (_name, thrown, message) => {
    const report = outcomeReport({ decision, tool: 't', startedAt: 0, durationMs: 1, ok: false, value: thrown });
    expect(report.error?.message).toMatch(message);
    expect((report.error?.message as string & { isWellFormed(): boolean }).isWellFormed()).toBe(true);
  });

  it('a recorded result cut through an emoji', () => {
    // The result's JSON text is a quote, then the y's, then the emoji's two halves: the cut falls between them.
    const report = outcomeReport({ decision: { ...decision, recordResult: true } as typeof decision, tool: 't', startedAt: 0, durationMs: 1, ok: true, value: 'y'.repeat(MAX_RESULT_CONTENT - 2) + '😀'.repeat(10) });
    expect(report.result?.truncated).toBe(true);
    expect(report.result?.content?.endsWith('y\ufffd')).toBe(true);
    expect((report.result?.content as string & { isWellFormed(): boolean }).isWellFormed()).toBe(true);
  });
});
