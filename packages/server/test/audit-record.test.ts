import { canonicalJson, sha256Hex } from '@airlock/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { prepareRecord, sealRecord, type AuditInput } from '../src/audit/record.js';

const text = fc.string({ unit: 'binary', maxLength: 12 });
const nullable = fc.option(text, { nil: null });
/** JSON-like values as request bodies produce them: any keys (unicode, `__proto__`-free), finite numbers. */
const json = fc.jsonValue({ maxDepth: 4 }).filter((value) => !JSON.stringify(value).includes('__proto__'));

const input: fc.Arbitrary<AuditInput> = fc.record({
  type: fc.constantFrom('decision', 'approval.created', 'auth.login'),
  at: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  actor: text,
  agent: nullable,
  tool: nullable,
  effect: nullable,
  rule: nullable,
  data: fc.dictionary(text, json),
}) as fc.Arbitrary<AuditInput>;

describe('sealing an audit record', () => {
  it('produces exactly canonicalJson of the whole record, whose hash chains to prev_hash', () => {
    fc.assert(
      fc.property(input, fc.integer({ min: 1, max: 2 ** 40 }), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }), (record, seq, prevHash) => {
        const row = sealRecord(prepareRecord(record), seq, prevHash);
        const whole = {
          seq,
          at: new Date(record.at).toISOString(),
          type: record.type,
          actor: record.actor,
          agent: record.agent ?? null,
          tool: record.tool ?? null,
          effect: record.effect ?? null,
          rule: record.rule ?? null,
          data: record.data,
          prev_hash: prevHash,
        };
        expect(row.payload).toBe(canonicalJson(whole));
        expect(row.hash).toBe(sha256Hex(prevHash + row.payload));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses data that has no JSON form instead of sealing something else', () => {
    expect(() => prepareRecord({ type: 'decision', at: 0, actor: 'system', data: { amount: Number.NaN } })).toThrow('non-finite');
  });
});
