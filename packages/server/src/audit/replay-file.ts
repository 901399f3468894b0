import { Replay, type PolicyBundle, type ReplayReport } from '@airlock/core';
import { recordedCall } from '../services/simulation.js';
import type { AuditRow } from '../store/schema.js';
import { openConnection } from '../store/sqlite/connection.js';

export interface ReplayFileOptions {
  /** Only decisions recorded at or after this time (epoch ms). */
  sinceMs?: number;
  examplesPerFlip?: number;
}

export interface ReplayFileReport extends ReplayReport {
  /** Time of the oldest and newest replayed call (ISO), null when there were none. */
  from: string | null;
  to: string | null;
}

/**
 * Backtest: re-decides every decision recorded in a server database (opened read-only, safe while
 * the server runs) against a candidate bundle, in audit order, with the candidate's own fresh limit
 * state (`Replay`). Rows are streamed from one statement, so memory stays flat however long the
 * history; this reads the file directly rather than through the Store's paged queries, which cost
 * more than the decisions themselves here.
 */
export async function replayAuditFile(file: string, candidate: PolicyBundle, options: ReplayFileOptions = {}): Promise<ReplayFileReport> {
  const sqlite = openConnection(file, { readonly: true });
  try {
    const replay = new Replay(candidate, { version: 'candidate', ...(options.examplesPerFlip === undefined ? {} : { examplesPerFlip: options.examplesPerFlip }) });
    const statement = sqlite.prepare<[number], AuditRow>("SELECT * FROM audit WHERE type = 'decision' AND at >= ? ORDER BY seq");
    let first: number | undefined;
    let last: number | undefined;
    for (const row of statement.iterate(options.sinceMs ?? Number.MIN_SAFE_INTEGER)) {
      replay.add(recordedCall(row));
      first ??= Number(row.at);
      last = Number(row.at);
    }
    return {
      ...replay.report(),
      from: first === undefined ? null : new Date(first).toISOString(),
      to: last === undefined ? null : new Date(last).toISOString(),
    };
  } finally {
    sqlite.close();
  }
}
