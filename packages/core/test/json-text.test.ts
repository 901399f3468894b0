import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonTextProblem, MAX_JSON_DEPTH, MAX_JSON_VALUES, nestsDeeperThan } from '../src/index.js';

const arrays = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);
const objects = (levels: number): string => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

/** Nesting depth of a parsed value, the top container being level 1 (a reference written the obvious way). */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const members: unknown[] = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...members.map(depthOf));
}

describe('jsonTextProblem: depth', () => {
  it('refuses 100,000 levels of arrays and of objects, naming where', () => {
    expect(jsonTextProblem(arrays(100_000))).toMatchObject({ code: 'too_deep' });
    const problem = jsonTextProblem(`{"tool":"t","args":${objects(100_000)}}`);
    expect(problem?.code).toBe('too_deep');
    expect(problem?.path.startsWith('args.a.a')).toBe(true);
  });

  it('allows exactly the bound and refuses one more', () => {
    expect(jsonTextProblem(arrays(MAX_JSON_DEPTH))).toBeUndefined();
    expect(jsonTextProblem(arrays(MAX_JSON_DEPTH + 1))?.code).toBe('too_deep');
    expect(jsonTextProblem(objects(MAX_JSON_DEPTH))).toBeUndefined();
    expect(jsonTextProblem(objects(MAX_JSON_DEPTH + 1))?.code).toBe('too_deep');
    expect(jsonTextProblem(arrays(3), 2)?.code).toBe('too_deep');
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(jsonTextProblem(JSON.stringify({ a: '['.repeat(1000), b: '\\"[[[[', c: '"{{{{' }), 2)).toBeUndefined();
  });

  it('agrees with the parsed depth on random JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 0, max: 9 }), (value, bound) => {
        const text = JSON.stringify(value);
        const deep = jsonTextProblem(text, bound)?.code === 'too_deep';
        expect(deep).toBe(depthOf(JSON.parse(text)) > bound);
        expect(nestsDeeperThan(JSON.parse(text), bound)).toBe(depthOf(JSON.parse(text)) > bound);
      }),
    );
  });
});

describe('jsonTextProblem: values', () => {
  it(`refuses more than ${MAX_JSON_VALUES} values (containers and members), counted alike in arrays and objects`, () => {
    // An array of n numbers holds n values: the container and n - 1 separators.
    const array = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(',')}]`;
    const object = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')}}`;
    expect(jsonTextProblem(array(MAX_JSON_VALUES))).toBeUndefined();
    expect(jsonTextProblem(array(MAX_JSON_VALUES + 1))).toMatchObject({ code: 'too_many_values' });
    expect(jsonTextProblem(object(MAX_JSON_VALUES))).toBeUndefined();
    expect(jsonTextProblem(object(MAX_JSON_VALUES + 1))).toMatchObject({ code: 'too_many_values' });
    // Commas inside strings are not values.
    expect(jsonTextProblem(`["${','.repeat(50_000)}"]`)).toBeUndefined();
    expect(jsonTextProblem(array(10), MAX_JSON_DEPTH, 9)).toMatchObject({ code: 'too_many_values', message: 'JSON holding more than 9 values' });
  });
});

describe('jsonTextProblem: duplicate keys', () => {
  const cases: [string, string, string][] = [
    ['a repeated argument', '{"tool":"issue_refund","args":{"amount":20,"amount":900}}', 'args.amount'],
    ['an escaped spelling of the same key', '{"args":{"amount":20,"am\\u006funt":900}}', 'args.amount'],
    ['an escaped first spelling', '{"\\u0074ool":"a","tool":"b"}', 'tool'],
    ['at the top', '{"tool":"a","args":{},"tool":"b"}', 'tool'],
    ['inside an array of objects', '{"records":[{"q":1},{"q":1,"p":2,"q":3}]}', 'records.1.q'],
    ['__proto__ twice', '{"__proto__":{},"__proto__":{}}', '__proto__'],
    ['after many keys (a set, not a list)', `{${Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`).join(',')},"k7":0}`, 'k7'],
    ['with whitespace and nested values between', '{ "a" : { "a" : [ "a", {"a":1} ] } ,\n "a" : 2 }', 'a'],
  ];
  it.each(cases)('%s', (_name, text, path) => {
    expect(jsonTextProblem(text)).toMatchObject({ code: 'duplicate_key', path });
  });

  it('does not confuse equal keys of different objects, values that look like keys, or escaped quotes', () => {
    for (const text of [
      '{"a":{"a":{"a":1}},"b":{"a":2}}',
      '[{"a":1},{"a":2}]',
      '{"a":"a","b":"a"}',
      '{"a\\"":1,"a":2}',
      '{"a\\\\":1,"a":2}',
      '{"a":[1,2,{"b":1}],"b":{"a":1}}',
    ]) {
      expect(jsonTextProblem(text), text).toBeUndefined();
    }
  });

  it('finds none in JSON.stringify output (which cannot repeat a key)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        expect(jsonTextProblem(JSON.stringify(value))).toBeUndefined();
      }),
    );
  });

  it('finds the repeat JSON.stringify output gets when a key is written twice', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1 }), fc.nat(), (record, pick) => {
        const keys = Object.keys(record);
        const key = keys[pick % keys.length] as string;
        const text = JSON.stringify(record);
        // Append the key again at the end of the object.
        const repeated = `${text.slice(0, -1)},${JSON.stringify(key)}:0}`;
        expect(jsonTextProblem(repeated)).toMatchObject({ code: 'duplicate_key', path: key, key });
      }),
    );
  });

  it('scans a 1 MB body in linear time', () => {
    const body = JSON.stringify({ tool: 't', args: { items: Array.from({ length: 20_000 }, (_, i) => ({ id: `r-${i}`, qty: i, note: 'a "quoted" \\ note' })) } });
    expect(body.length).toBeGreaterThan(1_000_000);
    const started = performance.now();
    // The key checks of 20,000 objects (80,000 values: past the value bound, lifted here).
    expect(jsonTextProblem(body, MAX_JSON_DEPTH, Number.POSITIVE_INFINITY)).toBeUndefined();
    // Milliseconds when linear; a quadratic scan of 20,000 objects would take far longer.
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('nestsDeeperThan', () => {
  it('answers for 100,000 levels without recursion', () => {
    let value: unknown = 1;
    for (let i = 0; i < 100_000; i++) value = i % 2 ? { a: value } : [value];
    expect(nestsDeeperThan(value, MAX_JSON_DEPTH)).toBe(true);
  });

  it('treats a cycle as too deep', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    expect(nestsDeeperThan(cycle, MAX_JSON_DEPTH)).toBe(true);
  });
});

describe('jsonTextProblem: text that cannot be stored as sent', () => {
  it.each([
    ['NUL in a value', String.raw`{"tool":"t","args":{"note":"a\u0000b"}}`, 'args.note'],
    ['NUL in a key', String.raw`{"tool":"t","args":{"a\u0000":1}}`, 'args.(a key)'],
    ['NUL in the tool', String.raw`{"tool":"x\u0000"}`, 'tool'],
    ['a lone high surrogate', String.raw`{"tool":"x\ud800"}`, 'tool'],
    ['a lone low surrogate', String.raw`{"tool":"x\udc00y"}`, 'tool'],
    ['a high surrogate before a non-surrogate', String.raw`{"a":["ok","\uD83D\u0041"]}`, 'a.1'],
    ['a pair reversed', String.raw`{"a":"\ude00\ud83d"}`, 'a'],
    ['a bare string', String.raw`"\u0000"`, ''],
  ])('refuses %s, naming where', (_name, text, path) => {
    expect(jsonTextProblem(text)).toMatchObject({ code: 'invalid_text', path });
  });

  it.each([
    ['a surrogate pair', String.raw`{"a":"\ud83d\ude00"}`],
    ['the emoji as is', '{"a":"😀"}'],
    ['an escaped backslash before u0000 (a backslash and the text u0000)', String.raw`{"a":"\\u0000"}`],
    ['other escapes', String.raw`{"a":"\u0041\n\t\u00e9"}`],
  ])('accepts %s', (_name, text) => {
    expect(jsonTextProblem(text)).toBeUndefined();
  });

  it('agrees with the decoded strings on random text: refused exactly when a string or key holds NUL or is not well-formed', () => {
    const unit = fc.oneof(fc.constantFrom('\u0000', '\ud800', '\udfff', '\ud83d\ude00', 'a', '"', '\\', 'é'), fc.string({ maxLength: 3 }));
    const text = fc.array(unit, { maxLength: 6 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(fc.dictionary(text, fc.oneof(text, fc.array(text, { maxLength: 3 })), { maxKeys: 4 }), (value) => {
        const strings = [...Object.keys(value), ...Object.values(value).flat()];
        const bad = strings.some((s) => s.includes('\u0000') || !(s as string & { isWellFormed(): boolean }).isWellFormed());
        expect(jsonTextProblem(JSON.stringify(value))?.code === 'invalid_text').toBe(bad);
      }),
      { numRuns: 2000 },
    );
  });
});
