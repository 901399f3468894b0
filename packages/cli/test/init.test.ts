import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { parseAllDocuments, parseDocument } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBundle, parseSuite, runSuites } from '@airlock/core';
import { initCommand } from '../src/commands/init.js';
import { STARTER_POLICY, STARTER_SUITE } from '../src/scaffold/starter-policy.js';

// The ajv core validates with (the workspace root holds an older major, from other tools).
type Validate = ((value: unknown) => boolean) & { errors?: unknown };
const fromCore = createRequire(resolve('packages/core/package.json'));
const Ajv = fromCore('ajv') as new (options: { allErrors: boolean; strict: boolean }) => { compile(schema: object): Validate };
const addFormats = fromCore('ajv-formats') as (ajv: unknown) => void;

// The contract is `npx airlock init && npx airlock policy test` in a project of the user's own:
// run the built binary from a temporary directory outside the repository.
const BIN = resolve('packages/cli/bin/airlock.js');
const root = mkdtempSync(join(tmpdir(), 'airlock-init-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function project(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  return dir;
}

function airlock(cwd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const SCAFFOLD = [
  '.gitignore',
  'README.md',
  'policies/my-agent.yaml',
  'policies/tests/my-agent.yaml',
  'schemas/policy-test.schema.json',
  'schemas/policy.schema.json',
];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1).replaceAll('\\', '/'))
    .sort();
}

// Up to three CLI processes per test, on a machine other test files keep busy.
describe('npx airlock init && npx airlock policy test', { timeout: 120_000 }, () => {
  it('scaffolds ./airlock, whose suite passes and whose policy checks clean, with no arguments', () => {
    const cwd = project('defaults');
    const init = airlock(cwd, ['init']);
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
    expect(filesUnder(join(cwd, 'airlock'))).toEqual(SCAFFOLD);
    for (const file of SCAFFOLD) expect(init.stdout).toContain(`created airlock/${file}`);
    expect(init.stdout).toContain('npx airlock policy test airlock/policies/tests');
    expect(readFileSync(join(cwd, 'airlock/.gitignore'), 'utf8')).toMatch(/^data\/$/m);

    const test = airlock(cwd, ['policy', 'test']);
    expect(test.stderr).toBe('');
    expect(test.stdout).toMatch(/^PASS {2}my-agent {2}\(airlock\/policies\/tests\/my-agent\.yaml, 10 cases\)\n10 passed, 0 failed\n$/);
    expect(test.status).toBe(0);

    const check = airlock(cwd, ['policy', 'check', '--fail-on', 'info']);
    expect(check.stdout).toBe('0 errors, 0 warnings, 0 info\n');
    expect(check.status).toBe(0);
  });

  it('scaffolds a named folder, and its README names that folder in every command', () => {
    const cwd = project('named');
    expect(airlock(cwd, ['init', 'governance/']).status).toBe(0);
    expect(filesUnder(join(cwd, 'governance'))).toEqual(SCAFFOLD);
    const readme = readFileSync(join(cwd, 'governance/README.md'), 'utf8');
    expect(readme).toContain('npx airlock policy test governance/policies/tests');
    expect(readme).toContain("policy: 'governance/policies'");
    expect(readme).not.toContain('airlock/policies');
    expect(airlock(cwd, ['policy', 'test', 'governance/policies/tests']).status).toBe(0);
    expect(airlock(cwd, ['policy', 'check', 'governance/policies']).status).toBe(0);
  });

  it('refuses to overwrite a file unless --force, and writes nothing when it refuses', () => {
    const cwd = project('again');
    expect(airlock(cwd, ['init']).status).toBe(0);
    const policy = join(cwd, 'airlock/policies/my-agent.yaml');
    writeFileSync(policy, 'my own policy\n');
    rmSync(join(cwd, 'airlock/README.md'));

    const again = airlock(cwd, ['init']);
    expect(again.status).toBe(1);
    expect(again.stderr).toBe('airlock: airlock already has .gitignore, policies/my-agent.yaml, policies/tests/my-agent.yaml; nothing written (--force overwrites them)\n');
    expect(again.stdout).toBe('');
    expect(readFileSync(policy, 'utf8')).toBe('my own policy\n');
    expect(existsSync(join(cwd, 'airlock/README.md'))).toBe(false);

    const forced = airlock(cwd, ['init', '--force']);
    expect(forced.status).toBe(0);
    expect(readFileSync(policy, 'utf8')).toBe(STARTER_POLICY);
    expect(filesUnder(join(cwd, 'airlock'))).toEqual(SCAFFOLD);
  });

  it('--schemas rewrites only the JSON Schemas, whatever else the folder holds', () => {
    const cwd = project('schemas');
    expect(airlock(cwd, ['init']).status).toBe(0);
    const schema = join(cwd, 'airlock/schemas/policy.schema.json');
    const policy = join(cwd, 'airlock/policies/my-agent.yaml');
    writeFileSync(schema, '{}\n');
    writeFileSync(policy, 'my own policy\n');
    const run = airlock(cwd, ['init', '--schemas']);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('  created airlock/schemas/policy.schema.json\n  created airlock/schemas/policy-test.schema.json\n');
    expect(readFileSync(schema, 'utf8')).toBe(readFileSync('docs/schemas/policy.schema.json', 'utf8'));
    expect(readFileSync(policy, 'utf8')).toBe('my own policy\n');
  });

  it('without a scaffold, policy test and policy check say which folder they looked for', () => {
    const cwd = project('empty');
    const test = airlock(cwd, ['policy', 'test']);
    expect(test.status).toBe(2);
    expect(test.stderr).toBe('airlock: no airlock/policies/tests here: name a directory, or create one with airlock init\n');
    const check = airlock(cwd, ['policy', 'check']);
    expect(check.status).toBe(2);
    expect(check.stderr).toBe('airlock: no airlock/policies here: name a directory, or create one with airlock init\n');
  });
});

describe('the scaffold in an editor', () => {
  const cwd = project('editor');
  const run = airlock(cwd, ['init']);
  const folder = join(cwd, 'airlock');

  it('ships the checked-in JSON Schemas (docs/schemas)', () => {
    expect(run.status).toBe(0);
    for (const file of ['policy.schema.json', 'policy-test.schema.json']) {
      expect(readFileSync(join(folder, 'schemas', file), 'utf8')).toBe(readFileSync(join('docs/schemas', file), 'utf8'));
    }
  });

  for (const [file, schema] of [
    ['policies/my-agent.yaml', 'policy.schema.json'],
    ['policies/tests/my-agent.yaml', 'policy-test.schema.json'],
  ] as const) {
    it(`${file} names ${schema} by a relative path that resolves, and is valid against it`, () => {
      const path = join(folder, file);
      const text = readFileSync(path, 'utf8');
      const modeline = /^# yaml-language-server: \$schema=(\S+)\n/.exec(text)?.[1];
      // The YAML language server resolves a relative $schema from the file's directory.
      const schemaPath = resolve(dirname(path), modeline ?? '');
      expect(schemaPath).toBe(join(folder, 'schemas', schema));
      const ajv = new Ajv({ allErrors: true, strict: true });
      addFormats(ajv);
      const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, 'utf8')) as Record<string, unknown>);
      for (const doc of parseAllDocuments(text)) {
        expect(validate(doc.toJS()), JSON.stringify(validate.errors)).toBe(true);
      }
    });
  }
});

describe('the starter suite', () => {
  /** The suite's result against the starter policy with one rule or limit taken out. */
  async function failuresWithout(list: 'rules' | 'limits', id: string): Promise<number> {
    const doc = parseDocument(STARTER_POLICY);
    const items = (doc.toJS() as Record<string, { id: string }[]>)[list] ?? [];
    const index = items.findIndex((item) => item.id === id);
    expect(index).toBeGreaterThanOrEqual(0);
    doc.deleteIn([list, index]);
    const [result] = await runSuites(parseBundle([{ file: 'my-agent.yaml', text: doc.toString() }]), [parseSuite('my-agent.yaml', STARTER_SUITE)]);
    return result?.failed ?? 0;
  }

  it('passes on the starter policy', async () => {
    const [result] = await runSuites(parseBundle([{ file: 'my-agent.yaml', text: STARTER_POLICY }]), [parseSuite('my-agent.yaml', STARTER_SUITE)]);
    expect(result?.failed).toBe(0);
    expect(result?.passed).toBe(10);
  });

  const policy = parseDocument(STARTER_POLICY).toJS() as { rules: { id: string }[]; limits: { id: string }[] };
  for (const list of ['rules', 'limits'] as const) {
    for (const { id } of policy[list]) {
      it(`fails when ${list === 'rules' ? 'rule' : 'limit'} ${id} is deleted`, async () => {
        expect(await failuresWithout(list, id)).toBeGreaterThan(0);
      });
    }
  }
});

describe('airlock init racing itself', () => {
  const sink = (): Writable =>
    new Writable({
      write(_chunk, _encoding, done) {
        done();
      },
    });

  it('alone and with 100 concurrent copies into one folder: one writes the scaffold, the others refuse', async () => {
    for (const copies of [1, 100]) {
      const dir = join(root, `race-${copies}`);
      const codes = await Promise.all(Array.from({ length: copies }, () => initCommand(dir, {}, { stdout: sink(), stderr: sink() })));
      expect(codes.filter((code) => code === 0)).toHaveLength(1);
      expect(codes.filter((code) => code === 1)).toHaveLength(copies - 1);
      expect(filesUnder(dir)).toEqual(SCAFFOLD);
      expect(readFileSync(join(dir, 'policies/my-agent.yaml'), 'utf8')).toBe(STARTER_POLICY);
    }
  });
});
