import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LONG, recordSummary } from './support.js';

const CASES = LONG ? 50_000 : 1_500; // per policy: 100,000 calls in all in the long run

function runDifferential(cases: number, seed: number): Promise<{ cases: number; mismatchCount: number; mismatches: unknown[] }> {
  const runner = fileURLToPath(new URL('./differential-runner.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    // cedar-wasm trips a V8 deoptimizer bug on Node 20 unless inlining is off (see ENVIRONMENT.md).
    const child = spawn(process.execPath, ['--no-turbo-inlining', '--import', 'tsx', runner, String(cases), String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as never) : reject(new Error(`runner exited ${String(code)}: ${err}`))));
  });
}

describe('differential check against cedar-wasm', () => {
  it('the engine and the same thresholds in Cedar agree on every random refund and payment', async () => {
    const seed = Number(process.env.AIRLOCK_RELIABILITY_SEED ?? Date.now() % 1_000_000);
    let result: Awaited<ReturnType<typeof runDifferential>> | undefined;
    // A crash of the wasm runtime (not a disagreement) is retried, as the engine bench does.
    for (let attempt = 0; attempt < 3 && !result; attempt++) {
      try {
        result = await runDifferential(CASES, seed);
      } catch (error) {
        if (attempt === 2) throw error;
      }
    }
    expect(result?.mismatches, `seed ${seed}`).toEqual([]);
    expect(result?.cases).toBe(CASES * 2);
    recordSummary({ suite: 'differential (cedar-wasm)', rounds: 1, cases: result?.cases ?? 0, faults: 0, lost: result?.mismatchCount ?? 0, notes: `seed ${seed}; refund and payment thresholds, 4-decimal amounts dense at the boundaries` });
  }, 600_000);
});
