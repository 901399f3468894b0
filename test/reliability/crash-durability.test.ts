import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyAuditFile } from '@airlock/server';
import { freePort, LONG, recordSummary } from './support.js';

/**
 * Crash durability: the built server (`airlock start`, as users run it) in a child process, many
 * concurrent clients deciding, `kill -9` at a random moment, restart on the same data directory.
 * After every round: every decision a client received is in the audit trail, the chain verifies,
 * every approval a client was told about exists exactly once, and every approval a person was told
 * was approved is still approved (or redeemed).
 */
const ROUNDS = LONG ? 25 : 3;
const CLIENTS = 16;
const ADMIN_PASSWORD = 'reliability admin password';
const CLI = join(process.cwd(), 'packages', 'cli', 'bin', 'airlock.js');

interface Received {
  decisions: Map<string, string>;
  approvals: Set<string>;
  approved: Set<string>;
}

function startServer(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'start', '--data-dir', dataDir, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AIRLOCK_ADMIN_PASSWORD: ADMIN_PASSWORD },
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Airlock is running at')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.resume();
    child.once('exit', (code) => reject(new Error(`server exited with ${String(code)} before it was ready: ${output}`)));
  });
}

/** Decision records past the argument index's watermark (committed, their audit_args rows not yet written). */
function countUnindexed(file: string): number {
  const db = new Sqlite(file, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM audit WHERE type = 'decision' AND seq > (SELECT seq FROM search_index WHERE name = 'audit_args')").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function login(base: string): Promise<Record<string, string>> {
  const response = await fetch(`${base}/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  const { csrfToken } = (await response.json()) as { csrfToken: string };
  return { cookie: (response.headers.get('set-cookie') ?? '').split(';')[0] as string, 'x-airlock-csrf': csrfToken, 'content-type': 'application/json' };
}

/** One client: decides until the server dies; records what it was told. */
async function client(base: string, key: string, n: number, received: Received, stop: { dead: boolean }): Promise<void> {
  let i = 0;
  while (!stop.dead) {
    i++;
    const amount = [20, 30, 75, 120, 900][(n + i) % 5] as number;
    try {
      const response = await fetch(`${base}/v1/decide`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tool: 'issue_refund', args: { account_id: `C${n}-${i % 7}`, amount, currency: 'USD' } }),
      });
      if (response.status !== 200) continue;
      const body = (await response.json()) as { id: string; effect: string; approval?: { id: string } };
      received.decisions.set(body.id, body.effect);
      if (body.approval) received.approvals.add(body.approval.id);
    } catch {
      return; // the server is gone
    }
  }
}

/** A person approving what is pending, recording only approvals the server acknowledged. */
async function approver(base: string, received: Received, stop: { dead: boolean }): Promise<void> {
  let headers: Record<string, string>;
  try {
    headers = await login(base);
  } catch {
    return;
  }
  while (!stop.dead) {
    try {
      const list = (await (await fetch(`${base}/v1/approvals?status=pending&limit=5`, { headers })).json()) as { approvals: { id: string }[] };
      for (const approval of list.approvals) {
        const response = await fetch(`${base}/v1/approvals/${approval.id}/approve`, { method: 'POST', headers, body: JSON.stringify({ reason: 'ok' }) });
        if (response.status === 200) received.approved.add(approval.id);
      }
    } catch {
      return;
    }
  }
}

describe('crash durability (kill -9 under load)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'airlock-crash-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it(`keeps every answered decision and approval across ${ROUNDS} kill -9 rounds`, async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const received: Received = { decisions: new Map(), approvals: new Set(), approved: new Set() };
    let kills = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const server = await startServer(dataDir, port);
      const keys = JSON.parse(readFileSync(join(dataDir, 'demo-keys.json'), 'utf8')) as Record<string, { key: string }>;
      const key = keys['support-bot-1']?.key as string;
      const stop = { dead: false };
      const load = [...Array.from({ length: CLIENTS }, (_, n) => client(base, key, round * 100 + n, received, stop)), approver(base, received, stop)];
      await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 900));
      server.kill('SIGKILL');
      kills++;
      await new Promise((resolve) => server.once('exit', resolve));
      stop.dead = true;
      await Promise.all(load);
    }

    expect(received.decisions.size).toBeGreaterThan(ROUNDS * 20);
    // The argument index is written after each commit (docs/search.md): the rows a kill took with
    // it are rebuilt from the watermark when the server starts again.
    const unindexed = countUnindexed(join(dataDir, 'airlock.db'));
    const last = await startServer(dataDir, port);
    await new Promise((resolve) => {
      last.once('exit', resolve);
      last.kill('SIGTERM');
    });
    const chain = await verifyAuditFile(join(dataDir, 'airlock.db'));
    expect(chain.ok).toBe(true);

    const db = new Sqlite(join(dataDir, 'airlock.db'), { readonly: true });
    try {
      const recorded = new Map<string, string>();
      for (const row of db.prepare("SELECT payload FROM audit WHERE type = 'decision'").iterate() as Iterable<{ payload: string }>) {
        const data = (JSON.parse(row.payload) as { data: { id: string; decision: { effect: string } } }).data;
        recorded.set(data.id, data.decision.effect);
      }
      const lost = [...received.decisions].filter(([id, effect]) => recorded.get(id) !== effect);
      expect(lost).toEqual([]);

      const approvals = new Map((db.prepare('SELECT id, status FROM approvals').all() as { id: string; status: string }[]).map((r) => [r.id, r.status]));
      const created = db.prepare("SELECT count(*) AS n FROM audit WHERE type = 'approval.created'").get() as { n: number };
      expect(created.n).toBe(approvals.size);
      const missing = [...received.approvals].filter((id) => !approvals.has(id));
      expect(missing).toEqual([]);
      const decisions = db.prepare("SELECT count(*) AS n FROM audit WHERE type = 'decision'").get() as { n: number };
      const withoutRows = db.prepare("SELECT count(*) AS n FROM audit WHERE type = 'decision' AND (SELECT count(*) FROM audit_args WHERE audit_args.seq = audit.seq) <> 3").get() as { n: number };
      expect({ decisions: decisions.n, withoutRows: withoutRows.n }).toEqual({ decisions: decisions.n, withoutRows: 0 });
      expect(countUnindexed(join(dataDir, 'airlock.db'))).toBe(0);
      const unapproved = [...received.approved].filter((id) => !['approved', 'redeemed'].includes(approvals.get(id) ?? ''));
      expect(unapproved).toEqual([]);

      recordSummary({
        suite: 'crash durability',
        rounds: ROUNDS,
        cases: received.decisions.size,
        faults: kills,
        lost: lost.length + missing.length + unapproved.length,
        notes: `${received.approvals.size} approvals opened, ${received.approved.size} approved; chain of ${chain.ok ? chain.records : '?'} records verified; ${unindexed} decisions past the argument index's watermark after the last kill, all indexed after a restart`,
      });
    } finally {
      db.close();
    }
  }, LONG ? 600_000 : 120_000);
});
