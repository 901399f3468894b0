import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import AjvModule, { type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { jsonSchema, jsonSchemaFiles, parseBundle, parseSuite, type JsonSchemaFile } from '../src/index.js';

// ajv and ajv-formats are CommonJS; under NodeNext their default import is the module object.
const Ajv = AjvModule as unknown as typeof AjvModule.default;
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/**
 * What an editor's YAML language server does with the checked-in schema: validate each document.
 * The file is read on first use, so that `npm run schemas` can write a missing one.
 */
function validator(file: JsonSchemaFile): (text: string) => string[] {
  let validate: ValidateFunction | undefined;
  return (text) =>
    parseAllDocuments(text).flatMap((doc) => {
      if (validate === undefined) {
        const ajv = new Ajv({ allErrors: true, strict: true });
        addFormats(ajv);
        validate = ajv.compile(JSON.parse(readFileSync(join('docs/schemas', file), 'utf8')) as Record<string, unknown>);
      }
      if (doc.errors.length > 0) throw new Error(`YAML: ${doc.errors[0]?.message}`);
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) return [];
      return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
    });
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** A suite file lives in a `tests/` folder; every other YAML file under examples/ is a policy. */
const isSuite = (path: string): boolean => path.split(/[\\/]/).includes('tests');

describe('the checked-in JSON Schemas (docs/schemas)', () => {
  for (const { file, text } of jsonSchemaFiles()) {
    it(`${file} is what the zod schema generates (npm run schemas rewrites it)`, async () => {
      await expect(text).toMatchFileSnapshot(`../../../docs/schemas/${file}`);
    });
  }

  it('are draft-07 schemas that compile in strict mode and carry a title', () => {
    for (const { file } of jsonSchemaFiles()) {
      const schema = jsonSchema(file);
      expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
      expect(typeof schema.title).toBe('string');
      expect(validator(file)('{}')).not.toEqual([]);
    }
  });
});

describe('every policy and test suite under examples/', () => {
  const files = yamlFiles('examples');
  const policy = validator('policy.schema.json');
  const suite = validator('policy-test.schema.json');

  it('finds both kinds', () => {
    expect(files.filter(isSuite).length).toBeGreaterThanOrEqual(6);
    expect(files.filter((f) => !isSuite(f)).length).toBeGreaterThanOrEqual(8);
  });

  for (const path of files) {
    it(`${path} is valid against ${isSuite(path) ? 'policy-test' : 'policy'}.schema.json`, () => {
      const text = readFileSync(path, 'utf8');
      expect((isSuite(path) ? suite : policy)(text)).toEqual([]);
    });
  }

  it('names its schema on the first line, by a path that resolves from the file', () => {
    for (const path of files) {
      const first = readFileSync(path, 'utf8').split('\n')[0] ?? '';
      const schema = /^# yaml-language-server: \$schema=(\S+)$/.exec(first)?.[1];
      expect(schema, path).toBeDefined();
      // Relative paths resolve from the YAML file's directory, as the YAML language server does.
      expect(resolve(dirname(path), schema ?? '')).toBe(resolve('docs/schemas', isSuite(path) ? 'policy-test.schema.json' : 'policy.schema.json'));
    }
  });
});

const goodPolicy = `policy: p
appliesTo: { roles: [support] }
tools:
  issue_refund:
    args: { amount: { type: number, minimum: 0 } }
rules:
  - { id: small, tool: issue_refund, when: args.amount <= 50, effect: allow }
limits:
  - { id: budget, tools: [issue_refund], key: [agent], sum: args.amount, max: 100, window: 24h, effect: block }
`;

const goodSuite = `suite: s
defaults: { agent: bot, role: support }
cases:
  - name: small
    request: { tool: issue_refund, args: { amount: 5 } }
    expect: { effect: allow, rule: small }
  - name: two
    steps:
      - request: { tool: issue_refund, args: { amount: 5 } }
        at: 2026-11-23T10:00:00Z
        repeat: 2
        every: 1m
        expect: { effect: allow }
`;

/** Each broken file is refused by the loader and by the JSON Schema: editors flag what the loader refuses. */
const brokenPolicies: [string, string][] = [
  ['a misspelt rule key', goodPolicy.replace('effect: allow', 'efect: allow')],
  ['an unknown effect', goodPolicy.replace('effect: allow', 'effect: maybe')],
  ['no tools', goodPolicy.replace(/tools:\n {2}issue_refund:\n.*\n/, '')],
  ['a tool name with a space', goodPolicy.replace('  issue_refund:', '  issue refund:')],
  ['a rule without an id', goodPolicy.replace('id: small, ', '')],
  ['a limit that allows', goodPolicy.replace('effect: block', 'effect: allow')],
  ['a negative max', goodPolicy.replace('max: 100', 'max: -1')],
  ['an empty role list', goodPolicy.replace('roles: [support]', 'roles: []')],
  ['a top-level typo', `${goodPolicy}defualt: allow\n`],
];

const brokenSuites: [string, string][] = [
  ['a misspelt expect key', goodSuite.replace('rule: small', 'rul: small')],
  ['an unknown effect', goodSuite.replace('effect: allow, rule', 'effect: maybe, rule')],
  ['no cases', 'suite: s\ncases: []\n'],
  ['a case without a name', goodSuite.replace('  - name: small\n    request', '  - request')],
  ['a time without an offset', goodSuite.replace('2026-11-23T10:00:00Z', '2026-11-23T10:00:00')],
  ['repeat 0', goodSuite.replace('repeat: 2', 'repeat: 0')],
  ['an unknown error code', goodSuite.replace('{ effect: allow }', '{ effect: allow, code: oops }')],
];

describe('the JSON Schemas agree with the loaders', () => {
  const policy = validator('policy.schema.json');
  const suite = validator('policy-test.schema.json');
  const loadsPolicy = (text: string): boolean => {
    try {
      parseBundle([{ file: 'p.yaml', text }]);
      return true;
    } catch {
      return false;
    }
  };
  const loadsSuite = (text: string): boolean => {
    try {
      parseSuite('s.yaml', text);
      return true;
    } catch {
      return false;
    }
  };

  it('accept the valid files the loaders accept', () => {
    expect(loadsPolicy(goodPolicy)).toBe(true);
    expect(policy(goodPolicy)).toEqual([]);
    expect(loadsSuite(goodSuite)).toBe(true);
    expect(suite(goodSuite)).toEqual([]);
  });

  for (const [what, text] of brokenPolicies) {
    it(`refuse a policy with ${what}`, () => {
      expect(text).not.toBe(goodPolicy);
      expect(loadsPolicy(text)).toBe(false);
      expect(policy(text)).not.toEqual([]);
    });
  }

  for (const [what, text] of brokenSuites) {
    it(`refuse a suite with ${what}`, () => {
      expect(text).not.toBe(goodSuite);
      expect(loadsSuite(text)).toBe(false);
      expect(suite(text)).not.toEqual([]);
    });
  }
});
