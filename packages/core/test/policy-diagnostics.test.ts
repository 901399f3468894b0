import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compile, parseBundle, PolicyLoadError, type LoadError } from '../src/index.js';

/** Loads and compiles one file; returns its load errors (empty when it compiled). */
function errorsOf(text: string, file = 'policy.yaml'): LoadError[] {
  try {
    compile(parseBundle([{ file, text }]));
    return [];
  } catch (error) {
    if (PolicyLoadError.isInstance(error)) return [...error.errors];
    throw error;
  }
}

const seed = readFileSync(new URL('../../server/seed-policies/customer-support.yaml', import.meta.url), 'utf8');
const lines = seed.split('\n');
/** The 1-based line of the first line containing `text`. */
const lineOf = (text: string): number => lines.findIndex((l) => l.includes(text)) + 1;
/** `text` with line `line` (1-based) replaced. */
const withLine = (line: number, replacement: string): string => [...lines.slice(0, line - 1), replacement, ...lines.slice(line)].join('\n');
/** The character at a diagnostic's line and column. */
const at = (text: string, e: LoadError): string => (text.split('\n')[(e.line as number) - 1] as string).slice((e.column as number) - 1);

describe('YAML diagnostics: one problem for one broken line, where it was broken', () => {
  it('a missing colon gives one problem at that line, in plain words with the parser text as detail', () => {
    const line = lineOf('default: block');
    const errors = errorsOf(withLine(line, 'default block'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'yaml_syntax', line, column: 1, detail: 'Implicit keys need to be on a single line' });
    expect(errors[0]?.message).toMatch(/colon and a space/);
  });

  it('a value with a stray colon gives one problem at that line', () => {
    const line = lineOf('when: args.amount <= 50');
    const errors = errorsOf(seed.replace('when: args.amount <= 50', 'when: args.amount: <= 50'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'yaml_syntax', line });
  });

  it('a tab as indentation gives one problem at that line (the parser gave more than twenty)', () => {
    const line = lineOf('    tool: create_ticket');
    const errors = errorsOf(withLine(line, '\ttool: create_ticket'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'yaml_syntax', line, column: 1 });
    expect(errors[0]?.message).toMatch(/tabs/);
  });

  it('an unclosed quote is reported at its opening quote, not at the end of the file', () => {
    const line = lineOf('when: args.amount <= 50');
    const text = withLine(line, '    when: "args.amount <= 50');
    const errors = errorsOf(text);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'yaml_syntax', line, column: 11 });
    expect(at(text, errors[0] as LoadError)).toBe('"args.amount <= 50');
  });

  it('an unclosed bracket is reported at the bracket, not on the next line', () => {
    const line = lineOf('roles: [support]');
    const text = withLine(line, '  roles: [support');
    const errors = errorsOf(text);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'yaml_syntax', line });
    expect(at(text, errors[0] as LoadError)).toBe('[support');
  });

  it('a line indented one space too far is reported at that line', () => {
    const line = lineOf('    description: Open a support ticket on an account.');
    const errors = errorsOf(withLine(line, '     description: Open a support ticket on an account.'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'yaml_syntax', line, column: 6 });
  });

  it('a key written twice in one mapping is one problem at its second occurrence (the dashboard editor case)', () => {
    // A second `tools:` after the rules, as an editor leaves behind when a paste missed part of the text.
    const text = `${seed}\ntools:\n  get_account: {}\n`;
    const errors = errorsOf(text);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'yaml_syntax', line: lines.length + 1, column: 1, message: 'this key appears twice in the same mapping: keep one', detail: 'Map keys must be unique' });
    // Nested mappings too, at the repeated key.
    const nested = seed.replace('    description: Read one customer account.\n', '    description: Read one customer account.\n    description: again\n');
    expect(errorsOf(nested)[0]).toMatchObject({ code: 'yaml_syntax', line: lineOf('description: Read one customer account.') + 1, column: 5 });
  });

  it('bounds what a file can make the parser do: 60,000 keys are read in linear time, 400,000 nested brackets are refused unread (a hang bound, not a speed target)', () => {
    // Each key was compared with every earlier one: 60,000 keys held the event loop for a minute.
    const keys = `${seed}\n${Array.from({ length: 60_000 }, (_, i) => `k${i}: v`).join('\n')}\n`;
    const unknown = errorsOf(keys);
    expect(unknown[0]).toMatchObject({ code: 'invalid_policy' });
    const deep = `${seed}\nx: ${'['.repeat(400_000)}${']'.repeat(400_000)}\n`;
    const refused = errorsOf(deep);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ code: 'yaml_syntax', line: lines.length + 1, column: 4 + 64 });
    expect(refused[0]?.message).toContain('nested more than 64 deep');
    // 64 levels are still read.
    expect(errorsOf(`${seed}\nx: ${'['.repeat(64)}${']'.repeat(64)}\n`)[0]).toMatchObject({ code: 'invalid_policy' });
  });
});

describe('CEL diagnostics: line and column of the character in the file, plain words', () => {
  it('a number compared with a quoted number: plain message, the checker text as detail, the column of the string', () => {
    const line = lineOf('when: args.amount <= 50');
    const text = seed.replace('when: args.amount <= 50', 'when: args.amount > "50"');
    const errors = errorsOf(text);
    expect(errors).toHaveLength(1);
    const [error] = errors as [LoadError];
    expect(error).toMatchObject({ code: 'cel_type', line, column: 25, path: 'rules[2].when', detail: 'no such overload: double > string' });
    expect(error.message).toContain('args.amount is a number but is compared with a string "50"; write 50 without quotes');
    expect(at(text, error)).toBe('"50"');
  });

  it('maps the offset through quotes and block scalars', () => {
    const quoted = seed.replace('when: args.amount <= 50', `when: 'args.amount <= 50 && args.currency == 3'`);
    const [inQuotes] = errorsOf(quoted) as [LoadError];
    expect(inQuotes).toMatchObject({ code: 'cel_type', line: lineOf('when: args.amount <= 50') });
    expect(at(quoted, inQuotes)).toBe("3'");

    const block = seed.replace('when: args.amount <= 50', 'when: >-\n      args.amount <= 50 &&\n        args.currency > 3');
    const [folded] = errorsOf(block) as [LoadError];
    expect(folded).toMatchObject({ code: 'cel_type', line: lineOf('when: args.amount <= 50') + 2, column: 25 });
    expect(at(block, folded)).toBe('3');
    expect(folded.message).toContain('args.currency is a string but is compared with 3, a whole number');
  });

  it('an unknown argument names the declared ones, at the field', () => {
    const text = seed.replace('when: args.amount <= 50', 'when: args.amont <= 50');
    const [error] = errorsOf(text) as [LoadError];
    expect(error).toMatchObject({ code: 'cel_type', detail: 'No such key: amont' });
    expect(error.message).toContain("tool 'issue_refund' has no argument 'amont': it declares account_id, amount, currency");
    expect(at(text, error)).toBe('amont <= 50');
  });

  it('a syntax error has the column where the expression breaks', () => {
    const text = seed.replace('when: args.amount <= 50', 'when: args.amount <=');
    const [error] = errorsOf(text) as [LoadError];
    expect(error).toMatchObject({ code: 'cel_syntax', line: lineOf('when: args.amount <= 50'), column: 25, detail: 'Unexpected token: EOF' });
  });

  it('mixing whole numbers and decimals in arithmetic says how to write it', () => {
    const text = seed.replace('when: args.amount <= 50', 'when: args.amount + 1 <= 50.0');
    const [error] = errorsOf(text) as [LoadError];
    expect(error).toMatchObject({ code: 'cel_type', detail: 'no such overload: double + int' });
    expect(error.message).toMatch(/does not mix whole numbers and decimals/);
    expect(at(text, error)).toBe('1 <= 50.0');
  });
});
