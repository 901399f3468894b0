import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideBody, decideBodyFast, decideHeadersFast } from '../src/routes/decide.js';
import { packEntries, unpackEntries } from '../src/store/sqlite/write-protocol.js';
import { prepareRecord, type PreparedEntry } from '../src/audit/record.js';
import { startTestServer } from './support/server.js';

/** Bodies as JSON.parse produces them, biased to the decide shape and its edges. */
const finiteJson = fc.jsonValue({ maxDepth: 4 }).filter((value) => !JSON.stringify(value).includes('__proto__'));
const toolName = fc.oneof(fc.string({ minLength: 0, maxLength: 3 }), fc.string({ minLength: 250, maxLength: 260 }), fc.constant('issue_refund'));
const bodies = fc.oneof(
  fc.record({ tool: toolName, args: fc.dictionary(fc.string({ maxLength: 8 }), finiteJson) }, { requiredKeys: ['tool'] }),
  fc.record({ tool: fc.oneof(toolName, finiteJson), args: finiteJson, session: finiteJson, intent: finiteJson, extra: finiteJson }, { requiredKeys: [] }),
  finiteJson,
);

describe('decide body fast path', () => {
  it('accepts only what decideBody accepts, with the same result', () => {
    fc.assert(
      fc.property(bodies, (raw) => {
        const body = JSON.parse(JSON.stringify(raw)) as unknown;
        const fast = decideBodyFast(body);
        const zod = decideBody.safeParse(body);
        if (fast !== undefined) {
          expect(zod.success).toBe(true);
          expect(fast).toEqual(zod.data);
          expect(Object.keys(fast)).toEqual(Object.keys(zod.data as object));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('takes the bench body, and leaves everything unusual to zod', () => {
    const body = { tool: 'issue_refund', args: { account_id: 'A-1', amount: 20, currency: 'USD' } };
    expect(decideBodyFast(body)).toEqual(body);
    expect(decideBodyFast({ tool: 'x' })).toEqual({ tool: 'x' });
    // Infinity (a literal past the double range), deep inside: zod names the field.
    expect(decideBodyFast(JSON.parse('{"tool":"x","args":{"a":[{"b":1e999}]}}'))).toBeUndefined();
    expect(decideBodyFast({ tool: '' })).toBeUndefined();
    expect(decideBodyFast({ tool: 'x'.repeat(257) })).toBeUndefined();
    expect(decideBodyFast({ tool: 'x', args: [] })).toBeUndefined();
    expect(decideBodyFast({ tool: 'x', args: null })).toBeUndefined();
    expect(decideBodyFast({ tool: 'x', intent: 'why' })).toBeUndefined();
    expect(decideBodyFast({ tool: 'x', agent: 'someone-else' })).toBeUndefined();
    expect(decideBodyFast([{ tool: 'x' }])).toBeUndefined();
    expect(decideBodyFast(Object.assign(Object.create({ tool: 'x' }) as object, {}))).toBeUndefined();
  });

  it('answers headers without decide fields as {}, and leaves any decide header to zod', () => {
    expect(decideHeadersFast({ host: 'h', authorization: 'Bearer k', 'content-type': 'application/json' })).toEqual({});
    for (const name of ['idempotency-key', 'airlock-claim', 'airlock-repeat']) expect(decideHeadersFast({ [name]: '' })).toBeUndefined();
  });
});

describe('decide route with the fast path', () => {
  it('answers bad bodies as before (zod names the field), alone and 100 at once', async () => {
    const t = await startTestServer();
    try {
      const bot = t.agent('support-bot-1');
      const cases: [string, string][] = [
        ['{"tool":"issue_refund","args":{"amount":1e999}}', 'body.args.amount'],
        ['{"tool":""}', 'body.tool'],
        ['{"tool":"issue_refund","args":[1]}', 'body.args'],
        [`{"tool":"${'x'.repeat(257)}"}`, 'body.tool'],
      ];
      for (const [payload, param] of cases) {
        const answers = await Promise.all(Array.from({ length: 100 }, () => bot.post<{ error: { code: string; param: string } }>('/v1/decide', payload)));
        for (const answer of answers) expect([answer.status, answer.body.error.code, answer.body.error.param]).toEqual([400, 'invalid_request', param]);
      }
      const ok = await bot.post('/v1/decide', { tool: 'issue_refund', args: { account_id: 'FAST-1', amount: 20, currency: 'USD' } });
      expect([ok.status, ok.body.effect]).toEqual([200, 'allow']);
    } finally {
      await t.dispose();
    }
  });
});

describe('audit batch packing for the writer thread', () => {
  it('unpacks to the entries it packed', () => {
    const text = fc.string({ unit: 'binary', maxLength: 12 });
    const nullable = fc.option(text, { nil: null });
    const record = fc.record({
      type: fc.constantFrom('decision' as const, 'approval.created' as const, 'auth.login' as const),
      at: fc.integer({ min: 0, max: 4_102_444_800_000 }),
      actor: text,
      agent: nullable,
      tool: nullable,
      effect: nullable,
      rule: nullable,
      data: fc.dictionary(text, finiteJson),
    });
    const write = fc.record({ kind: fc.constant('key.revoke' as const), id: text, at: fc.integer() });
    fc.assert(
      // Claims too (an outcome's row, claimed in the append's transaction): a packing that lost them
      // recorded every duplicate outcome.
      fc.property(fc.array(fc.record({ record, writes: fc.array(write, { maxLength: 3 }), claim: fc.option(write, { nil: undefined }) }), { maxLength: 6 }), (raw) => {
        const entries: PreparedEntry[] = raw.map((entry) =>
          entry.claim === undefined ? { record: prepareRecord(entry.record), writes: entry.writes } : { record: prepareRecord(entry.record), writes: entry.writes, claim: entry.claim },
        );
        const copied = structuredClone(packEntries(entries));
        expect(unpackEntries(copied)).toEqual(entries);
      }),
      { numRuns: 500 },
    );
  });
});
