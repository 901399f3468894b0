import AjvModule from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFastAccept } from '../src/engine/fast-accept.js';
import type { JsonSchema } from '../src/policy/document.js';

const Ajv = AjvModule as unknown as typeof AjvModule.default;
const ajv = new Ajv({ strict: true, strictTypes: false, strictTuples: false, strictNumbers: true, allErrors: false });

const schemas: Record<string, JsonSchema> = {
  refund: {
    type: 'object',
    properties: {
      account_id: { type: 'string', minLength: 1, maxLength: 8 },
      amount: { type: 'number', minimum: 0 },
      currency: { type: 'string', enum: ['USD', 'EUR', 'GBP'] },
    },
    required: ['account_id', 'amount', 'currency'],
    additionalProperties: false,
  },
  records: {
    type: 'object',
    properties: {
      ids: { type: 'array', minItems: 1, maxItems: 3, items: { type: 'string', minLength: 1 } },
      replicas: { type: 'integer', exclusiveMinimum: -1, exclusiveMaximum: 5 },
      fields: { type: 'object' },
      flag: { type: 'boolean' },
      nothing: { type: 'null' },
      kind: { type: 'string', const: 'x' },
      code: { type: 'string', pattern: '^[A-Z]{2}$', maxLength: 2 },
      nested: { type: 'object', properties: { n: { type: 'number', maximum: 10 } }, required: ['n'], additionalProperties: false },
    },
    required: ['ids'],
    additionalProperties: false,
  },
};

const anyValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(0, -1, 1, 4, 5, 10, 10.5, 1e308, -0, Number.NaN, Number.POSITIVE_INFINITY, 2.5),
    fc.double(),
    fc.integer(),
    fc.constantFrom('', 'A', 'AB', 'ab', 'USD', 'eur', 'x', '𝟘𝟘', '🙂', '\ud800', 'ABCDEFGHI', '12345678'),
    fc.string({ maxLength: 10 }),
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('n', 'm', 'x'), tie('value'), { maxKeys: 2 }),
  ),
})).value;

/** Mostly near-valid objects: each field a boundary value of its schema, or anything at all. */
const near = (values: unknown[]): fc.Arbitrary<unknown> => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...values) }, { weight: 1, arbitrary: anyValue });
const fieldValues: Record<string, Record<string, unknown[]>> = {
  refund: {
    account_id: ['A', '', '12345678', '123456789', '🙂🙂🙂🙂🙂🙂🙂🙂', '\ud800'],
    amount: [0, -0, -1e-9, 1e-9, 50, 1e308, -1],
    currency: ['USD', 'EUR', 'GBP', 'usd', ''],
  },
  records: {
    ids: [['a'], [], ['a', 'b', 'c'], ['a', 'b', 'c', 'd'], [''], ['🙂']],
    replicas: [-1, 0, 4, 5, 4.5],
    fields: [{}, { a: 1 }, null, []],
    flag: [true, false, 0],
    nothing: [null, 0],
    kind: ['x', 'y'],
    code: ['AB', 'A', 'ABC', 'ab'],
    nested: [{ n: 10 }, { n: 10.01 }, {}, { n: 1, m: 2 }],
  },
};
const argsFor = (name: string, schema: JsonSchema): fc.Arbitrary<unknown> => {
  const fields = Object.fromEntries(Object.keys(schema.properties as object).map((field) => [field, near(fieldValues[name]?.[field] ?? [])]));
  const closed = fc.record(fields, { requiredKeys: [] });
  const withExtra = fc.record({ ...fields, extra: anyValue }, { requiredKeys: ['extra'] });
  return fc.oneof({ weight: 6, arbitrary: closed }, { weight: 1, arbitrary: withExtra }, { weight: 1, arbitrary: anyValue });
};

describe('the fast acceptance predicate agrees with ajv', () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`${name}: accepts exactly what ajv accepts`, () => {
      const fast = compileFastAccept(schema);
      expect(fast).toBeDefined();
      const validate = ajv.compile(schema);
      fc.assert(
        fc.property(argsFor(name, schema), (value) => {
          expect(fast?.accepts(value)).toBe(validate(value));
        }),
        { numRuns: 3000 },
      );
    });
  }

  it('accepts the valid values the generator rarely produces', () => {
    const fast = compileFastAccept(schemas.records as JsonSchema);
    const value = { ids: ['a', '🙂'], replicas: 4, fields: { any: 1 }, flag: false, nothing: null, kind: 'x', code: 'AB', nested: { n: 10 } };
    expect(ajv.validate(schemas.records as JsonSchema, value)).toBe(true);
    expect(fast?.accepts(value)).toBe(true);
  });

  it('never accepts a required value that is inherited rather than own', () => {
    const fast = compileFastAccept(schemas.refund as JsonSchema);
    const inherited = Object.assign(Object.create({ amount: 5 }) as object, { account_id: 'A', currency: 'USD' });
    expect(fast?.accepts(inherited)).toBe(false);
    expect(fast?.ownRequired).toBe(true);
  });

  it('declines schemas outside the subset, leaving them to ajv', () => {
    expect(compileFastAccept({ type: 'object', properties: { e: { type: 'string', format: 'email' } } })).toBeUndefined();
    expect(compileFastAccept({ type: ['string', 'null'] })).toBeUndefined();
    expect(compileFastAccept({ anyOf: [{ type: 'string' }] })).toBeUndefined();
  });
});
