/**
 * Insights bench: the dashboard's counts over a large SQLite trail, read through the store (whole
 * minutes from `decision_counts`, migration 019) against the statements the store ran before
 * that migration (every decision record of the range counted), on the same file in the same run.
 *
 *   npm run bench:insights                       (1,000,000 decisions over 24 hours)
 *   BENCH_RECORDS=200000 BENCH_HOURS=24 npm run bench:insights
 *
 * The trail is built in the store's own format (the server's migrations, records sealed onto one
 * chain by `sealBatch`, count rows from `decisionCountRows`: what the writer thread writes) in
 * large transactions. Then the migration is timed on it (its counts dropped and rebuilt from the
 * records), and each read kind is timed BENCH_RUNS times, the two ways alternating: the store's
 * read goes through its reader thread as the server's does; the old statement runs on a direct
 * read-only connection (no thread hop: the baseline is favoured). Both answers are compared.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Sqlite from 'better-sqlite3';
import { decisionCountRows } from '../../packages/server/src/audit/decision-counts.js';
import { GENESIS_HASH, sealBatch, type PreparedEntry } from '../../packages/server/src/audit/record.js';
import { openSqliteStore } from '../../packages/server/src/store/sqlite/sqlite-store.js';
import type { Store, TimeRange } from '../../packages/server/src/store/store.js';
import { median } from '../stats.js';
import { mulberry32 as prng } from '../engine/prng.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const HOURS = Number(process.env.BENCH_HOURS ?? 24);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const AGENTS = 8;

const random = prng(31);
const START = Date.UTC(2026, 0, 1);
const STEP = (HOURS * HOUR) / RECORDS;
const END = START + HOURS * HOUR;

/** One decision: support refunds, account reads, finance payments; 80 % allow, 10 % approval, 10 % block. */
function entry(i: number): PreparedEntry {
  const agent = `gen-${Math.floor(random() * AGENTS)}`;
  const pick = random();
  const tool = pick < 0.55 ? 'issue_refund' : pick < 0.8 ? 'get_account' : 'make_payment';
  const roll = random();
  const effect = roll < 0.8 ? 'allow' : roll < 0.9 ? 'require_approval' : 'block';
  const limited = effect === 'block' && random() < 0.3;
  const rule = limited ? 'daily-budget' : `${tool}-${effect}`;
  const decision = { decidedBy: limited ? 'limit' : 'rule', effect, reason: 'generated', rule };
  const data = JSON.stringify({ decision, id: `dec_${i}`, request: { args: { amount: Math.round(random() * 1000) }, tool } });
  return {
    record: { type: 'decision', at: Math.floor(START + i * STEP), actor: `agent:${agent}`, agent, tool, effect, rule, data, decidedBy: decision.decidedBy, code: '' },
    writes: [],
  };
}

interface Kind {
  name: string;
  /** Through the store, as the server reads it now. */
  store: (store: Store) => Promise<unknown>;
  /** The statements the store ran before migration 019 (every record of the range). */
  records: (db: Sqlite.Database) => unknown;
  /** Both answers in one comparable form. */
  same: (fromStore: unknown, fromRecords: unknown) => boolean;
}

type Row = Record<string, unknown>;
/** Rows as sorted lines of their values, counts as numbers; '' and null alike (the store answers null). */
const lines = (rows: readonly Row[], keys: readonly string[]) => rows.map((row) => keys.map((key) => String(row[key] ?? '')).join('|')).sort();
const sameRows = (a: unknown, b: unknown, keysA: readonly string[], keysB: readonly string[]) =>
  JSON.stringify(lines(a as Row[], keysA)) === JSON.stringify(lines(b as Row[], keysB));

function kinds(): Kind[] {
  // The server's defaults: the overview of the last 24 hours in 15-minute buckets aligned to the
  // bucket, up to "now" (30 s into a minute); the fleet's mix over exactly 24 hours and its hourly
  // trend over 7 days and 1 hour (both ending now); the anomaly detector's restore (5-minute
  // buckets, aligned); a quarantine's count of one agent's blocks in the last hour.
  const now = END + 30_000;
  const bucket = 15 * MINUTE;
  const overview: TimeRange = { fromMs: Math.floor((now - 24 * HOUR) / bucket) * bucket, toMs: now };
  const fleet: TimeRange = { fromMs: now - 24 * HOUR, toMs: now };
  const trend: TimeRange = { fromMs: now - 169 * HOUR, toMs: now };
  const anomaly: TimeRange = { fromMs: Math.floor(now / (5 * MINUTE)) * 5 * MINUTE - 24 * HOUR, toMs: Math.floor(now / (5 * MINUTE)) * 5 * MINUTE };
  const at = (range: TimeRange) => [range.fromMs, range.toMs];
  const json = (path: string) => `coalesce(json_extract(payload, '$.data.decision.${path}'), '')`;
  return [
    {
      name: 'overview: series (15 m buckets, 24 h)',
      store: (store) => store.decisionBuckets(overview, bucket),
      records: (db) =>
        db
          .prepare(`SELECT cast((at - ${overview.fromMs}) / ${bucket} AS integer) AS bucket, effect, count(*) AS count FROM audit WHERE type = 'decision' AND at >= ? AND at < ? GROUP BY 1, 2`)
          .all(...at(overview)),
      same: (a, b) => sameRows(a, b, ['bucket', 'effect', 'count'], ['bucket', 'effect', 'count']),
    },
    {
      name: 'overview: top blocked tools',
      store: (store) => store.topDecisionValues(overview, 'tool', { effect: 'block' }, 8),
      records: (db) =>
        db
          .prepare(`SELECT tool AS value, count(*) AS count FROM audit WHERE type = 'decision' AND at >= ? AND at < ? AND effect = 'block' GROUP BY tool ORDER BY count DESC, tool LIMIT 8`)
          .all(...at(overview)),
      same: (a, b) => sameRows(a, b, ['value', 'count'], ['value', 'count']),
    },
    {
      name: 'overview: blocked causes',
      store: (store) => store.blockedCauses(overview),
      records: (db) =>
        db
          .prepare(`SELECT rule, ${json('decidedBy')} AS decidedBy, ${json('error.code')} AS code, count(*) AS count FROM audit WHERE type = 'decision' AND at >= ? AND at < ? AND effect = 'block' GROUP BY 1, 2, 3`)
          .all(...at(overview)),
      same: (a, b) => sameRows(a, b, ['rule', 'decidedBy', 'code', 'count'], ['rule', 'decidedBy', 'code', 'count']),
    },
    {
      name: 'overview: by environment',
      store: (store) => store.decisionsByEnvironment(overview),
      records: (db) =>
        db
          .prepare(
            `SELECT agents.environment, audit.effect, count(*) AS count FROM audit JOIN agents ON agents.id = audit.agent WHERE audit.type = 'decision' AND audit.at >= ? AND audit.at < ? GROUP BY 1, 2`,
          )
          .all(...at(overview)),
      same: (a, b) => sameRows(a, b, ['environment', 'effect', 'count'], ['environment', 'effect', 'count']),
    },
    {
      name: 'fleet: mix per agent (24 h)',
      store: (store) => store.decisionBuckets(fleet, fleet.toMs - fleet.fromMs, { byAgent: true }),
      records: (db) =>
        db.prepare(`SELECT 0 AS bucket, agent, effect, count(*) AS count FROM audit WHERE type = 'decision' AND at >= ? AND at < ? GROUP BY 2, 3`).all(...at(fleet)),
      same: (a, b) => sameRows(a, b, ['agent', 'effect', 'count'], ['agent', 'effect', 'count']),
    },
    {
      name: 'fleet: hourly trend per agent (169 h)',
      store: (store) => store.decisionBuckets(trend, HOUR, { byAgent: true }),
      records: (db) =>
        db
          .prepare(`SELECT cast((at - ${trend.fromMs}) / ${HOUR} AS integer) AS bucket, agent, effect, count(*) AS count FROM audit WHERE type = 'decision' AND at >= ? AND at < ? GROUP BY 1, 2, 3`)
          .all(...at(trend)),
      same: (a, b) => sameRows(a, b, ['bucket', 'agent', 'effect', 'count'], ['bucket', 'agent', 'effect', 'count']),
    },
    {
      name: 'anomaly restore (5 m buckets, 24 h)',
      store: (store) => store.decisionCounts(anomaly, 5 * MINUTE),
      records: (db) =>
        db
          .prepare(
            `SELECT cast((at - ${anomaly.fromMs}) / ${5 * MINUTE} AS integer) AS bucket, agent, tool, effect, rule, count(*) AS count FROM audit WHERE type = 'decision' AND at >= ? AND at < ? GROUP BY 1, 2, 3, 4, 5`,
          )
          .all(...at(anomaly)),
      same: (a, b) => sameRows(a, b, ['bucket', 'agent', 'tool', 'effect', 'rule', 'count'], ['bucket', 'agent', 'tool', 'effect', 'rule', 'count']),
    },
    {
      name: "quarantine: one agent's blocks, last hour",
      store: (store) => store.countBlocked('gen-3', now - HOUR),
      records: (db) =>
        (db.prepare(`SELECT count(*) AS n FROM audit WHERE agent = ? AND type = 'decision' AND effect = 'block' AND at >= ?`).get('gen-3', now - HOUR) as { n: number }).n,
      same: (a, b) => a === b,
    },
  ];
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-insights-'));
  const file = join(dir, 'airlock.db');
  try {
    await (await openSqliteStore(file)).close();
    const building = performance.now();
    const db = new Sqlite(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    const insertAudit = db.prepare('INSERT INTO audit (seq, at, type, actor, agent, tool, effect, rule, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const addCount = db.prepare(
      'INSERT INTO decision_counts (minute, agent, tool, effect, rule, decided_by, code, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (minute, agent, tool, effect, rule, decided_by, code) DO UPDATE SET count = count + excluded.count',
    );
    const insertAgent = db.prepare('INSERT INTO agents (id, role, environment, created_at, created_by) VALUES (?, ?, ?, ?, ?)');
    for (let a = 0; a < AGENTS; a++) insertAgent.run(`gen-${a}`, a < 6 ? 'support' : 'finance', a % 3 === 0 ? 'staging' : 'production', START, 'bench');
    let head = { seq: 0, hash: GENESIS_HASH };
    const write = db.transaction((entries: PreparedEntry[]) => {
      const { rows, sealed } = sealBatch(entries, head);
      for (const r of rows) insertAudit.run(r.seq, r.at, r.type, r.actor, r.agent, r.tool, r.effect, r.rule, r.payload, r.prev_hash, r.hash);
      for (const c of decisionCountRows(entries)) addCount.run(c.minute, c.agent, c.tool, c.effect, c.rule, c.decided_by, c.code, c.count);
      head = sealed[sealed.length - 1] ?? head;
    });
    for (let i = 0; i < RECORDS; i += 10_000) write(Array.from({ length: Math.min(10_000, RECORDS - i) }, (_, k) => entry(i + k)));
    // No argument index rows: these reads do not use them (the watermark says so, no catch-up).
    db.prepare("UPDATE search_index SET seq = ? WHERE name = 'audit_args'").run(head.seq);
    const countRows = (db.prepare('SELECT count(*) AS n FROM decision_counts').get() as { n: number }).n;
    // The migration on this trail: its counts dropped, then rebuilt when the store opens.
    db.exec("DROP TABLE decision_counts; DELETE FROM kysely_migration WHERE name = '019-decision-counts'");
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.exec('ANALYZE');
    db.close();
    console.log(
      `Built ${RECORDS.toLocaleString('en')} decisions over ${HOURS} h (${(RECORDS / (HOURS * 3600)).toFixed(1)}/s), ${countRows.toLocaleString('en')} count rows (${(RECORDS / countRows).toFixed(1)} decisions a row), in ${((performance.now() - building) / 1000).toFixed(1)} s`,
    );
    const migrating = performance.now();
    const store = await openSqliteStore(file);
    const migrationSeconds = (performance.now() - migrating) / 1000;
    const reader = new Sqlite(file, { readonly: true });
    const rebuilt = (reader.prepare('SELECT count(*) AS n, sum(count) AS total FROM decision_counts').get() as { n: number; total: number });
    if (rebuilt.n !== countRows || rebuilt.total !== RECORDS) throw new Error(`the migration counted ${rebuilt.total} decisions in ${rebuilt.n} rows; the build wrote ${RECORDS} in ${countRows}`);
    console.log(`Migration 019 on this trail (open, migrate, counts rebuilt from the records): ${migrationSeconds.toFixed(1)} s; same rows as the writer's`);

    console.log(
      `\n${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${cpus().length} × ${cpus()[0]?.model.trim() ?? '?'}, Node ${process.version}, load ${loadavg()[0]?.toFixed(2)}; ${RUNS} runs each, alternating\n`,
    );
    console.log('| read | counts (store) p50 | records (before 019) p50 | records ÷ counts |');
    console.log('|---|---:|---:|---:|');
    for (const kind of kinds()) {
      const viaStore: number[] = [];
      const viaRecords: number[] = [];
      let answers: [unknown, unknown] = [undefined, undefined];
      for (let run = 0; run < RUNS + 1; run++) {
        const t0 = performance.now();
        const a = await kind.store(store);
        const t1 = performance.now();
        const b = kind.records(reader);
        const t2 = performance.now();
        // The first run of each warms caches and statements: not counted.
        if (run > 0) {
          viaStore.push(t1 - t0);
          viaRecords.push(t2 - t1);
        }
        answers = [a, b];
      }
      if (!kind.same(answers[0], answers[1])) throw new Error(`${kind.name}: the answers differ\n${JSON.stringify(answers[0]).slice(0, 800)}\n${JSON.stringify(answers[1]).slice(0, 800)}`);
      const s = median(viaStore);
      const r = median(viaRecords);
      console.log(`| ${kind.name} | ${s.toFixed(2)} ms | ${r.toFixed(1)} ms | ${(r / s).toFixed(0)}× |`);
    }
    reader.close();
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
