import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { compile, jsonTextProblem, loadBundle, MAX_ARGS_BYTES, MAX_JSON_DEPTH, parseDecisionRequest, type Decision, type Engine } from '@airlock/core';

/**
 * `airlock eval`: one decision request per input line → one decision per output line, in order.
 * Limits keep their state across the lines of a run; each line's `at` is its clock.
 */

export interface EvalOptions {
  policy: string;
  input?: string;
}

/** Output for a line that is not a request: the contract shape, with the line number for humans. */
interface LineFailure {
  effect: 'block';
  rule: null;
  reason: string;
  error: { code: 'invalid_request' | 'request_too_large'; message: string; line: number };
}

export async function evalCommand(options: EvalOptions, io: { stdin: Readable; stdout: Writable }): Promise<number> {
  // An invalid policy throws PolicyLoadError; the CLI entry point prints it with file and line.
  const engine = compile(loadBundle(options.policy));
  const input = options.input ? createReadStream(options.input, 'utf8') : io.stdin;
  const lines = createInterface({ input, crlfDelay: Infinity });
  let number = 0;
  for await (const line of lines) {
    number++;
    if (line.trim() === '') continue;
    const answer = await evaluateLine(engine, line, number);
    if (!io.stdout.write(`${JSON.stringify(answer)}\n`)) {
      await new Promise<void>((resolve) => io.stdout.once('drain', () => resolve()));
    }
  }
  return 0;
}

export async function evaluateLine(engine: Engine, line: string, number: number): Promise<Decision | LineFailure> {
  if (Buffer.byteLength(line, 'utf8') > MAX_ARGS_BYTES + 64 * 1024) {
    return failure('request_too_large', `line ${number}: request exceeds ${MAX_ARGS_BYTES} bytes`, number);
  }
  // Before the parse: nothing nested deeper than any request may be reaches a recursive walk, and
  // a key named twice is refused (the decision would read one value, a tool's parser maybe the other).
  const problem = jsonTextProblem(line, MAX_JSON_DEPTH);
  if (problem) return failure(problem.code === 'duplicate_key' || problem.code === 'invalid_text' ? 'invalid_request' : 'request_too_large', `line ${number}: ${problem.message}`, number);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return failure('invalid_request', `line ${number}: not JSON: ${(error as Error).message}`, number);
  }
  const parsed = parseDecisionRequest(value);
  if ('error' in parsed) return failure('invalid_request', `line ${number}: ${parsed.error.message}`, number);
  return engine.decide(parsed.request);
}

function failure(code: LineFailure['error']['code'], message: string, line: number): LineFailure {
  return { effect: 'block', rule: null, reason: message, error: { code, message, line } };
}
