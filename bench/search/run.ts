/**
 * Search bench (issue 20 item 3): filtered audit queries over a large SQLite trail.
 *
 *   npm run bench:search                     (1,000,000 records)
 *   BENCH_RECORDS=100000 npm run bench:search
 *
 * Builds the trail in the store's own format (the server's migrations, records sealed by
 * `sealBatch` onto one hash chain, audit_args rows from `argRows`: exactly what the writer
 * thread writes), in large transactions straight through better-sqlite3 for speed. Then times
 * each query kind through the store's own `queryAudit` (Kysely, the reader connection the server
 * uses), first page and a deep page, and prints p50 / p99. Last, the write-path cost of the
 * argument index: the writer thread's batch writer committing the same decisions with and
 * without their audit_args rows.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Sqlite from 'better-sqlite3';
import { argLeaves, parseArgFilter, type ArgFilter } from '../../packages/server/src/audit/arg-index.js';
import { argRows, GENESIS_HASH, prepareRecord, sealBatch, type PreparedEntry } from '../../packages/server/src/audit/record.js';
import { decisionRecord } from '../../packages/server/src/services/decisions.js';
import { INDEX_CHUNK, SqliteSyncBatchWriter } from '../../packages/server/src/store/sqlite/sync-batch-writer.js';
import { openSqliteStore } from '../../packages/server/src/store/sqlite/sqlite-store.js';
import type { AuditFilter } from '../../packages/server/src/store/store.js';
import { median } from '../stats.js';
import { mulberry32 as prng } from '../engine/prng.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
/** Keep the built trail in this file and reuse it on later runs (the 1,000,000-record build takes ~20 minutes). */
const KEEP = process.env.BENCH_DB;
/** `build`: build (or reuse) the trail and stop; `nowrite`: skip the write-path measurement. */
const MODE = process.env.BENCH_MODE ?? '';
/** The store's query plan: 'auto' (what the server does), or one forced ('lookup', 'walk') for comparison. */
const PLAN = (process.env.BENCH_PLAN ?? 'auto') as 'auto' | 'lookup' | 'walk';
/** Only the query kinds whose name contains this (e.g. BENCH_ONLY=time). */
const ONLY = process.env.BENCH_ONLY;
const ACCOUNTS = 1000;
const STEP_MS = 1000;

const random = prng(20);
const START = Date.UTC(2026, 0, 1);

/** One generated call: support refunds, account reads, finance payments. */
function call(i: number) {
  const pick = random();
  const agent = `gen-${Math.floor(random() * 8)}`;
  let tool: string;
  let args: Record<string, unknown>;
  let role = 'support';
  if (pick < 0.55) {
    tool = 'issue_refund';
    args = { account_id: `A-${Math.floor(random() * ACCOUNTS)}`, amount: Math.round(5 * Math.exp(random() * Math.log(180)) * 100) / 100, currency: 'USD' };
  } else if (pick < 0.8) {
    tool = 'get_account';
    args = { account_id: `A-${Math.floor(random() * ACCOUNTS)}` };
  } else {
    tool = 'make_payment';
    role = 'finance';
    args = { amount: Math.round(10 * Math.exp(random() * Math.log(4000)) * 100) / 100, currency: 'USD', payee: `P-${Math.floor(random() * 50)}` };
  }
  const roll = random();
  const effect = roll < 0.8 ? 'allow' : roll < 0.9 ? 'require_approval' : 'block';
  const rule = effect === 'allow' ? `${tool}-ok` : effect === 'block' ? `${tool}-blocked` : `${tool}-approval`;
  // Keys in sorted order at every level: JSON.stringify of this is the canonical JSON (checked below).
  const decision = {
    decidedBy: 'rule',
    effect,
    limits: [],
    matched: [rule],
    policyVersion: 1,
    reason: 'generated',
    risk: { level: effect === 'block' ? 'critical' : 'low', score: effect === 'block' ? 90 : 10 },
    rule,
  };
  const identity = { agent, environment: 'production', keyId: 'key_gen', role };
  return { id: `dec_${i}`, at: START + i * STEP_MS, agent, tool, effect, rule, args, identity, decision };
}

/** The record as the server prepares it (decisionRecord + prepareRecord): the reference. */
function entry(c: ReturnType<typeof call>): PreparedEntry {
  const record = decisionRecord({
    id: c.id,
    at: c.at,
    identity: { agent: c.agent, role: c.identity.role, environment: 'production', keyId: 'key_gen' },
    call: { tool: c.tool, args: c.args },
    decision: c.decision as unknown as Parameters<typeof decisionRecord>[0]['decision'],
  });
  return { record: prepareRecord(record), writes: [] };
}

/** The same record built directly (sorted keys, JSON.stringify): a bulk build's speed. */
function fastEntry(c: ReturnType<typeof call>): PreparedEntry {
  const args = Object.fromEntries(Object.entries(c.args).sort(([a], [b]) => (a < b ? -1 : 1)));
  const data = JSON.stringify({ decision: c.decision, id: c.id, identity: c.identity, request: { args, session: null, tool: c.tool } });
  return {
    record: { type: 'decision', at: c.at, actor: `agent:${c.agent}`, agent: c.agent, tool: c.tool, effect: c.effect, rule: c.rule, data, args: argLeaves(c.args) },
    writes: [],
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-search-'));
  const file = KEEP ?? join(dir, 'airlock.db');
  const reuse = KEEP !== undefined && existsSync(KEEP);
  try {
    if (reuse) {
      const existing = new Sqlite(KEEP, { readonly: true });
      const { n } = existing.prepare('SELECT count(*) AS n FROM audit').get() as { n: number };
      existing.close();
      if (n !== RECORDS) throw new Error(`${KEEP} holds ${n} records, not BENCH_RECORDS=${RECORDS}`);
      console.log(`Reusing the trail of ${n.toLocaleString('en')} records in ${KEEP} (the store's migrations run on open)`);
    } else {
    // The schema, by the server's migrations.
    await (await openSqliteStore(file)).close();

    const buildStart = performance.now();
    const sqlite = new Sqlite(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = OFF');
    const insertAudit = sqlite.prepare(
      'INSERT INTO audit (seq, at, type, actor, agent, tool, effect, rule, payload, prev_hash, hash) VALUES (@seq, @at, @type, @actor, @agent, @tool, @effect, @rule, @payload, @prev_hash, @hash)',
    );
    const insertArg = sqlite.prepare('INSERT INTO audit_args (seq, path, text_value, num_value) VALUES (@seq, @path, @text_value, @num_value)');
    // The fast build writes what the server writes: checked record by record on a sample.
    for (let i = 1; i <= 2000; i++) {
      const c = call(-i);
      const reference = entry(c).record;
      const fast = fastEntry(c).record;
      if (JSON.stringify(reference) !== JSON.stringify(fast)) throw new Error(`fast build differs from the server's record:\n${JSON.stringify(reference)}\n${JSON.stringify(fast)}`);
    }
    let head = { seq: 0, hash: GENESIS_HASH };
    let argCount = 0;
    const write = sqlite.transaction((entries: PreparedEntry[]) => {
      const { rows, sealed } = sealBatch(entries, head);
      for (const row of rows) insertAudit.run(row);
      for (const arg of argRows(entries, rows)) {
        insertArg.run(arg);
        argCount++;
      }
      head = sealed[sealed.length - 1] ?? head;
    });
    for (let i = 1; i <= RECORDS; i += 10_000) {
      write(Array.from({ length: Math.min(10_000, RECORDS - i + 1) }, (_, k) => fastEntry(call(i + k))));
      if ((i - 1) % 200_000 === 0 && i > 1) process.stdout.write(`  ${i - 1} records\n`);
    }
    // Every record has its rows: the argument index's watermark (migration 017) at the head.
    sqlite.prepare("UPDATE search_index SET seq = ? WHERE name = 'audit_args'").run(head.seq);
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
    sqlite.exec('ANALYZE');
    sqlite.close();
    const buildSeconds = (performance.now() - buildStart) / 1000;
    console.log(`Built ${RECORDS.toLocaleString('en')} decision records (${argCount.toLocaleString('en')} audit_args rows) in ${buildSeconds.toFixed(1)} s`);
    }
    if (MODE === 'build') return;

    const opening = performance.now();
    const store = await openSqliteStore(file);
    console.log(`Opened the store (pending migrations included) in ${((performance.now() - opening) / 1000).toFixed(1)} s; plan: ${PLAN}`);
    const arg = (text: string): ArgFilter => {
      const parsed = parseArgFilter(text);
      if (typeof parsed === 'string') throw new Error(parsed);
      return parsed;
    };
    const pick = prng(99);
    const account = (): string => `A-${Math.floor(pick() * ACCOUNTS)}`;
    const endMs = START + RECORDS * STEP_MS;
    const kinds: { name: string; filter: () => AuditFilter }[] = [
      { name: 'argument equality (account_id=A-n, ~0.08% of records)', filter: () => ({ args: [arg(`account_id=${account()}`)] }) },
      {
        name: 'numeric range, narrow (amount in [x, x+1), ~0.3%)',
        filter: () => {
          const x = Math.floor(pick() * 100);
          return { args: [arg(`amount>=${x}`), arg(`amount<${x + 1}`)] };
        },
      },
      { name: 'numeric range, wide (amount>=100, ~25%)', filter: () => ({ args: [arg('amount>=100')] }) },
      { name: 'prefix (account_id^=A-1n, ~1.1%)', filter: () => ({ args: [arg(`account_id^=A-1${Math.floor(pick() * 10)}`)] }) },
      { name: 'argument + effect + tool (account_id=A-n, block, issue_refund)', filter: () => ({ args: [arg(`account_id=${account()}`)], effect: 'block', tool: 'issue_refund' }) },
      {
        name: 'effect + tool + time (block, make_payment, one random hour)',
        filter: () => {
          const from = START + Math.floor(pick() * (endMs - START - 3_600_000));
          return { effect: 'block', tool: 'make_payment', fromMs: from, toMs: from + 3_600_000 };
        },
      },
      {
        name: 'time only (one random hour)',
        filter: () => {
          const from = START + Math.floor(pick() * (endMs - START - 3_600_000));
          return { fromMs: from, toMs: from + 3_600_000 };
        },
      },
      {
        name: 'effect + tool + time (block, make_payment, one random day)',
        filter: () => {
          const from = START + Math.floor(pick() * Math.max(1, endMs - START - 86_400_000));
          return { effect: 'block', tool: 'make_payment', fromMs: from, toMs: from + 86_400_000 };
        },
      },
      ...(process.env.BENCH_WORST === '1'
        ? [
            {
              // The known slow shape: each field matches more than the cap, together they match nothing.
              name: 'two dense fields, no record together (amount>=5000 & account_id^=A-)',
              filter: (): AuditFilter => ({ args: [arg('amount>=5000'), arg('account_id^=A-')] }),
            },
          ]
        : []),
    ];
    console.log(`\nQueries (${PLAN} plan): ${RUNS} runs each, page of 100 newest first (first page; then the page after a cursor halfway down the trail)`);
    console.log('| query | first page p50 | p99 | deep page p50 | p99 | rows/page (mean) |');
    console.log('|---|---|---|---|---|---|');
    for (const kind of kinds) {
      if (ONLY !== undefined && !kind.name.includes(ONLY)) continue;
      const first: number[] = [];
      const deep: number[] = [];
      let rows = 0;
      for (let run = 0; run < RUNS; run++) {
        const filter = kind.filter();
        let t = performance.now();
        const page = await store.queryAudit(filter, { limit: 100, plan: PLAN });
        first.push(performance.now() - t);
        rows += page.length;
        t = performance.now();
        await store.queryAudit(filter, { beforeSeq: Math.floor(RECORDS / 2), limit: 100, plan: PLAN });
        deep.push(performance.now() - t);
      }
      first.sort((a, b) => a - b);
      deep.sort((a, b) => a - b);
      const ms = (v: number): string => `${v.toFixed(2)} ms`;
      console.log(`| ${kind.name} | ${ms(percentile(first, 50))} | ${ms(percentile(first, 99))} | ${ms(percentile(deep, 50))} | ${ms(percentile(deep, 99))} | ${(rows / RUNS).toFixed(0)} |`);
    }
    await store.close();
    if (MODE === 'nowrite') return;

    // Write path: the writer thread's batch writer, the same decisions with and without their index rows
    // (written after the commits, as the writer thread does: the decisions/s include them).
    const writeRecords = Number(process.env.BENCH_WRITE_RECORDS ?? 40_000);
    const batchSize = 64;
    const results: Record<string, number[]> = { with: [], without: [] };
    for (let round = 0; round < 3; round++) {
      for (const mode of ['with', 'without'] as const) {
        const writeFile = join(dir, `write-${mode}-${round}.db`);
        await (await openSqliteStore(writeFile)).close();
        const connection = new Sqlite(writeFile);
        connection.pragma('journal_mode = WAL');
        connection.pragma('synchronous = FULL');
        const writer = new SqliteSyncBatchWriter(connection);
        const batches = Array.from({ length: writeRecords / batchSize }, (_, b) =>
          Array.from({ length: batchSize }, (_, k) => {
            const e = entry(call(b * batchSize + k + 1));
            return mode === 'with' ? e : { ...e, record: { ...e.record, args: [] } };
          }),
        );
        const t = performance.now();
        // As the writer thread does: index rows after the commits, a chunk at a time between batches.
        for (const batch of batches) {
          writer.commit(batch);
          if (writer.pendingIndex >= INDEX_CHUNK / 2) writer.indexPending(INDEX_CHUNK);
        }
        writer.indexPending();
        results[mode]?.push(writeRecords / ((performance.now() - t) / 1000));
        connection.close();
      }
    }
    const withIndex = median(results.with ?? []);
    const without = median(results.without ?? []);
    console.log(`\nWrite path (writer thread's batch writer, batches of ${batchSize}, synchronous=FULL, ${writeRecords.toLocaleString('en')} decisions, median of 3 rounds):`);
    console.log(`  with audit_args rows:    ${withIndex.toFixed(0)} decisions/s`);
    console.log(`  without audit_args rows: ${without.toFixed(0)} decisions/s`);
    console.log(`  ratio with/without: ${(withIndex / without).toFixed(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
