import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  loadSuites,
  parseBundle,
  parseSuite,
  PolicyLoadError,
  runSuites,
  suiteBundlePath,
  SuiteLoadError,
  type CaseResult,
  type SuiteError,
} from '../src/index.js';

// Two calls per rolling minute per agent; `ping` is allowed, `boom` blocked by a rule.
const bundle = parseBundle([
  {
    file: 'p.yaml',
    text: `policy: p
appliesTo: { roles: [r] }
tools:
  ping:
    args: { n: { type: integer, minimum: 0 } }
  boom:
    args: {}
rules:
  - id: ping-ok
    tool: ping
    effect: allow
  - id: no-boom
    tool: boom
    effect: block
limits:
  - id: ping-rate
    tools: [ping]
    key: [agent]
    max: 2
    window: 1m
    effect: block
`,
  },
]);

const header = 'suite: s\ndefaults: { agent: a, role: r }\ncases:\n';
const ping = '{ tool: ping, args: { n: 1 } }';

async function run(cases: string): Promise<CaseResult[]> {
  const [result] = await runSuites(bundle, [parseSuite('s.yaml', header + cases)]);
  if (!result) throw new Error('no suite result');
  return result.cases;
}

function suiteErrors(text: string): SuiteError[] {
  try {
    parseSuite('bad.yaml', text);
    return [];
  } catch (error) {
    if (SuiteLoadError.isInstance(error)) return [...error.errors];
    throw error;
  }
}

describe('running a case', () => {
  it('passes when effect and rule match, and reports the decision it saw', async () => {
    const [result] = await run(`  - name: ok
    request: ${ping}
    expect: { effect: allow, rule: ping-ok }
`);
    expect(result).toMatchObject({ name: 'ok', line: 4, passed: true, steps: 1, calls: 1 });
    expect(result?.last).toMatchObject({
      actual: { effect: 'allow', rule: 'ping-ok' },
      mismatched: [],
      request: { agent: 'a', role: 'r', tool: 'ping', args: { n: 1 } },
    });
    expect(result?.last.reason).toContain('ping-ok');
  });

  it('reports a wrong expectation as a failure with expected, actual, request and reason', async () => {
    const [result] = await run(`  - name: wrong
    request: { tool: boom }
    expect: { effect: allow, rule: ping-ok }
`);
    expect(result?.passed).toBe(false);
    expect(result?.last).toMatchObject({
      expected: { effect: 'allow', rule: 'ping-ok' },
      actual: { effect: 'block', rule: 'no-boom' },
      mismatched: ['effect', 'rule'],
      request: { tool: 'boom' },
    });
    expect(result?.last.reason).toContain('no-boom');
  });

  it('checks the rule only when the expectation names one, and null means no deciding rule', async () => {
    const results = await run(`  - name: rule not checked
    request: { tool: boom }
    expect: { effect: block }
  - name: rule null expected, rule found
    request: { tool: boom }
    expect: { effect: block, rule: null }
  - name: rule null expected and found
    request: { tool: nope }
    expect: { effect: block, rule: null, code: unknown_tool }
`);
    expect(results.map((r) => [r.passed, r.last.mismatched])).toEqual([
      [true, []],
      [false, ['rule']],
      [true, []],
    ]);
  });

  it('treats an absent code as "no error", so bad input never passes as a block by policy', async () => {
    const results = await run(`  - name: invalid arguments are not a rule block
    request: { tool: ping, args: { n: -1 } }
    expect: { effect: block }
  - name: the code is compared
    request: { tool: ping, args: { n: -1 } }
    expect: { effect: block, code: unknown_tool }
`);
    expect(results.map((r) => [r.passed, r.last.mismatched, r.last.actual.code])).toEqual([
      [false, ['code'], 'invalid_arguments'],
      [false, ['code'], 'invalid_arguments'],
    ]);
  });

  it('merges defaults into every request; the request wins', async () => {
    const [result] = await run(`  - name: other role
    request: { role: stranger, tool: ping, args: { n: 1 } }
    expect: { effect: block, rule: null, code: no_policy }
`);
    expect(result?.passed).toBe(true);
    expect(result?.last.request).toMatchObject({ agent: 'a', role: 'stranger' });
  });
});

describe('repeat, every and steps', () => {
  it('repeats a request, spacing `at` by `every`', async () => {
    // 10:00:00, 10:00:30, 10:01:00: at 10:01:00 the first call has left the minute.
    const [spaced] = await run(`  - name: spaced
    request: ${ping}
    at: 2026-11-23T10:00:00Z
    repeat: 3
    every: 30s
    expect: { effect: allow, rule: ping-ok }
`);
    expect(spaced).toMatchObject({ passed: true, calls: 3 });
    expect(spaced?.last).toMatchObject({ repetition: 3, repeat: 3, request: { at: '2026-11-23T10:01:00.000Z' } });
  });

  it('without `every`, repeats at the same time and stops at the first failing call', async () => {
    const [bunched] = await run(`  - name: bunched
    request: ${ping}
    at: 2026-11-23T10:00:00Z
    repeat: 5
    expect: { effect: allow, rule: ping-ok }
`);
    expect(bunched).toMatchObject({ passed: false, calls: 3 });
    expect(bunched?.last).toMatchObject({
      repetition: 3,
      repeat: 5,
      request: { at: '2026-11-23T10:00:00.000Z' },
      actual: { effect: 'block', rule: 'ping-rate' },
    });
  });

  it('shares counter state between the steps of a case, never between cases', async () => {
    const twice = `    steps:
      - request: ${ping}
        at: 2026-11-23T10:00:00Z
        repeat: 2
        expect: { effect: allow, rule: ping-ok }
      - request: ${ping}
        at: 2026-11-23T10:00:10Z
        expect: { effect: block, rule: ping-rate }
`;
    const results = await run(`  - name: first\n${twice}  - name: second\n${twice}`);
    expect(results.map((r) => [r.name, r.passed, r.steps, r.calls])).toEqual([
      ['first', true, 2, 3],
      ['second', true, 2, 3],
    ]);
  });

  it('reports which step failed', async () => {
    const [result] = await run(`  - name: two steps
    steps:
      - request: ${ping}
        expect: { effect: allow }
      - request: { tool: boom }
        expect: { effect: require_approval }
`);
    expect(result).toMatchObject({ passed: false, steps: 2, calls: 2, last: { step: 2, repetition: 1 } });
  });

  it('counts passes and failures per suite', async () => {
    const [result] = await runSuites(bundle, [
      parseSuite('s.yaml', `${header}  - name: pass\n    request: ${ping}\n    expect: { effect: allow }\n  - name: fail\n    request: ${ping}\n    expect: { effect: block }\n`),
    ]);
    expect(result).toMatchObject({ suite: 's', file: 's.yaml', passed: 1, failed: 1 });
  });

  it('throws PolicyLoadError for a bundle that does not compile', async () => {
    const broken = parseBundle([{ file: 'b.yaml', text: 'policy: b\nappliesTo: { roles: [r] }\ntools: {}\nrules:\n  - { id: x, tool: missing, effect: allow }\n' }]);
    await expect(runSuites(broken, [parseSuite('s.yaml', `${header}  - name: c\n    request: ${ping}\n    expect: { effect: allow }\n`)])).rejects.toSatisfy(
      PolicyLoadError.isInstance,
    );
  });
});

describe('suite files are validated with file, line and path', () => {
  it.each<[string, string, Partial<SuiteError>]>([
    ['YAML syntax', `${header}  - name: [\n`, { code: 'yaml_syntax', line: 5 }],
    ['unknown key in expect', `${header}  - name: c\n    request: ${ping}\n    expect: { effect: allow, rul: x }\n`, { code: 'invalid_suite', line: 6, path: 'cases[0].expect' }],
    ['bad effect', `${header}  - name: c\n    request: ${ping}\n    expect: { effect: permit }\n`, { code: 'invalid_suite', line: 6, path: 'cases[0].expect.effect' }],
    ['unknown error code', `${header}  - name: c\n    request: ${ping}\n    expect: { effect: block, code: oops }\n`, { code: 'invalid_suite', path: 'cases[0].expect.code' }],
    ['unknown key in request', `${header}  - name: c\n    request: { tool: ping, at: 2026-11-23T10:00:00Z }\n    expect: { effect: allow }\n`, { code: 'invalid_suite', line: 5, path: 'cases[0].request' }],
    ['steps and request together', `${header}  - name: c\n    request: ${ping}\n    expect: { effect: allow }\n    steps: [{ request: ${ping}, expect: { effect: allow } }]\n`, { code: 'invalid_suite', path: 'cases[0].request' }],
    ['neither request nor steps', `${header}  - name: c\n`, { code: 'invalid_suite', path: 'cases[0].request' }],
    ['every without at', `${header}  - name: c\n    request: ${ping}\n    repeat: 2\n    every: 1m\n    expect: { effect: allow }\n`, { code: 'invalid_suite', line: 7, path: 'cases[0].every' }],
    ['bad duration', `${header}  - name: c\n    steps:\n      - request: ${ping}\n        at: 2026-11-23T10:00:00Z\n        every: 1 minute\n        expect: { effect: allow }\n`, { code: 'invalid_suite', line: 8, path: 'cases[0].steps[0].every' }],
    ['bad at', `${header}  - name: c\n    request: ${ping}\n    at: tomorrow\n    expect: { effect: allow }\n`, { code: 'invalid_suite', line: 6, path: 'cases[0].at' }],
    ['zero repeat', `${header}  - name: c\n    request: ${ping}\n    repeat: 0\n    expect: { effect: allow }\n`, { code: 'invalid_suite', path: 'cases[0].repeat' }],
    ['no agent anywhere', `suite: s\ncases:\n  - name: c\n    request: { role: r, tool: ping }\n    expect: { effect: allow }\n`, { code: 'invalid_suite', line: 4, path: 'cases[0].request' }],
    ['duplicate case name', `${header}  - name: c\n    request: ${ping}\n    expect: { effect: allow }\n  - name: c\n    request: ${ping}\n    expect: { effect: allow }\n`, { code: 'invalid_suite', line: 7, path: 'cases[1].name' }],
    ['no cases', 'suite: s\ncases: []\n', { code: 'invalid_suite', path: 'cases' }],
    ['unknown top-level key', `${header}  - name: c\n    request: ${ping}\n    expect: { effect: allow }\nfixtures: {}\n`, { code: 'invalid_suite', path: '' }],
  ])('%s', (_name, text, expected) => {
    const errors = suiteErrors(text);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({ file: 'bad.yaml', ...expected });
  });

  it('accepts the inline form and the steps form', () => {
    const loaded = parseSuite('ok.yaml', `${header}  - name: inline\n    request: ${ping}\n    expect: { effect: allow }\n  - name: steps\n    steps: [{ request: ${ping}, expect: { effect: allow } }]\n`);
    expect(loaded.suite.cases.map((c) => c.name)).toEqual(['inline', 'steps']);
  });
});

describe('suite directories', () => {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-suites-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads every YAML file in a directory, in name order, and reports every bad file', () => {
    const tests = join(dir, 'tests');
    mkdirSync(tests);
    const suite = (name: string): string => `suite: ${name}\ndefaults: { agent: a, role: r }\ncases:\n  - name: c\n    request: ${ping}\n    expect: { effect: allow }\n`;
    writeFileSync(join(tests, 'b.yaml'), suite('b'));
    writeFileSync(join(tests, 'a.yml'), `${suite('a')}bundle: ../policies\n`);
    writeFileSync(join(tests, 'notes.txt'), 'not a suite');
    const loaded = loadSuites(tests);
    expect(loaded.map((s) => s.suite.suite)).toEqual(['a', 'b']);
    expect(loaded.map(suiteBundlePath)).toEqual([join(dir, 'policies'), dir]);

    writeFileSync(join(tests, 'c.yaml'), 'suite: c\ncases: {}\n');
    writeFileSync(join(tests, 'd.yaml'), 'suite: [\n');
    expect(() => loadSuites(tests)).toThrow(SuiteLoadError);
    try {
      loadSuites(tests);
    } catch (error) {
      expect((error as SuiteLoadError).errors.map((e) => [e.file, e.code])).toEqual([
        [join(tests, 'c.yaml'), 'invalid_suite'],
        [join(tests, 'd.yaml'), 'yaml_syntax'],
      ]);
    }
  });

  it('fails for a directory without suites and for a missing path', () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    expect(() => loadSuites(empty)).toThrow(/no_suites/);
    expect(() => loadSuites(join(dir, 'missing'))).toThrow(/io_error/);
  });
});
