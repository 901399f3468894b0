import { Environment } from '@marcbachmann/cel-js';
import { describe, expect, it } from 'vitest';
import { CelRuntimeError, CelUnsupportedError, compileCel } from '../src/cel/compile.js';
import { createBaseEnvironment, environmentForArgs } from '../src/cel/environment.js';

const argsSchema = {
  amount: { type: 'number' },
  count: { type: 'integer' },
  name: { type: 'string' },
  ids: { type: 'array', items: { type: 'string' } },
  meta: { type: 'object' },
  flag: { type: 'boolean' },
};
const env = environmentForArgs(createBaseEnvironment(), argsSchema);

const args = { amount: 75.5, count: 7, name: 'Alice', ids: ['a', 'b', 'c'], meta: { tier: 'gold', n: 2 }, flag: true };
const activation = { args, agent: 'bot-1', role: 'support', environment: 'production', tool: 'x', session: { id: 's1' }, time: { hour: 9 } };

function compiled(source: string): unknown {
  const parsed = env.parse(source);
  expect(parsed.check().valid, `type check of ${source}`).toBe(true);
  return compileCel(parsed.ast, env, source)(activation);
}

/** cel-js itself, with ints as BigInt as it expects, as the reference semantics. */
function reference(source: string): unknown {
  const refEnv = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false });
  const value = refEnv.evaluate(source, { ...activation, args: { ...args, count: BigInt(args.count) } });
  return typeof value === 'bigint' ? Number(value) : value;
}

describe('CEL closure compiler agrees with cel-js', () => {
  const expressions = [
    'args.amount <= 50',
    'args.amount > 50 && args.amount <= 500',
    'args.amount >= 75.5',
    'args.count == 7',
    'args.count < 7 || args.flag',
    '!(args.count == 7)',
    'args.name == "Alice"',
    'args.name.startsWith("Al") && args.name.endsWith("ce")',
    'args.name.contains("lic")',
    'args.name.matches("^A[a-z]+$")',
    'args.name.matches("z")',
    'size(args.ids) == 3',
    'args.ids.size() >= 3',
    '"b" in args.ids',
    '"z" in args.ids',
    'args.count in [1, 7, 9]',
    'environment in ["dev", "staging"]',
    'args.ids.all(i, i != "")',
    'args.ids.exists(i, i == "c")',
    'args.ids.exists_one(i, i == "c")',
    'args.ids.filter(i, i != "a").size() == 2',
    'args.ids.map(i, i + "!")[0] == "a!"',
    'args.ids[1] == "b"',
    'args.count > 5 ? true : false',
    'args.count * 2 - 4 == 10',
    'args.count / 2 == 3',
    'args.count % 4 == 3',
    'args.amount / 2.0 == 37.75',
    '-args.amount < 0',
    'has(args.meta.tier)',
    'has(args.meta.nothing)',
    'args.meta["tier"] == "gold"',
    'role == "support" && agent.startsWith("bot")',
    'args.name + "!" == "Alice!"',
    'int(args.amount) == 75',
    'double(args.count) == 7.0',
    'string(args.count) == "7"',
    'args.name.lowerAscii() == "alice"',
    'session.id == "s1"',
  ];
  it.each(expressions)('%s', (source) => {
    expect(compiled(source)).toEqual(reference(source));
  });
});

describe('CEL runtime semantics', () => {
  it('a false operand of && absorbs an error on the other side, in either order', () => {
    expect(compiled('args.meta.missing == 1 && false')).toBe(false);
    expect(compiled('false && args.meta.missing == 1')).toBe(false);
    expect(compiled('args.meta.missing == 1 || true')).toBe(true);
  });

  it('an error that is not absorbed is raised', () => {
    expect(() => compiled('args.meta.missing == 1 && true')).toThrow(CelRuntimeError);
    expect(() => compiled('args.ids[5] == "x"')).toThrow(/index out of range/);
    expect(() => compiled('args.count / 0 == 1')).toThrow(/division by zero/);
  });

  it('never reads inherited properties such as constructor or __proto__', () => {
    expect(() => compiled('args.meta.constructor == "x"')).toThrow(/no such key/);
    expect(compiled('has(args.meta.constructor)')).toBe(false);
    expect(() => compiled('args.meta["__proto__"] == "x"')).toThrow(/no such key/);
  });

  it('rejects constructs outside the supported subset at compile time', () => {
    const source = 'args.name.indexOf("l") == 2';
    const parsed = env.parse(source);
    expect(() => compileCel(parsed.ast, env, source)).toThrow(CelUnsupportedError);
  });

  it('rejects an invalid literal regular expression at compile time', () => {
    const source = 'args.name.matches("(")';
    const parsed = env.parse(source);
    expect(() => compileCel(parsed.ast, env, source)).toThrow(CelUnsupportedError);
  });
});
