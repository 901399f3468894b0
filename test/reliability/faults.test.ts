import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyAuditFile } from '@airlock/server';
import { startTestServer, type TestServer } from '../../packages/server/test/support/server.js';
import { recordSummary } from './support.js';

interface Decision {
  id: string;
  effect: string;
  rule: string | null;
  error?: { code: string };
}

const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers.splice(0)) await s.dispose().catch(() => undefined);
});
const payment = (i: number) => ({ tool: 'make_payment', args: { amount: 10, currency: 'USD', payee: `P-${i}` } });

describe('fault injection', () => {
  it('a write lock held by another process: decisions fail closed after the busy timeout, then recover', async () => {
    const t = await startTestServer();
    servers.push(t);
    const support = t.agent('support-bot-1');
    expect((await support.post<Decision>('/v1/decide', { tool: 'get_account', args: { account_id: 'A-1' } })).body.effect).toBe('allow');

    const intruder = new Sqlite(join(t.dataDir, 'airlock.db'));
    intruder.exec('BEGIN IMMEDIATE');
    try {
      const blocked = await support.post<Decision>('/v1/decide', { tool: 'get_account', args: { account_id: 'A-2' } });
      expect(blocked.status).toBe(503);
      expect(blocked.body).toMatchObject({ effect: 'block', error: { code: 'store_unavailable' } });
    } finally {
      intruder.exec('ROLLBACK');
      intruder.close();
    }
    expect((await support.post<Decision>('/v1/decide', { tool: 'get_account', args: { account_id: 'A-3' } })).body.effect).toBe('allow');
    expect((await verifyAuditFile(join(t.dataDir, 'airlock.db'))).ok).toBe(true);
    recordSummary({ suite: 'fault: write lock held elsewhere', rounds: 1, cases: 3, faults: 1, lost: 0, notes: 'blocked with store_unavailable after busy_timeout; recovered; chain verified' });
  }, 60_000);

  it('clock jumps: a step back never re-opens a rate window; a step forward closes it', async () => {
    const t = await startTestServer();
    servers.push(t);
    const finance = t.agent('finance-bot-1');
    for (let i = 0; i < 50; i++) expect((await finance.post<Decision>('/v1/decide', payment(i))).body.effect).toBe('allow');
    expect((await finance.post<Decision>('/v1/decide', payment(50))).body.rule).toBe('transaction-rate');
    t.clock.advance(-45 * 60_000); // NTP steps the clock back 45 minutes
    expect((await finance.post<Decision>('/v1/decide', payment(51))).body.rule).toBe('transaction-rate');
    t.clock.advance(45 * 60_000 + 30 * 60_000); // back to now, then half an hour on: still inside the hour
    expect((await finance.post<Decision>('/v1/decide', payment(52))).body.rule).toBe('transaction-rate');
    t.clock.advance(31 * 60_000); // past the hour
    expect((await finance.post<Decision>('/v1/decide', payment(53))).body.effect).toBe('allow');
    // The counters restored from the audit trail after a restart agree.
    await t.restart();
    expect((await t.agent('finance-bot-1').post<Decision>('/v1/decide', payment(54))).body.effect).toBe('allow');
    recordSummary({ suite: 'fault: clock jumps', rounds: 1, cases: 55, faults: 3, lost: 0, notes: 'rate limit exact across a 45 min step back, a step forward and a restart' });
  }, 60_000);

  let mounted: string | undefined;
  const canMount = (() => {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
    const probe = join('/tmp', `airlock-probe-${process.pid}`);
    try {
      mkdirSync(probe, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'ignore' });
      execFileSync('umount', [probe], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    } finally {
      rmSync(probe, { recursive: true, force: true });
    }
  })();
  afterAll(async () => {
    if (!mounted) return;
    // Close the server holding files on the mount before unmounting it.
    for (const s of servers.splice(0)) await s.dispose().catch(() => undefined);
    execFileSync('umount', ['-l', mounted], { stdio: 'ignore' });
    rmSync(mounted, { recursive: true, force: true });
  });

  it.skipIf(!canMount)('disk full (a small tmpfs): every answered decision is audited, refusals are store_unavailable, and it recovers when space returns', async () => {
    const dir = join('/tmp', `airlock-full-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', dir]);
    mounted = dir;
    const t = await startTestServer({ dataDir: join(dir, 'data') });
    servers.push(t);
    // Leave little room: a filler file takes most of what is left.
    const free = Number(execFileSync('df', ['--output=avail', '-B1', dir]).toString().split('\n')[1]);
    writeFileSync(join(dir, 'filler'), Buffer.alloc(Math.max(0, free - 400_000)));

    const support = t.agent('support-bot-1');
    const answered: Decision[] = [];
    let refusals = 0;
    for (let i = 0; i < 3000 && refusals < 5; i++) {
      const reply = await support.post<Decision>('/v1/decide', { tool: 'create_ticket', args: { account_id: `A-${i}`, subject: 'x'.repeat(200) } });
      if (reply.status === 200) answered.push(reply.body);
      else {
        expect(reply.status).toBe(503);
        expect(reply.body).toMatchObject({ effect: 'block', error: { code: 'store_unavailable' } });
        refusals++;
      }
    }
    expect(refusals).toBeGreaterThan(0);

    rmSync(join(dir, 'filler'));
    let recovered = false;
    for (let i = 0; i < 50 && !recovered; i++) {
      recovered = (await support.post<Decision>('/v1/decide', { tool: 'get_account', args: { account_id: 'A-1' } })).status === 200;
    }
    expect(recovered).toBe(true);

    const db = new Sqlite(join(dir, 'data', 'airlock.db'), { readonly: true });
    const ids = new Set((db.prepare("SELECT payload FROM audit WHERE type = 'decision'").all() as { payload: string }[]).map((r) => (JSON.parse(r.payload) as { data: { id: string } }).data.id));
    db.close();
    const lost = answered.filter((d) => !ids.has(d.id));
    expect(lost).toEqual([]);
    expect((await verifyAuditFile(join(dir, 'data', 'airlock.db'))).ok).toBe(true);
    recordSummary({ suite: 'fault: disk full', rounds: 1, cases: answered.length + refusals, faults: refusals, lost: lost.length, notes: 'tmpfs filled to the brim; refusals were store_unavailable; recovered after space was freed; chain verified' });
  }, 120_000);
});
