import type { Measured } from './contenders.js';

export interface Row {
  id: string;
  label: string;
  /** One measurement per round that succeeded. */
  rounds: Measured[];
  /** Processes that crashed or failed. */
  failures: number;
}

export interface RunInfo {
  date: string;
  machine: string;
  engine: string;
  seconds: number;
  /** The 1-minute load average when the run started and ended, with the core count. */
  load: string;
}

interface Summary {
  opsPerSec: number;
  minOpsPerSec: number;
  maxOpsPerSec: number;
  p50Us: number;
  p99Us: number;
  timerOverheadNs: number;
  /** 90th percentile of every timed batch's decisions/s, over all rounds. */
  fastBatchOpsPerSec: number;
}

const TARGETS = { handWritten: 3, cedar: 10, ruleCount: 2 } as const;

/** Medians over the rounds. */
function summarise(rounds: readonly Measured[]): Summary | undefined {
  if (rounds.length === 0) return undefined;
  const ops = rounds.map((r) => r.opsPerSec);
  return {
    opsPerSec: median(ops),
    minOpsPerSec: Math.min(...ops),
    maxOpsPerSec: Math.max(...ops),
    p50Us: median(rounds.map((r) => r.p50Us)),
    p99Us: median(rounds.map((r) => r.p99Us)),
    timerOverheadNs: median(rounds.map((r) => r.timerOverheadNs)),
    fastBatchOpsPerSec: percentile(rounds.flatMap((r) => r.batchOpsPerSec), 0.9),
  };
}

/** The table, the outcome mixes and the target lines, as printed by `npm run bench:engine`. */
export function formatReport(rows: readonly Row[], info: RunInfo): string {
  const summaries = new Map(rows.map((row) => [row.id, summarise(row.rounds)]));
  const handWritten = summaries.get('hand-written');
  const engine = summaries.get('engine-sync');
  const cedar = summaries.get('cedar');
  const fewRules = summaries.get('rules-5');
  const manyRules = summaries.get('rules-1000');

  const header = ['contender', 'decisions/s', 'rounds min-max', 'p50 µs', 'p99 µs', '× hand-written'];
  const body = rows.map((row) => {
    const s = summaries.get(row.id);
    if (!s) return [row.label, `failed ${row.failures}×`, '', '', '', ''];
    return [
      row.label,
      integer(s.opsPerSec),
      `${compact(s.minOpsPerSec)}-${compact(s.maxOpsPerSec)}`,
      micros(s.p50Us),
      micros(s.p99Us),
      handWritten ? `${(handWritten.opsPerSec / s.opsPerSec).toFixed(2)}×` : 'n/a',
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((cells) => (cells[c] ?? '').length)));
  const line = (cells: string[]): string =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ');
  const rounds = Math.max(...rows.map((row) => row.rounds.length));

  const out = [
    `Airlock engine benchmark, ${info.date}`,
    `machine: ${info.machine}`,
    `engine:  ${info.engine}`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    '',
    `Each contender ran in a fresh process, once per round, ${rounds} interleaved rounds; figures are medians over the rounds.`,
    'decisions/s: median of timed batches of 10,000 calls. p50/p99: individually timed calls minus the median',
    `cost of an empty timed call (${engine ? engine.timerOverheadNs.toFixed(0) : '?'} ns here). × hand-written: time per decision relative to it.`,
    '',
    'outcomes of the individually timed calls (last round):',
  ];
  for (const row of rows) {
    const last = row.rounds[row.rounds.length - 1];
    if (last) {
      out.push(`  ${row.label}: ${mix(last.outcomes)}`);
      for (const note of last.notes) out.push(`    ${note}`);
    }
    if (row.failures > 0) out.push(`  ${row.label}: ${row.failures} process(es) crashed or failed and were retried`);
  }
  out.push(
    '',
    target(
      `engine ≤ ${TARGETS.handWritten}× hand-written`,
      handWritten && engine && handWritten.opsPerSec / engine.opsPerSec,
      (r) => r <= TARGETS.handWritten,
      2,
    ),
    target(`≥ ${TARGETS.cedar}× faster than cedar-wasm`, engine && cedar && engine.opsPerSec / cedar.opsPerSec, (r) => r >= TARGETS.cedar, 0),
    target(
      `1,000 rules ≤ ${TARGETS.ruleCount}× 5 rules`,
      fewRules && manyRules && fewRules.opsPerSec / manyRules.opsPerSec,
      (r) => r <= TARGETS.ruleCount,
      2,
    ),
    '',
    // Other processes slow a contender's batches at random; its fastest batches are the ones they
    // touched least. Not a target: the targets are the medians above.
    `for reference, fastest decile of batches (90th percentile over all rounds): engine ${
      handWritten && engine ? `${(handWritten.fastBatchOpsPerSec / engine.fastBatchOpsPerSec).toFixed(2)}×` : 'n/a'
    } hand-written (${handWritten ? compact(handWritten.fastBatchOpsPerSec) : '?'} vs ${engine ? compact(engine.fastBatchOpsPerSec) : '?'} decisions/s)`,
    `per round, in run order (decisions/s): hand-written ${roundsOf(rows, 'hand-written')}; engine ${roundsOf(rows, 'engine-sync')}`,
    `load average (1 min): ${info.load}`,
    `whole run: ${info.seconds.toFixed(0)} s`,
  );
  return out.join('\n');
}

/** A contender's decisions/s in each round that succeeded, in run order. */
function roundsOf(rows: readonly Row[], id: string): string {
  const rounds = rows.find((row) => row.id === id)?.rounds ?? [];
  return rounds.length > 0 ? rounds.map((r) => compact(r.opsPerSec)).join(', ') : 'n/a';
}

function target(name: string, ratio: number | undefined, pass: (ratio: number) => boolean, digits: number): string {
  if (ratio === undefined) return `target: ${name}: n/a (a contender failed) FAIL`;
  return `target: ${name}: ${ratio.toFixed(digits)}× ${pass(ratio) ? 'PASS' : 'FAIL'}`;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function integer(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** 3.2M, 12.6k */
function compact(value: number): string {
  return value >= 1e6 ? `${(value / 1e6).toFixed(1)}M` : `${(value / 1e3).toFixed(1)}k`;
}

function micros(value: number): string {
  return value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0);
}

function mix(outcomes: Record<string, number>): string {
  const total = Object.values(outcomes).reduce((a, b) => a + b, 0);
  return Object.entries(outcomes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([outcome, count]) => `${outcome} ${((100 * count) / total).toFixed(1)}%`)
    .join(' · ');
}
