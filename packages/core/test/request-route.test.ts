import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkRequestShape, isWellFormed } from '../src/engine/request.js';
import { compile, loadBundle, MemoryCounterStore, MemorySeenStore, type DecisionRequest, type Engine } from '../src/index.js';

/**
 * The engine's hot route (engine.ts `evaluate`: `isWellFormed`, then the plan set, then the
 * decision) against the checked route every other request takes (`evaluateChecked`: each check in
 * turn, with its error). Whatever the request, both must end in the same result.
 */

const SEED_REQUESTS: DecisionRequest[] = readFileSync('examples/calls.jsonl', 'utf8')
  .split('\n')
  .filter((line) => line.startsWith('{"'))
  .map((line) => JSON.parse(line) as DecisionRequest);

const odd = fc.constantFrom<unknown>(undefined, null, '', 'x', 'production', 'support', 'issue_refund', 0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, true, [], ['a'], {}, { a: 1 }, () => 1, Symbol('s'), 10n);
const times = fc.constantFrom<unknown>(undefined, 0, 1_795_000_000_000, -5, 1.5, Number.NaN, Number.NEGATIVE_INFINITY, '2026-11-23T09:00:00Z', '2026-11-23', 'not a time', '', null, {});
const FIELDS = ['agent', 'role', 'environment', 'tool', 'args', 'at'] as const;

/** A seed request with some top-level fields replaced, removed or given an inherited value; or no object at all. */
const request: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: odd },
  {
    weight: 9,
    arbitrary: fc
      .record({
        base: fc.nat(),
        changes: fc.array(fc.record({ field: fc.constantFrom(...FIELDS), value: fc.oneof(odd, times), how: fc.constantFrom('set', 'delete', 'inherit') }), { maxLength: 3 }),
        prototype: fc.boolean(),
      })
      .map(({ base, changes, prototype }) => {
        const seed = SEED_REQUESTS[base % SEED_REQUESTS.length] as unknown as Record<string, unknown>;
        const inherited: Record<string, unknown> = {};
        const own: Record<string, unknown> = { ...seed, args: { ...(seed.args as object) } };
        for (const { field, value, how } of changes) {
          if (how === 'set') own[field] = value;
          else if (how === 'delete') delete own[field];
          else {
            delete own[field];
            inherited[field] = field === 'at' || field === 'args' ? seed[field] : value;
          }
        }
        return prototype || Object.keys(inherited).length > 0 ? Object.assign(Object.create(inherited) as object, own) : own;
      }),
  },
);

type Route = (request: DecisionRequest, record: boolean) => unknown;

function routes(engine: Engine): { hot: Route; checked: Route } {
  const internals = engine as unknown as { evaluate: Route; evaluateChecked: Route };
  return { hot: internals.evaluate.bind(engine), checked: internals.evaluateChecked.bind(engine) };
}

describe('the hot request route', () => {
  it('isWellFormed is true exactly when checkRequestShape finds nothing', () => {
    fc.assert(
      fc.property(request, (value) => {
        expect(isWellFormed(value as DecisionRequest)).toBe(checkRequestShape(value as DecisionRequest) === undefined);
      }),
      { numRuns: 3000 },
    );
  });

  for (const generatedDecisions of [true, false]) {
    it(`decides every request as the checked route does (generated decisions ${generatedDecisions ? 'on' : 'off'})`, () => {
      const engine = compile(loadBundle('examples/policies'), { counters: new MemoryCounterStore(), seen: new MemorySeenStore(), clock: () => 1_795_000_000_000, generatedDecisions });
      const { hot, checked } = routes(engine);
      let ruled = 0;
      let total = 0;
      fc.assert(
        fc.property(request, (value) => {
          // `record` false: neither route records novelty, so the two calls leave no trace on each other.
          const viaHot = hot(value as DecisionRequest, false);
          expect(viaHot).toStrictEqual(checked(value as DecisionRequest, false));
          total++;
          const decided = viaHot as { decidedBy?: string; decision?: { decidedBy: string } };
          if ((decided.decision ?? decided).decidedBy !== 'error') ruled++;
        }),
        { numRuns: 2000 },
      );
      // Most requests stay well-formed: the hot route is what decided them.
      expect(ruled / total).toBeGreaterThan(0.3);
    });
  }
});
