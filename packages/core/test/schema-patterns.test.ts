import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile, parseBundle, PolicyLoadError, type LoadError } from '../src/index.js';
import { compileSchemaPattern, MAX_PATTERN_INSTRUCTIONS } from '../src/engine/schema-pattern.js';

/**
 * JSON Schema `pattern` in tool argument schemas runs on RE2 (issue 18): a policy author's
 * catastrophic-backtracking pattern cannot let an agent's argument hold the event loop, and a
 * pattern RE2 cannot run is a located load error.
 */

function policy(args: Record<string, string>): string {
  return [
    'policy: p',
    'appliesTo: { roles: [r] }',
    'default: allow',
    'tools:',
    '  t:',
    '    args:',
    ...Object.entries(args).map(([name, schema]) => `      ${name}: ${schema}`),
    '',
  ].join('\n');
}

function errorsOf(text: string): LoadError[] {
  try {
    compile(parseBundle([{ file: 'p.yaml', text }]));
    return [];
  } catch (error) {
    if (PolicyLoadError.isInstance(error)) return [...error.errors];
    throw error;
  }
}

const call = (args: Record<string, unknown>) => ({ agent: 'a', role: 'r', tool: 't', args });

describe('schema patterns run in linear time', () => {
  // The fast path covers `s` alone; `patternProperties` sends `m` (and the whole call) to ajv.
  const schemas = {
    fast: { s: '{ type: string, pattern: "^(a+)+$" }' },
    ajv: { s: '{ type: string, pattern: "^(a+)+$" }', m: '{ type: object, patternProperties: { "^(a+)+$": { type: integer } } }' },
  };
  for (const [path, args] of Object.entries(schemas)) {
    it(`decides ^(a+)+$ over a 100,000-character argument without backtracking (a hang bound, not a speed target) (${path} path)`, () => {
      const engine = compile(parseBundle([{ file: 'p.yaml', text: policy(args) }]));
      const extra = path === 'ajv' ? { m: {} } : {};
      // Warm up: the first failure compiles ajv's validator (it waits for one) and the JIT.
      engine.decideSync(call({ s: 'aa!', ...extra }));
      engine.decideSync(call({ s: 'aa', ...extra }));
      for (const [s, effect] of [[`${'a'.repeat(99_999)}!`, 'block'], ['a'.repeat(100_000), 'allow']] as const) {
        const started = performance.now();
        const decision = engine.decideSync(call({ s, ...extra }));
        expect(performance.now() - started).toBeLessThan(1000);
        expect(decision.effect).toBe(effect);
        if (effect === 'block') expect(decision.error).toMatchObject({ code: 'invalid_arguments', path: 'args.s' });
      }
    });
  }

  it('matches patternProperties keys with RE2 too: a 100,000-character key decides without backtracking (a hang bound, not a speed target)', () => {
    const engine = compile(parseBundle([{ file: 'p.yaml', text: policy({ m: '{ type: object, patternProperties: { "^(a+)+$": { type: integer } }, additionalProperties: false }' }) }]));
    engine.decideSync(call({ m: { 'aa!': 1 } }));
    const started = performance.now();
    const decision = engine.decideSync(call({ m: { [`${'a'.repeat(99_999)}!`]: 1 } }));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(decision.error).toMatchObject({ code: 'invalid_arguments' });
    expect(engine.decideSync(call({ m: { aaa: 1 } })).effect).toBe('allow');
    expect(engine.decideSync(call({ m: { aaa: 'x' } })).error).toMatchObject({ code: 'invalid_arguments' });
  });
});

describe('schema patterns RE2 cannot run', () => {
  it.each([
    ['a backreference in pattern', { s: '{ type: string, pattern: "^(a)\\\\1$" }' }, 7, 'tools.t.args.s.pattern'],
    ['a lookahead in a nested item pattern', { s: '{ type: string }', xs: '{ type: array, items: { type: string, pattern: "x(?=y)" } }' }, 8, 'tools.t.args.xs.items.pattern'],
    ['a lookbehind in a patternProperties key', { m: '{ type: object, patternProperties: { "(?<=a)b": { type: string } } }' }, 7, 'tools.t.args.m.patternProperties.(?<=a)b'],
  ])('refuses %s with a coded error naming the tool, field, file and line', (_what, args, line, path) => {
    const errors = errorsOf(policy(args));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'invalid_args_schema', file: 'p.yaml', line, path });
    expect(errors[0]?.message).toMatch(/^pattern ".*" is not supported \(RE2 syntax, no backreferences or lookaround\): /);
  });

  it(`refuses a pattern whose RE2 program is over ${MAX_PATTERN_INSTRUCTIONS} instructions`, () => {
    const errors = errorsOf(policy({ s: '{ type: string, pattern: "^(a|aa){1,200}$" }' }));
    expect(errors[0]).toMatchObject({ code: 'invalid_args_schema', line: 7, path: 'tools.t.args.s.pattern' });
    expect(errors[0]?.message).toMatch(/compiles to \d+ RE2 instructions, over the limit of 1000/);
    expect(errorsOf(policy({ s: '{ type: string, pattern: "^[0-9a-f]{64}$" }' }))).toEqual([]);
  });
});

describe('schema patterns keep their ECMA-262 meaning', () => {
  const patterns = ['^\\S+$', '^.*$', '\\s', '^[^\\s]+$', '^[\\S]+$', '^[a-z0-9-]+$', '\\u00e9', '^\\u{1F600}$', '^\\uD83D\\uDE00$', '[]', '^[^]$', '^[[:a]+$', '^\\p{L}+$', '^\\d{3}-\\d{4}$', '\\bfoo\\b', '^\\w+$', '^[A-Z]{2}$'];
  const alphabet = ['a', 'b', 'z', 'A', 'é', ' ', '\t', '\n', '\r', '\v', '\u00a0', '\u2028', '\u3000', '\ufeff', '😀', '\ud83d', '1', '-', '_', '[', ':', 'f', 'o'];
  it('agrees with JavaScript’s RegExp (u flag) on random strings', () => {
    const compiled = patterns.map((p) => [compileSchemaPattern(p), new RegExp(p, 'u')] as const);
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...alphabet), { maxLength: 8 }).map((chars) => chars.join('')), (subject) => {
        for (const [re2, ecma] of compiled) expect(re2.test(subject), `${ecma.source} on ${JSON.stringify(subject)}`).toBe(ecma.test(subject));
      }),
      { numRuns: 2000 },
    );
  });
});
