/**
 * Search bench on PostgreSQL (a check of the query plans there, not the main bench):
 *
 *   BENCH_RECORDS=1000000 npx tsx bench/search/postgres.ts
 *
 * Builds a trail of the same shape as bench/search/run.ts (55 % refunds over 1,000 accounts, 25 %
 * account reads, 20 % payments; 80 / 10 / 10 % allow / approval / block; one record a second) in
 * a fresh schema of the machine's PostgreSQL, with generate_series in SQL for speed. The rows
 * are search-shaped but not a sealed chain (prev_hash / hash are placeholders, the payload is a
 * stub): only the columns and audit_args rows a search reads are real. Then times the same
 * query kinds through the store's `queryAudit` and drops the schema.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { parseArgFilter, type ArgFilter } from '../../packages/server/src/audit/arg-index.js';
import { openPostgresStore } from '../../packages/server/src/store/postgres/postgres-store.js';
import type { AuditFilter } from '../../packages/server/src/store/store.js';

const URL = process.env.AIRLOCK_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 100);
const PLAN = (process.env.BENCH_PLAN ?? 'auto') as 'auto' | 'lookup' | 'walk';
const START = Date.UTC(2026, 0, 1);
/** BENCH_PG_SCHEMA: build into this schema and keep it (reused when it already holds the trail), for EXPLAIN and reruns. */
const KEEP = process.env.BENCH_PG_SCHEMA;
const SCHEMA = KEEP ?? `airlock_bench_search_${process.pid}`;

function arg(text: string): ArgFilter {
  const parsed = parseArgFilter(text);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function main(): Promise<void> {
  await (await openPostgresStore(URL, { schema: SCHEMA })).close();
  const client = new pg.Client({ connectionString: URL, options: `-c search_path=${SCHEMA}` });
  await client.connect();
  const held = Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM audit')).rows[0]?.n);
  if (held !== 0 && held !== RECORDS) throw new Error(`schema ${SCHEMA} holds ${held} records, not ${RECORDS}`);
  try {
    if (held === RECORDS) console.log(`PostgreSQL: reusing the ${held.toLocaleString('en')} records in schema ${SCHEMA}`);
    else {
    const t0 = performance.now();
    await client.query('SELECT setseed(0.2)');
    await client.query(`CREATE UNLOGGED TABLE gen AS SELECT g, random() AS pick, random() AS roll, random() AS a, random() AS b FROM generate_series(1, ${RECORDS}) g`);
    await client.query(`
      INSERT INTO audit (seq, at, type, actor, agent, tool, effect, rule, payload, prev_hash, hash)
      SELECT g, ${START} + g * 1000, 'decision', 'agent:gen-' || (g % 8), 'gen-' || (g % 8),
             CASE WHEN pick < 0.55 THEN 'issue_refund' WHEN pick < 0.8 THEN 'get_account' ELSE 'make_payment' END,
             CASE WHEN roll < 0.8 THEN 'allow' WHEN roll < 0.9 THEN 'require_approval' ELSE 'block' END,
             'rule', '{}', '', ''
      FROM gen`);
    await client.query(`
      INSERT INTO audit_args (seq, path, text_value, num_value)
      SELECT g, 'account_id', 'A-' || floor(a * 1000)::int, NULL FROM gen WHERE pick < 0.8
      UNION ALL
      SELECT g, 'amount', v::text, v FROM (
        SELECT g, CASE WHEN pick < 0.55 THEN round((5 * exp(b * ln(180)))::numeric, 2)::float8 ELSE round((10 * exp(b * ln(4000)))::numeric, 2)::float8 END AS v
        FROM gen WHERE pick < 0.55 OR pick >= 0.8) amounts
      UNION ALL
      SELECT g, 'currency', 'USD', NULL FROM gen WHERE pick < 0.55 OR pick >= 0.8`);
    await client.query('DROP TABLE gen');
    await client.query('VACUUM ANALYZE audit');
    await client.query('VACUUM ANALYZE audit_args');
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM audit_args');
    console.log(`PostgreSQL: built ${RECORDS.toLocaleString('en')} records (${Number(rows[0]?.n).toLocaleString('en')} audit_args rows) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    await client.end();
  }

  const store = await openPostgresStore(URL, { schema: SCHEMA });
  try {
    let seed = 99;
    const pick = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const endMs = START + RECORDS * 1000;
    const hour = (): Pick<AuditFilter, 'fromMs' | 'toMs'> => {
      const from = START + Math.floor(pick() * (endMs - START - 3_600_000));
      return { fromMs: from, toMs: from + 3_600_000 };
    };
    const kinds: { name: string; filter: () => AuditFilter }[] = [
      { name: 'argument equality (account_id=A-n)', filter: () => ({ args: [arg(`account_id=A-${Math.floor(pick() * 1000)}`)] }) },
      {
        name: 'numeric range, narrow',
        filter: () => {
          const x = Math.floor(pick() * 100);
          return { args: [arg(`amount>=${x}`), arg(`amount<${x + 1}`)] };
        },
      },
      { name: 'numeric range, wide (amount>=100)', filter: () => ({ args: [arg('amount>=100')] }) },
      { name: 'prefix (account_id^=A-1n)', filter: () => ({ args: [arg(`account_id^=A-1${Math.floor(pick() * 10)}`)] }) },
      { name: 'argument + effect + tool', filter: () => ({ args: [arg(`account_id=A-${Math.floor(pick() * 1000)}`)], effect: 'block', tool: 'issue_refund' }) },
      { name: 'effect + tool + time (one hour)', filter: () => ({ effect: 'block', tool: 'make_payment', ...hour() }) },
      { name: 'time only (one hour)', filter: hour },
    ];
    console.log(`\nPostgreSQL queries (${PLAN} plan): ${RUNS} runs each, page of 100 (first page; then after a cursor halfway down)`);
    console.log('| query | first page p50 | p99 | deep page p50 | p99 |');
    console.log('|---|---:|---:|---:|---:|');
    for (const kind of kinds) {
      const first: number[] = [];
      const deep: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const filter = kind.filter();
        let t = performance.now();
        await store.queryAudit(filter, { limit: 100, plan: PLAN });
        first.push(performance.now() - t);
        t = performance.now();
        await store.queryAudit(filter, { beforeSeq: Math.floor(RECORDS / 2), limit: 100, plan: PLAN });
        deep.push(performance.now() - t);
      }
      first.sort((a, b) => a - b);
      deep.sort((a, b) => a - b);
      const ms = (v: number): string => `${v.toFixed(1)} ms`;
      console.log(`| ${kind.name} | ${ms(percentile(first, 50))} | ${ms(percentile(first, 99))} | ${ms(percentile(deep, 50))} | ${ms(percentile(deep, 99))} |`);
    }
  } finally {
    await store.close();
  }
  if (KEEP === undefined) {
    const drop = new pg.Client({ connectionString: URL });
    await drop.connect();
    await drop.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await drop.end();
  }
}

await main();
