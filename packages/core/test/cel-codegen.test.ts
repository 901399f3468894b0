import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileConditionSource, generateConditionSource } from '../src/cel/codegen.js';
import { compileCel } from '../src/cel/compile.js';
import { createBaseEnvironment, environmentForArgs } from '../src/cel/environment.js';

const env = environmentForArgs(createBaseEnvironment(), {
  amount: { type: 'number' },
  count: { type: 'integer' },
  name: { type: 'string' },
  ids: { type: 'array', items: { type: 'string' } },
  meta: { type: 'object' },
  flag: { type: 'boolean' },
  note: { type: 'string' },
});
/** `note` is optional: reads of it must keep their presence check. */
const requiredArgs = new Set(['amount', 'count', 'name', 'ids', 'meta', 'flag']);

const expressions = [
  'args.amount <= 50',
  'args.amount > 50 && args.amount <= 500',
  '-args.amount < -10',
  'args.count == 7 || args.flag',
  '!(args.count >= 7)',
  'args.name == "Alice" && role == "support"',
  'args.name != agent',
  'args.name < "B"',
  'args.name.startsWith("Al") || args.name.endsWith("x")',
  'args.name.contains("li")',
  'size(args.ids) >= 2 && args.ids.size() < 100',
  'args.name in ["Alice", "Bob"]',
  'args.count in [1, 7]',
  'environment in ["dev", "staging"]',
  'args.note == "x"',
  'has(args.note) && args.note == "x"',
  'args.meta.tier == "gold"',
  'args.meta.tier == "gold" && false',
  'args.ids.all(i, i != "")',
  'args.amount / 2.0 > 10.0',
  'args.count % 2 == 1',
];

const activation = (args: Record<string, unknown>): Record<string, unknown> => ({
  args,
  agent: 'Alice',
  role: 'support',
  environment: 'dev',
  tool: 't',
  session: {},
  time: {},
});

function outcome(run: () => unknown): { value: unknown } | { error: true } {
  try {
    return { value: run() };
  } catch {
    return { error: true };
  }
}

describe('generated conditions agree with the closure compiler', () => {
  const compiled = expressions.map((source) => {
    const parsed = env.parse(source);
    expect(parsed.check().valid, source).toBe(true);
    return { source, generated: compileConditionSource(generateConditionSource(parsed.ast, env, source, { requiredArgs })), closure: compileCel(parsed.ast, env, source) };
  });

  const argsArbitrary = fc.record(
    {
      amount: fc.double({ min: -1e4, max: 1e4, noNaN: true }),
      count: fc.integer({ min: -10, max: 10 }),
      name: fc.constantFrom('Alice', 'Bob', 'Ålice', '', 'x'),
      ids: fc.array(fc.constantFrom('a', '', 'b'), { maxLength: 4 }),
      meta: fc.oneof(fc.constant({}), fc.constant({ tier: 'gold' }), fc.constant({ tier: 3 })),
      flag: fc.boolean(),
      note: fc.constantFrom('x', 'y'),
    },
    { requiredKeys: ['amount', 'count', 'name', 'ids', 'meta', 'flag'] },
  );

  it('on random schema-valid arguments, value for value and error for error', () => {
    fc.assert(
      fc.property(argsArbitrary, (args) => {
        const a = activation(args);
        for (const { source, generated, closure } of compiled) {
          expect(outcome(() => generated(a)), source).toEqual(outcome(() => closure(a)));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('compiles threshold conditions to straight-line code, not closure calls', () => {
    const source = 'args.amount > 50 && args.amount <= 500';
    const parsed = env.parse(source);
    const fn = compileConditionSource(generateConditionSource(parsed.ast, env, source, { requiredArgs }));
    expect(fn.toString()).toContain('a.args.amount > (50)');
    expect(fn.toString()).not.toContain('k[');
  });
});
