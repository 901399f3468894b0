import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_GENERATED_TOOLS, toolLookup } from '../src/engine/tool-lookup.js';
import { compile, parseBundle, type DecisionRequest } from '../src/index.js';

/** The generated tool lookup against the Map it stands for: the same answer for any value. */

const HOSTILE = [
  '"); globalThis.__airlockPwned = 1; ("',
  "'); globalThis.__airlockPwned = 1; ('",
  '`${globalThis.__airlockPwned = 1}`',
  '\\',
  '\u2028\u2029',
  '\ud800',
  '\udc00x',
  '*/ globalThis.__airlockPwned = 1; /*',
  '',
  '__proto__',
  'constructor',
  'toString',
  'é',
  'e\u0301',
  '😀',
];

const name = fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 4 }), fc.constantFrom('issue_refund', 'issue_refunD', 'get_account'));

describe('toolLookup', () => {
  it('answers exactly as Map.get, for declared names, near misses and values that are no string', () => {
    fc.assert(
      fc.property(fc.uniqueArray(name, { minLength: 0, maxLength: MAX_GENERATED_TOOLS + 8 }), fc.array(fc.oneof(name, fc.constantFrom<unknown>(undefined, null, 12, {}, [], true))), (tools, probes) => {
        const index = new Map(tools.map((tool, i) => [tool, { i }]));
        const lookup = toolLookup(index);
        for (const probe of [...tools, ...tools.map((t) => `${t} `), ...tools.map((t) => t.slice(1)), ...probes]) {
          expect(lookup(probe as string)).toBe(index.get(probe as string));
        }
      }),
      { numRuns: 500 },
    );
    expect((globalThis as { __airlockPwned?: unknown }).__airlockPwned).toBeUndefined();
  });

  for (const count of [12, MAX_GENERATED_TOOLS + 8]) {
    it(`is what the engine finds tools with: ${count} tools of few lengths, each decided by its own rule`, () => {
      const names = ['a.b', 'a:b', 'a/b', 'a-b', 'a_b', 'ab_', '_ab', 'constructor', '__proto', 'toString', 'valueOf', 'x'];
      for (let i = 0; names.length < count; i++) names.push(`t${i % 10}${String.fromCharCode(97 + Math.floor(i / 10))}`);
      const tools = Object.fromEntries(names.map((t) => [t, { args: {} }]));
      const rules = names.map((tool, i) => ({ id: `r${i}`, tool, effect: i % 2 ? 'allow' : 'require_approval' }));
      const text = JSON.stringify({ policy: 'tools', appliesTo: { roles: ['ops'] }, default: 'block', tools, rules });
      const engine = compile(parseBundle([{ file: 'tools.yaml', text }], 'tools'));
      names.forEach((tool, i) => {
        expect(engine.decideSync({ agent: 'a', role: 'ops', tool, args: {} } satisfies DecisionRequest).rule, tool).toBe(`r${i}`);
      });
      for (const tool of ['', 'y', 'a.c', 'a.b ', 'A.b', 'hasOwnProperty', '__proto_']) {
        expect(engine.decideSync({ agent: 'a', role: 'ops', tool, args: {} }).error?.code, tool).toBe('unknown_tool');
      }
    });
  }
});
