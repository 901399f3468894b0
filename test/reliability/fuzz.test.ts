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

/**
 * Bounded evaluation (issue 18): random nested comprehensions, string functions and regular
 * expressions from a small grammar, over schemas with and without bounds. Every policy is either
 * refused at load with a coded error, or every decision completes well inside the time a decision
 * may hold the event loop, whatever the arguments.
 */
describe('fuzzed evaluation cost', () => {
  const COST_RUNS = LONG ? 2_000 : 120;
  const DECISION_MS = 1000; // a hang bound: backtracking or an unmetered loop takes seconds to forever; a loaded 2-core CI box takes tens of ms
  const LOAD_CODES = new Set(['cel_cost_exceeded', 'cel_unsupported', 'cel_type', 'cel_syntax', 'invalid_args_schema']);
  const DECISION_CODES = new Set(['evaluation_limit', 'condition_error', 'invalid_arguments']);

  const atom = fc.constantFrom('a', 'b', '.', '[a-c]', '\\pL', '\\d', '\\w', '[^b]', 'ab', '(?i)a');
  const pattern: fc.Arbitrary<string> = fc.letrec<{ p: string }>((tie) => ({
    p: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      atom,
      fc.tuple(tie('p'), fc.constantFrom('*', '+', '?', '{2}', '{1,30}', '{300}', '{999}')).map(([p, q]) => `(${p})${q}`),
      fc.tuple(tie('p'), tie('p')).map(([x, y]) => `${x}${y}`),
      fc.tuple(tie('p'), tie('p')).map(([x, y]) => `(${x}|${y})`),
      tie('p').map((p) => `^${p}$`),
    ),
  })).p;
  const bound = (choices: (number | undefined)[]) => fc.constantFrom(...choices);

  /** A bool expression over args.xs (ints), args.ss (strings), args.s and args.p; `vars` are ints in scope. */
  const expression = (depth: number, vars: string[]): fc.Arbitrary<string> => {
    const int = fc.constantFrom(...vars, '1', 'size(args.xs)', 'size(args.s)');
    const leaves: fc.Arbitrary<string>[] = [
      fc.tuple(int, fc.constantFrom('<', '>=', '=='), int).map(([l, op, r]) => `${l} ${op} ${r}`),
      pattern.map((p) => `args.s.matches(${JSON.stringify(p)})`),
      fc.constant('args.s.matches(args.p)'),
      fc.constantFrom('args.s.contains("ab")', 'args.s.lowerAscii().startsWith("a")', '"a" in args.ss', 'args.ss.exists(t, t.matches("^a+$"))'),
    ];
    if (depth === 0) return fc.oneof(...leaves);
    const v = `x${vars.length}`;
    const inner = expression(depth - 1, [...vars, v]);
    return fc.oneof(
      ...leaves,
      fc.tuple(fc.constantFrom('all', 'exists', 'exists_one'), inner).map(([m, body]) => `args.xs.${m}(${v}, ${body})`),
      inner.map((body) => `size(args.xs.filter(${v}, ${body})) > 0`),
      fc.tuple(expression(depth - 1, vars), expression(depth - 1, vars), fc.constantFrom('&&', '||')).map(([l, r, op]) => `(${l}) ${op} (${r})`),
    );
  };

  const schema = fc.record({
    xsMax: bound([undefined, 10, 100, 1000, 100_000]),
    sMax: bound([undefined, 100, 10_000, 100_000]),
    pMax: bound([undefined, 8, 64]),
    // A JSON Schema `pattern` on args.s too: it runs on RE2 as well (ajv and the fast path).
    sPattern: fc.option(pattern, { nil: undefined, freq: 3 }),
    when: fc.integer({ min: 0, max: 4 }).chain((depth) => expression(depth, [])),
  });

  const policyText = (s: { xsMax?: number; sMax?: number; pMax?: number; sPattern?: string; when: string }): string =>
    [
      'policy: cost',
      'appliesTo: { roles: [r] }',
      'default: allow',
      'tools:',
      '  t:',
      '    args:',
      `      xs: { type: array, items: { type: integer }${s.xsMax === undefined ? '' : `, maxItems: ${s.xsMax}`} }`,
      '      ss: { type: array, maxItems: 50, items: { type: string, maxLength: 100 } }',
      `      s: { type: string${s.sMax === undefined ? '' : `, maxLength: ${s.sMax}`}${s.sPattern === undefined ? '' : `, pattern: ${JSON.stringify(s.sPattern)}`} }`,
      `      p: { type: string${s.pMax === undefined ? '' : `, maxLength: ${s.pMax}`} }`,
      'rules:',
      '  - id: r',
      '    tool: t',
      `    when: ${JSON.stringify(s.when)}`,
      '    effect: block',
      '',
    ].join('\n');

  const args = fc.record({
    xsLength: fc.constantFrom(0, 3, 100, 1000, 5000),
    sLength: fc.constantFrom(0, 10, 1000, 100_000),
    letters: fc.constantFrom('a', 'ab', 'ba', 'é'),
    p: fc.oneof(pattern, fc.constantFrom('\\pL{999}', '(a)\\1', '[', '(a+)+$')),
  });

  it(`refuse at load with a coded error, or decide within ${DECISION_MS} ms (${COST_RUNS.toLocaleString('en-US')} policies)`, () => {
    let refused = 0;
    let decisions = 0;
    let slowest = 0;
    fc.assert(
      fc.property(schema, fc.array(args, { minLength: 1, maxLength: 3 }), (s, calls) => {
        let engine;
        try {
          engine = compile(parseBundle([{ file: 'cost.yaml', text: policyText(s) }], 'fuzz'));
        } catch (error) {
          expect(PolicyLoadError.isInstance(error), String(error)).toBe(true);
          for (const e of (error as PolicyLoadError).errors) expect(LOAD_CODES, `${e.code}: ${e.message}`).toContain(e.code);
          refused++;
          return;
        }
        for (const call of calls) {
          const length = (max: number | undefined, wanted: number) => Math.min(max ?? wanted, wanted);
          const request = {
            agent: 'a',
            role: 'r',
            tool: 't',
            args: {
              xs: Array.from({ length: length(s.xsMax, call.xsLength) }, (_, i) => i % 7),
              ss: ['a', 'ab', 'aaa'],
              s: call.letters.repeat(Math.ceil(length(s.sMax, call.sLength) / call.letters.length)).slice(0, length(s.sMax, call.sLength)),
              p: call.p.slice(0, s.pMax ?? call.p.length),
            },
          };
          // Decisions are deterministic: a slow one is timed again, so a GC pause is not a failure.
          let ms = Infinity;
          let decision;
          for (let attempt = 0; attempt < 2 && ms > DECISION_MS; attempt++) {
            const started = performance.now();
            decision = engine.decideSync(request);
            ms = Math.min(ms, performance.now() - started);
          }
          decisions++;
          slowest = Math.max(slowest, ms);
          expect(ms, `${s.when} (pattern ${s.sPattern}) over ${JSON.stringify({ ...call, p: request.args.p })}`).toBeLessThan(DECISION_MS);
          if (decision?.error) expect(DECISION_CODES, `${decision.error.code}: ${decision.error.message}`).toContain(decision.error.code);
        }
      }),
      { numRuns: COST_RUNS },
    );
    recordSummary({
      suite: 'fuzz: evaluation cost',
      rounds: 1,
      cases: COST_RUNS,
      faults: refused,
      lost: 0,
      notes: `faults = policies refused at load (coded); ${decisions} decisions of the others, slowest ${slowest.toFixed(1)} ms`,
    });
  }, 600_000);
});
