import AjvModule from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compile,
  DECISION_ERROR_CODES,
  EFFECTS,
  loadBundle,
  parseBundle,
  PolicyLoadError,
  readPolicySources,
  toolArgsSchema,
  type DecisionRequest,
} from '@airlock/core';
import { LONG, recordSummary } from './support.js';

/**
 * Property-based fuzzing of the two inputs an attacker (or a confused model) controls: the
 * decision request and, for a policy author with a typo, the policy text.
 */
const REQUEST_RUNS = LONG ? 100_000 : 3_000;
const POLICY_RUNS = LONG ? 5_000 : 300;

const bundle = loadBundle('examples/policies');
const TOOLS = new Map<string, ReturnType<typeof toolArgsSchema>>();
const ROLES = new Set<string>();
for (const policy of bundle.policies) {
  for (const role of policy.document.appliesTo.roles) ROLES.add(role);
  for (const [name, tool] of Object.entries(policy.document.tools)) TOOLS.set(name, toolArgsSchema(tool));
}
/** An independent validator of each tool's declared arguments (the engine generates its own fast path). */
// ajv is CommonJS: its constructor is the default export's `default` under some module settings.
const Ajv = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as new (options: object) => {
  compile(schema: object): (data: unknown) => boolean;
};
const ajv = new Ajv({ allErrors: false, strict: false });
const validators = new Map([...TOOLS].map(([name, schema]) => [name, ajv.compile(schema)]));

const toolNames = [...TOOLS.keys()];
const lookAlikes = toolNames.flatMap((name) => [
  name.replace('i', '\u0456'), // Cyrillic і
  name.replace('a', '\u0430'), // Cyrillic а
  `${name}\u200b`, // zero-width space
  ` ${name}`,
  name.toUpperCase(),
  name.replace('_', '-'),
  `${name}\u0000`,
]);

const hugeNumbers = fc.constantFrom(Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -0, 2 ** 53 + 1, 1e21, -1e-7, Number.NaN, Infinity, -Infinity);
const trickyStrings = fc.constantFrom('5e2', '50', '0x10', ' 50', 'USD ', 'usd', '\u0055SD', 'internal\u200b', '__proto__', 'constructor', 'x'.repeat(100_000), '\ud800', '');
const scalar = fc.oneof(fc.double(), fc.integer(), hugeNumbers, fc.string(), trickyStrings, fc.boolean(), fc.constant(null));
const nested = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(fc.string(), tie('value'), { maxKeys: 3 })),
})).value;
const pollutingKeys = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf');

/** Deep nesting built directly (fast-check's depth bias keeps generated values shallow). */
const deep = fc.integer({ min: 20, max: 400 }).map((depth) => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { amount: value };
  return value;
});

/** Arguments shaped like a tool's (its real names with hostile values), or nothing like them. */
const argsFor = (tool: string) => {
  const schema = TOOLS.get(tool);
  const declared = schema ? Object.keys((schema as { properties?: Record<string, unknown> }).properties ?? {}) : [];
  const names = declared.length > 0 ? declared : ['amount'];
  return fc.oneof(
    fc.record(Object.fromEntries(names.map((n) => [n, fc.oneof(scalar, nested, deep)])), { requiredKeys: [] }),
    fc.dictionary(fc.oneof(fc.constantFrom(...names), pollutingKeys, fc.string()), fc.oneof(scalar, nested), { maxKeys: 6 }),
    // Own __proto__ / constructor keys as JSON.parse makes them (an object literal would set the prototype).
    fc.tuple(pollutingKeys, scalar).map(([key, value]) => JSON.parse(`{${JSON.stringify(key)}:${JSON.stringify(value ?? null)},"amount":10}`) as Record<string, unknown>),
  );
};

const request = fc
  .record({
    tool: fc.oneof(fc.constantFrom(...toolNames), fc.constantFrom(...lookAlikes), fc.string()),
    role: fc.oneof(fc.constantFrom(...ROLES), fc.string()),
    environment: fc.oneof(fc.constantFrom('production', 'staging', 'dev'), fc.string(), fc.constant(undefined)),
    agent: fc.oneof(fc.constantFrom('bot-1', 'bot-2'), fc.string({ maxLength: 300 })),
  })
  .chain((base) => argsFor(base.tool).map((args) => ({ ...base, args })));

describe('fuzzed decision requests', () => {
  it(`never crash, never allow what the schema forbids, and refuse with a stable code (${REQUEST_RUNS.toLocaleString('en-US')} cases)`, () => {
    const engine = compile(bundle);
    const twin = compile(bundle);
    let blocked = 0;
    fc.assert(
      fc.property(request, (input) => {
        const req = { ...input, at: '2026-11-23T12:00:00Z' } as DecisionRequest;
        const decision = engine.decideSync(req);
        expect(EFFECTS).toContain(decision.effect);
        if (decision.error) expect(DECISION_ERROR_CODES).toContain(decision.error.code);
        const validate = validators.get(req.tool);
        if (!validate) {
          // Tool names match exactly: a look-alike is unknown (or the role has no policy, or the request is malformed).
          expect(decision.effect).toBe('block');
          expect(['unknown_tool', 'no_policy', 'invalid_request', 'request_too_large']).toContain(decision.error?.code);
        } else if (decision.effect !== 'block') {
          // Anything not blocked passed the tool's schema, judged independently.
          expect(validate(req.args)).toBe(true);
        }
        if (decision.effect === 'block') blocked++;
        // The same input gives the same refusal code (limits may differ between engines; codes may not).
        expect(twin.decideSync(req).error?.code).toBe(decision.error?.code);
      }),
      { numRuns: REQUEST_RUNS },
    );
    // Nothing leaked into the global prototype.
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>).amount).toBeUndefined();
    recordSummary({ suite: 'fuzz: decision requests', rounds: 1, cases: REQUEST_RUNS, faults: blocked, lost: 0, notes: 'faults = calls refused; every refusal had a known code, nothing out of schema was allowed' });
  }, 600_000);
});

describe('fuzzed policy text', () => {
  const sources = readPolicySources('examples/policies');
  const mutation = fc.record({
    file: fc.integer({ min: 0, max: sources.length - 1 }),
    kind: fc.constantFrom('delete-line', 'duplicate-line', 'replace-char', 'insert-text', 'truncate', 'swap-lines'),
    at: fc.nat(),
    text: fc.oneof(fc.string(), fc.constantFrom(': [', '{', '- id: x', '  when: args.amount <', '&&', '"', 'effect: alow', '\t', '*', '!!js/function', 'window: 1y', '__proto__:')),
  });

  function mutate(text: string, m: { kind: string; at: number; text: string }): string {
    const lines = text.split('\n');
    const i = m.at % lines.length;
    switch (m.kind) {
      case 'delete-line':
        lines.splice(i, 1);
        return lines.join('\n');
      case 'duplicate-line':
        lines.splice(i, 0, lines[i] as string);
        return lines.join('\n');
      case 'swap-lines': {
        const j = (i + 1) % lines.length;
        [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
        return lines.join('\n');
      }
      case 'replace-char': {
        const at = m.at % text.length;
        return text.slice(0, at) + (m.text[0] ?? 'x') + text.slice(at + 1);
      }
      case 'insert-text': {
        const at = m.at % text.length;
        return text.slice(0, at) + m.text + text.slice(at);
      }
      default:
        return text.slice(0, m.at % text.length);
    }
  }

  it(`load or fail with located, coded errors, never anything else (${POLICY_RUNS.toLocaleString('en-US')} cases)`, () => {
    let refused = 0;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        const mutated = sources.map((s) => ({ ...s }));
        for (const m of mutations) {
          const source = mutated[m.file % mutated.length] as { text: string };
          source.text = mutate(source.text, m);
        }
        try {
          const loaded = parseBundle(mutated, 'fuzz');
          compile(loaded);
        } catch (error) {
          expect(PolicyLoadError.isInstance(error), String(error)).toBe(true);
          const { errors } = error as PolicyLoadError;
          expect(errors.length).toBeGreaterThan(0);
          for (const e of errors) {
            expect(typeof e.code).toBe('string');
            expect(mutated.map((s) => s.file)).toContain(e.file);
          }
          refused++;
        }
      }),
      { numRuns: POLICY_RUNS },
    );
    recordSummary({ suite: 'fuzz: policy text', rounds: 1, cases: POLICY_RUNS, faults: refused, lost: 0, notes: 'faults = mutated bundles refused, each with coded, located errors' });
  }, 600_000);
});
