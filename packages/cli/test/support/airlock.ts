import { spawn } from 'node:child_process';

/** The built CLI (`npm test` builds first), run as a user runs it. */
export const BIN = 'packages/cli/bin/airlock.js';

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `airlock <args>` in a child process and collects its exit status and output. */
export function airlock(...args: string[]): Promise<Result> {
  const child = spawn(process.execPath, [BIN, ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
