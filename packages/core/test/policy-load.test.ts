import { describe, expect, it } from 'vitest';
import { compile, loadBundle, parseBundle, PolicyLoadError, type LoadError } from '../src/index.js';

/** Loads and compiles a single file; returns the load errors (empty when it compiled). */
function errorsOf(text: string, file = 'policy.yaml'): LoadError[] {
  try {
    compile(parseBundle([{ file, text }]));
    return [];
  } catch (error) {
    if (PolicyLoadError.isInstance(error)) return [...error.errors];
    throw error;
  }
}

const valid = `policy: p
appliesTo: { roles: [support] }
tools:
  issue_refund:
    args:
      amount: { type: number, minimum: 0 }
rules:
  - id: small
    tool: issue_refund
    when: args.amount <= 50
    effect: allow
`;

describe('policy loading errors name file, line, path and a stable code', () => {
  it('accepts a valid policy', () => {
    expect(errorsOf(valid)).toEqual([]);
  });

  it.each<[string, string, Partial<LoadError>]>([
    // Reported at the unclosed bracket's line (the parser notices one line later).
    ['YAML syntax', valid.replace('    effect: allow', '    effect: [allow'), { code: 'yaml_syntax', line: 11, column: 13 }],
    // Found by the policy-text fuzzer: aliases resolve after parsing, and used to escape as a ReferenceError.
    ['alias to no anchor', valid.replace('    effect: allow', '    effect: *allow'), { code: 'yaml_syntax', line: 11 }],
    [
      'misspelt key',
      valid.replace('    effect: allow', '    efect: allow'),
      { code: 'invalid_policy', line: 8, path: 'rules[0]' },
    ],
    ['bad effect', valid.replace('effect: allow', 'effect: permit'), { code: 'invalid_policy', line: 11, path: 'rules[0].effect' }],
    ['CEL syntax', valid.replace('args.amount <= 50', 'args.amount <= '), { code: 'cel_syntax', line: 10, path: 'rules[0].when' }],
    ['CEL type error', valid.replace('args.amount <= 50', 'args.amount == "50"'), { code: 'cel_type', line: 10, path: 'rules[0].when' }],
    ['unknown argument', valid.replace('args.amount <= 50', 'args.total <= 50'), { code: 'cel_type', line: 10 }],
    ['non-bool condition', valid.replace('args.amount <= 50', 'args.amount'), { code: 'cel_type', line: 10 }],
    ['unsupported CEL', valid.replace('args.amount <= 50', 'timestamp("2020-01-01T00:00:00Z") == timestamp("2020-01-01T00:00:00Z")'), { code: 'cel_unsupported', line: 10 }],
    ['undeclared tool', valid.replace('tool: issue_refund', 'tool: issue_refunds'), { code: 'unknown_tool_reference', line: 9, path: 'rules[0].tool' }],
    ['glob that matches nothing', valid.replace('tool: issue_refund', 'tool: get_*'), { code: 'unknown_tool_reference', line: 9 }],
    ['invalid JSON Schema', valid.replace('{ type: number, minimum: 0 }', '{ type: numeric }'), { code: 'invalid_args_schema', line: 6 }],
    ['reserved argument name', valid.replace('      amount: { type: number, minimum: 0 }', '      amount: { type: number, minimum: 0 }\n      constructor: { type: string }'), { code: 'invalid_args_schema', line: 7, path: 'tools.issue_refund.args.constructor' }],
    ['unknown JSON Schema keyword', valid.replace('minimum: 0', 'minimal: 0'), { code: 'invalid_args_schema' }],
    [
      'bad limit window',
      `${valid}limits:\n  - id: rate\n    tools: [issue_refund]\n    key: [agent]\n    max: 5\n    window: 5 minutes\n    effect: block\n`,
      { code: 'invalid_duration', line: 17, path: 'limits[0].window' },
    ],
    [
      'budget over a non-number',
      `${valid}limits:\n  - id: budget\n    tools: [issue_refund]\n    key: [agent]\n    sum: agent\n    max: 5\n    window: 1h\n    effect: block\n`,
      { code: 'cel_type', line: 16, path: 'limits[0].sum' },
    ],
    [
      'duplicate ids',
      valid.replace('rules:\n', 'rules:\n  - id: small\n    tool: issue_refund\n    effect: block\n'),
      { code: 'duplicate_id', line: 11, path: 'rules[1].id' },
    ],
    [
      'disable of an unknown rule',
      `${valid}environments:\n  dev:\n    disable: [nope]\n`,
      { code: 'invalid_policy', line: 14, path: 'environments.dev.disable[0]' },
    ],
  ])('%s', (_name, text, expected) => {
    const errors = errorsOf(text);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({ file: 'policy.yaml', ...expected });
  });

  it('reports a duplicate policy across files', () => {
    expect(() => parseBundle([{ file: 'a.yaml', text: valid }, { file: 'b.yaml', text: valid }])).toThrow(/b.yaml:1 \(policy\): duplicate_policy/);
  });

  it('reports every problem, not just the first', () => {
    const text = valid.replace('effect: allow', 'effect: permit').replace('roles: [support]', 'roles: []');
    expect(errorsOf(text).map((e) => e.path)).toEqual(['appliesTo.roles', 'rules[0].effect']);
  });

  it('reports an empty bundle and an unreadable path', () => {
    expect(() => parseBundle([{ file: 'empty.yaml', text: '# nothing\n' }])).toThrow(/empty_bundle/);
    expect(() => loadBundle('/nonexistent/policies')).toThrow(/io_error/);
  });

  it('loads a directory of files and several documents per file', () => {
    const bundle = loadBundle('examples/policies');
    expect(bundle.policies.map((p) => p.document.policy).sort()).toEqual(['customer-support', 'devops', 'finance', 'saas-workflow']);
    const multi = parseBundle([{ file: 'two.yaml', text: `${valid}---\n${valid.replace('policy: p', 'policy: q').replace(/id: small/, 'id: small-q')}` }]);
    expect(multi.policies.map((p) => p.document.policy)).toEqual(['p', 'q']);
  });

  it('gives the same sources the same digest and different sources a different one', () => {
    const a = parseBundle([{ file: 'p.yaml', text: valid }]);
    const b = parseBundle([{ file: 'p.yaml', text: valid }]);
    const c = parseBundle([{ file: 'p.yaml', text: valid.replace('50', '51') }]);
    expect(a.digest).toBe(b.digest);
    expect(a.digest).not.toBe(c.digest);
  });
});
