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

describe('matches() has RE2 semantics (CEL spec): linear time, RE2 syntax, unanchored', () => {
  const withArgs = (source: string, extra: Record<string, unknown>): unknown => {
    const parsed = env.parse(source);
    expect(parsed.check().valid, `type check of ${source}`).toBe(true);
    return compileCel(parsed.ast, env, source)({ ...activation, args: { ...args, ...extra } });
  };

  it('a catastrophic-backtracking pattern on a 100,000-character subject decides without backtracking (a hang bound, not a speed target)', () => {
    // JavaScript's backtracking RegExp took 1.2 s at 29 characters, doubling per character.
    const source = 'args.name.matches("^(a+)+$")';
    const condition = compileCel(env.parse(source).ast, env, source);
    for (const [name, expected] of [[`${'a'.repeat(99_999)}b`, false], ['a'.repeat(100_000), true]] as const) {
      const started = performance.now();
      expect(condition({ ...activation, args: { ...args, name } })).toBe(expected);
      expect(performance.now() - started).toBeLessThan(1000);
    }
  });

  it('accepts RE2 syntax such as inline flags, and searches unanchored', () => {
    expect(compiled('args.name.matches("(?i)ALICE")')).toBe(true);
    expect(compiled('args.name.matches("lic")')).toBe(true);
    expect(compiled('args.name.matches("^lic")')).toBe(false);
  });

  it.each([
    ['a backreference', 'args.name.matches("(a)\\\\1")'],
    ['a lookahead', 'args.name.matches("A(?=l)")'],
    ['a lookbehind', 'args.name.matches("(?<=A)l")'],
  ])('rejects %s at compile time (RE2 has none)', (_what, source) => {
    const parsed = env.parse(source);
    expect(parsed.check().valid).toBe(true);
    expect(() => compileCel(parsed.ast, env, source)).toThrow(/RE2 syntax/);
  });

  it('a pattern only known at run time that RE2 rejects is a CEL runtime error', () => {
    const source = 'args.name.matches(args.meta.pattern)';
    expect(() => withArgs(source, { meta: { pattern: '(a)\\1' } })).toThrow(CelRuntimeError);
    expect(() => withArgs(source, { meta: { pattern: '(a)\\1' } })).toThrow(/RE2 syntax/);
    expect(withArgs(source, { meta: { pattern: '^Al' } })).toBe(true);
    expect(withArgs(source, { name: 'a'.repeat(100_000), meta: { pattern: '^(a+)+$' } })).toBe(true);
  });
});
