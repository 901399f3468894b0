import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { callHash, canonicalJson, sha256Bytes, sha256Hex } from '@airlock/core';
import { canonicalIterative } from '../src/engine/canonical.js';

/** The definition, written the obvious way: sort every object's keys, then JSON.stringify. */
function reference(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reference);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) defineOwn(sorted, key, reference((value as Record<string, unknown>)[key]));
  return sorted;
}

/** Re-inserts every object's keys in reverse order: the same value, another key order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).reverse()) defineOwn(out, key, reversedKeys((value as Record<string, unknown>)[key]));
  return out;
}

/**
 * Sets an own enumerable key, as JSON.parse does: plain assignment of "__proto__" would replace
 * the prototype instead (fast-check's jsonValue generates such keys).
 */
function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

const json = fc.jsonValue({ maxDepth: 4 });

describe('canonicalJson', () => {
  it('is JSON.stringify of the value with every object key sorted', () => {
    fc.assert(
      fc.property(json, (value) => {
        // JSON.stringify of objects with integer-like keys (which V8 orders numerically) is not
        // sorted as strings; the reference's output is then wrong, so compare parsed structure and key order.
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toStrictEqual(JSON.parse(JSON.stringify(value)));
        if (!/"\d+":/.test(text)) expect(text).toBe(JSON.stringify(reference(value)));
      }),
    );
  });

  it('does not depend on key insertion order', () => {
    fc.assert(
      fc.property(json, (value) => {
        expect(canonicalJson(reversedKeys(value))).toBe(canonicalJson(value));
      }),
    );
  });

  it('keeps an own "__proto__" key, as JSON.parse makes it', () => {
    expect(canonicalJson(JSON.parse('{"b":1,"__proto__":{"x":2}}'))).toBe('{"__proto__":{"x":2},"b":1}');
  });

  it.each([
    ['sorted keys, nested', { b: 1, a: { d: [1, { z: true, y: null }], c: 'x' } }, '{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}'],
    ['integer-like keys sort as strings', { 10: 'a', 9: 'b', a: 1 }, '{"10":"a","9":"b","a":1}'],
    ['undefined members are left out', { a: undefined, b: 2 }, '{"b":2}'],
    ['undefined array items are null', [undefined, 1], '[null,1]'],
    ['escapes in keys and strings', { 'q"k': 'line\nbreak' }, '{"q\\"k":"line\\nbreak"}'],
    ['negative zero', { n: -0 }, '{"n":0}'],
  ])('%s', (_name, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it.each([NaN, Infinity, -Infinity])('refuses %s anywhere in the value', (n) => {
    expect(() => canonicalJson({ a: [1, { b: n }] })).toThrow(TypeError);
  });

  it('writes a value nested 100,000 levels (no stack overflow), the same as a shallow one would be', () => {
    let value: unknown = 1;
    for (let i = 0; i < 100_000; i++) value = i % 2 ? { b: undefined, a: value } : [value];
    const text = canonicalJson(value);
    expect(text.length).toBe(1 + 50_000 * ('[]'.length + '{"a":}'.length));
    expect(text.startsWith('{"a":[{"a":[')).toBe(true);
    expect(callHash({ agent: 'a', tool: 't', args: { deep: value } })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('writes the same text iteratively as recursively', () => {
    const values = fc.oneof(json, fc.anything({ maxDepth: 4, withBoxedValues: false, withMap: false, withSet: false, withTypedArray: false, withSparseArray: true, withNullPrototype: true }));
    fc.assert(
      fc.property(values, (value) => {
        let recursive: string | Error;
        try {
          recursive = canonicalJson(value);
        } catch (error) {
          recursive = error as Error;
        }
        if (typeof recursive === 'string') expect(canonicalIterative(value)).toBe(recursive);
        else expect(() => canonicalIterative(value)).toThrow(recursive.constructor as new () => Error);
      }),
    );
  });

  it('writes any string as JSON.stringify does (quotes, backslashes, control characters, lone and paired surrogates)', () => {
    const texts = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.constantFrom('\ud800', 'x\udfff', '😀', '"', '\\', '\u001f', '\u007f', '\u2028'));
    fc.assert(
      fc.property(texts, texts, (key, text) => {
        expect(canonicalJson({ [key]: text })).toBe(`{${JSON.stringify(key)}:${JSON.stringify(text)}}`);
        expect(canonicalJson([text])).toBe(`[${JSON.stringify(text)}]`);
      }),
    );
  });

  it('sorts objects of any size (insertion sort for small ones, Array#sort past 24 keys)', () => {
    const keys = fc.uniqueArray(fc.string({ unit: 'binary', maxLength: 4 }), { maxLength: 60 });
    fc.assert(
      fc.property(keys, (names) => {
        const value: Record<string, unknown> = {};
        for (const [i, name] of names.entries()) defineOwn(value, name, i);
        const text = canonicalJson(value);
        if (!/"\d+":/.test(text)) expect(text).toBe(JSON.stringify(reference(value)));
        expect(canonicalJson(reversedKeys(value))).toBe(text);
      }),
    );
  });

  it('writes a deeply frozen value the same each time, and a frozen one with a getter or a mutable member as it is now', () => {
    const shared = Object.freeze({ b: Object.freeze([1, Object.freeze({ d: 'x', c: null })]), a: true });
    expect(canonicalJson({ one: shared, two: shared })).toBe('{"one":{"a":true,"b":[1,{"c":null,"d":"x"}]},"two":{"a":true,"b":[1,{"c":null,"d":"x"}]}}');
    expect(canonicalJson(shared)).toBe('{"a":true,"b":[1,{"c":null,"d":"x"}]}');

    let reads = 0;
    const withGetter = Object.freeze(Object.defineProperty({}, 'n', { enumerable: true, get: () => ++reads }));
    expect(canonicalJson(withGetter)).toBe('{"n":1}');
    expect(canonicalJson(withGetter)).toBe('{"n":2}');

    const inner = { v: 1 };
    const shallow = Object.freeze({ inner });
    expect(canonicalJson(shallow)).toBe('{"inner":{"v":1}}');
    inner.v = 2;
    expect(canonicalJson(shallow)).toBe('{"inner":{"v":2}}');
    expect(canonicalJson({ x: shallow })).toBe('{"x":{"inner":{"v":2}}}');
  });

  it('makes callHash independent of argument order and sensitive to any change', () => {
    const call = { agent: 'a1', tool: 'issue_refund', args: { account_id: 'A-1', amount: 75, currency: 'USD' } };
    expect(callHash({ ...call, args: { currency: 'USD', amount: 75, account_id: 'A-1' } })).toBe(callHash(call));
    expect(callHash({ ...call, args: { ...call.args, amount: 75.01 } })).not.toBe(callHash(call));
  });
});

describe('sha256Hex and sha256Bytes', () => {
  it('hash the UTF-8 bytes of any text as createHash does (non-ASCII, lone surrogates, empty)', () => {
    const texts = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', '\ud800', 'a\udc00b', 'ß€😀'));
    fc.assert(
      fc.property(texts, (text) => {
        const expected = createHash('sha256').update(text).digest();
        expect(sha256Hex(text)).toBe(expected.toString('hex'));
        expect(sha256Bytes(text).equals(expected)).toBe(true);
      }),
    );
  });
});
