import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Long runs (`npm run test:reliability`) vs the short versions inside `npm test`. */
export const LONG = process.env.AIRLOCK_RELIABILITY === 'long';

export const OUTPUT_DIR = join(process.cwd(), 'test-output', 'reliability');

/** One line of the reliability summary table, written by each suite and printed by summary.ts. */
export interface SummaryRow {
  suite: string;
  rounds: number;
  cases: number;
  faults: number;
  lost: number;
  notes: string;
}

export function recordSummary(row: SummaryRow): void {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  writeFileSync(join(OUTPUT_DIR, `${row.suite.replace(/\W+/g, '-')}.json`), `${JSON.stringify(row, null, 2)}\n`);
}

/** A loopback port that was free a moment ago (the server restarts on the same one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
