/**
 * What the SQLite writer thread spends on one decision record, timed alone (no HTTP, no event
 * loop), against a baseline measured in the same process and on the same file: the same payloads
 * inserted into a bare table (an integer key and the text, no index, no hash chain), also one
 * transaction and one fsync per batch. `npx tsx bench/server/writer-costs.ts` after a build.
 *
 * The writer is `SqliteSyncBatchWriter` of the built server on a database migrated like `npm start`
 * makes it. Each record is a real decision record of bench:server (the refund-small allow of a $20
 * refund to a new account, as the server writes it), in batches of 25 (bench:server's median batch),
 * and the argument index is written in chunks of INDEX_CHUNK, as the writer thread does. CPU time
 * (process.cpuUsage: this thread's user + system, the fsync's system time included), not wall
 * time, so a neighbour on the machine slows the figures less than it would wall time.
 *
 * BENCH_BATCHES (2,000 per round), BENCH_ROUNDS (3); each round on a new file in the OS temp dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Decision } from '@airlock/core';
import { prepareRecord, type PreparedEntry } from '../../packages/server/dist/audit/record.js';
import { decisionRecord } from '../../packages/server/dist/services/decisions.js';
import { openConnection } from '../../packages/server/dist/store/sqlite/connection.js';
import { openSqliteStore } from '../../packages/server/dist/store/sqlite/sqlite-store.js';
import { INDEX_CHUNK, SqliteSyncBatchWriter } from '../../packages/server/dist/store/sqlite/sync-batch-writer.js';
import { median } from '../stats.js';

const BATCH = 25;
const BATCHES = Number(process.env.BENCH_BATCHES ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const IDENTITY = { agent: 'bench-bot-1', role: 'support', environment: 'production', keyId: '12bd5bbc6fa856e1' };

/** The engine's decision for bench:server's refund to a new account (as read off a real record). */
function refundDecision(account: string): Decision {
  return {
    effect: 'allow',
    rule: 'refund-small',
    reason: 'Rule refund-small (policy customer-support): allow',
    decidedBy: 'rule',
    matched: [{ effect: 'allow', policy: 'customer-support', rule: 'refund-small' }],
    limits: [
      {
        kind: 'budget',
        limit: 'refund-budget',
        policy: 'customer-support',
        key: JSON.stringify(['customer-support', 'refund-budget', account]),
        window: '24h',
        max: 100,
        used: 0,
        adding: 20,
        exceeded: false,
        effect: 'require_approval',
        consumed: true,
      },
    ],
    risk: { score: 0, level: 'low' },
    flagged: false,
    policy: { bundle: 'examples', version: 1, policies: ['customer-support'] },
  } as Decision;
}

/** The record the server writes for that decision (decisionRecord), prepared as the writer receives it. */
function entry(n: number): PreparedEntry {
  const account = `BENCH-R1-${n}`;
  const record = decisionRecord({
    id: `dec_${n.toString(36).padStart(16, '0')}`,
    at: 1_796_000_000_000 + n,
    identity: IDENTITY,
    call: { tool: 'issue_refund', args: { account_id: account, amount: 20, currency: 'USD' } },
    decision: refundDecision(account),
  });
  return { record: prepareRecord(record), writes: [] };
}

const cpuUs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return used.user + used.system;
};

interface Round {
  commit: number;
  index: number;
  bare: number;
}

async function round(): Promise<Round> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-writer-costs-'));
  try {
    const file = join(dir, 'airlock.db');
    await (await openSqliteStore(file)).close();
    const sqlite = openConnection(file, { fileMustExist: true });
    const writer = new SqliteSyncBatchWriter(sqlite);
    sqlite.exec('CREATE TABLE bare (seq INTEGER PRIMARY KEY, payload TEXT NOT NULL)');
    const bareInsert = sqlite.prepare('INSERT INTO bare (seq, payload) VALUES (?, ?)');
    const bareBatch = sqlite.transaction((rows: { seq: number; payload: string }[]) => {
      for (const row of rows) bareInsert.run(row.seq, row.payload);
    });
    let n = 0;
    const totals = { commit: 0, index: 0, bare: 0 };
    for (let b = 0; b < BATCHES; b++) {
      const entries = Array.from({ length: BATCH }, () => entry(++n));
      // The bare rows carry what the audit rows carry: the sealed payload's size.
      const bare = entries.map((one, i) => ({ seq: n - BATCH + i + 1, payload: `{"seq":${n},"data":${one.record.data as string}}` }));
      // Alternating which goes first, so neither always finds the disk after the other's fsync.
      const runs: (() => void)[] = [
        () => {
          const start = process.cpuUsage();
          writer.commit(entries);
          totals.commit += cpuUs(start);
        },
        () => {
          const start = process.cpuUsage();
          bareBatch.immediate(bare);
          totals.bare += cpuUs(start);
        },
      ];
      if (b % 2 === 1) runs.reverse();
      for (const run of runs) run();
      if (writer.pendingIndex >= INDEX_CHUNK) {
        const start = process.cpuUsage();
        writer.indexPending(INDEX_CHUNK);
        totals.index += cpuUs(start);
      }
      // The server's checkpointer thread keeps the WAL short; here, every 40 batches.
      if (b % 40 === 39) sqlite.pragma('wal_checkpoint(PASSIVE)');
    }
    const indexed = n - writer.pendingIndex;
    sqlite.close();
    return { commit: totals.commit / n, index: totals.index / Math.max(1, indexed), bare: totals.bare / n };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const load0 = loadavg()[0] ?? 0;
const rounds: Round[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const r = await round();
  rounds.push(r);
  console.error(`[writer-costs] round ${i + 1}: commit ${r.commit.toFixed(1)} µs/record, index ${r.index.toFixed(1)}, bare ${r.bare.toFixed(1)}`);
}
const commit = median(rounds.map((r) => r.commit));
const index = median(rounds.map((r) => r.index));
const bare = median(rounds.map((r) => r.bare));
console.log(
  `SQLite writer costs — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${load0.toFixed(1)} at start, ${(loadavg()[0] ?? 0).toFixed(1)} at end`,
);
console.log(`${ROUNDS} rounds of ${BATCHES} batches of ${BATCH} decision records (median round); CPU µs per record, this thread, fsync included\n`);
console.log('| part | µs per record | × bare insert |');
console.log('|---|---:|---:|');
console.log(`| bare insert of the same payload, one transaction + fsync per batch (baseline) | ${bare.toFixed(1)} | 1.00× |`);
console.log(`| audit commit: chain head, seal (SHA-256), audit row and its 5 indexes, fsync | ${commit.toFixed(1)} | ${(commit / bare).toFixed(2)}× |`);
console.log(`| argument index, ${INDEX_CHUNK} records a transaction (3 fields each) | ${index.toFixed(1)} | ${(index / bare).toFixed(2)}× |`);
console.log(`| writer thread in all (commit + index) | ${(commit + index).toFixed(1)} | ${((commit + index) / bare).toFixed(2)}× |`);
console.log(`\nrounds (commit / index / bare µs): ${rounds.map((r) => `${r.commit.toFixed(1)} / ${r.index.toFixed(1)} / ${r.bare.toFixed(1)}`).join('; ')}`);
