import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { describe, expect, it } from 'vitest';
import { freePort, LONG, recordSummary } from './support.js';

/**
 * A bounded soak at a steady rate with the four seed scenarios mixed, against the built server in
 * its own process: zero errors, and the server's resident memory stays flat once warm.
 */
const SECONDS = LONG ? 300 : 20;
const RATE = 400; // requests per second, all connections together
const CLI = join(process.cwd(), 'packages', 'cli', 'bin', 'airlock.js');

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) * 1024;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

describe('soak', () => {
  it(`serves ${SECONDS} s of mixed traffic at ${RATE}/s with zero errors and flat memory`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'airlock-soak-'));
    const port = await freePort();
    const server = spawn(process.execPath, [CLI, 'start', '--data-dir', dataDir, '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, AIRLOCK_ADMIN_PASSWORD: 'soak admin password' } });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('exit', (code) => reject(new Error(`server exited ${String(code)}`)));
        server.stdout?.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('Airlock is running at')) resolve();
        });
      });
      const keys = JSON.parse(readFileSync(join(dataDir, 'demo-keys.json'), 'utf8')) as Record<string, { key: string }>;
      const calls: [string, unknown][] = [
        ['support-bot-1', { tool: 'get_account', args: { account_id: 'A' } }],
        ['support-bot-1', { tool: 'issue_refund', args: { account_id: 'A', amount: 20, currency: 'USD' } }],
        ['support-bot-1', { tool: 'issue_refund', args: { account_id: 'A', amount: 900, currency: 'USD' } }],
        ['support-bot-1', { tool: 'export_customers', args: {} }],
        ['devops-bot-1', { tool: 'scale_service', args: { service: 'api', environment: 'staging', replicas: 3 } }],
        ['devops-bot-1', { tool: 'provision_instance', args: { instance_type: 't3.micro', environment: 'dev' } }],
        ['finance-bot-1', { tool: 'make_payment', args: { amount: 120, currency: 'USD', payee: 'P' } }],
        ['finance-bot-1', { tool: 'transfer_funds', args: { amount: 500, currency: 'USD', from_account: 'F1', to_account: 'F2', destination: 'internal' } }],
        ['workflow-bot-1', { tool: 'update_records', args: { system: 'crm', object: 'lead', ids: ['1', '2', '3'] } }],
        ['workflow-bot-1', { tool: 'read_records', args: { system: 'crm', object: 'lead' } }],
      ];
      let n = 0;
      const samples: number[] = [];
      const sampler = setInterval(() => samples.push(rssBytes(server.pid as number)), 1000);
      const result = await autocannon({
        url: `http://127.0.0.1:${port}/v1/decide`,
        connections: 20,
        overallRate: RATE,
        duration: SECONDS,
        method: 'POST',
        requests: [
          {
            setupRequest: (request) => {
              const [agent, call] = calls[n++ % calls.length] as [string, { args: Record<string, unknown> }];
              // 1,000 accounts and payees in rotation: limit state reaches a steady size.
              const args = { ...call.args };
              if ('account_id' in args) args.account_id = `A-${n % 1000}`;
              if ('payee' in args) args.payee = `P-${n % 1000}`;
              return { ...request, headers: { ...request.headers, 'content-type': 'application/json', authorization: `Bearer ${keys[agent]?.key}` }, body: JSON.stringify({ ...call, args }) };
            },
          },
        ],
      });
      clearInterval(sampler);
      const warm = samples.slice(Math.floor(samples.length * 0.2), Math.floor(samples.length * 0.4));
      const end = samples.slice(Math.floor(samples.length * 0.8));
      const growth = median(end) - median(warm);
      const errors = result.errors + result.timeouts + result.non2xx;
      expect(errors).toBe(0);
      expect(result['2xx']).toBeGreaterThan(SECONDS * RATE * 0.9);
      // Flat: the last fifth of the run within 64 MiB of the warm median (a leak of even 1 KB per
      // request would add ~100 MiB over the long run).
      expect(growth).toBeLessThan(64 * 1024 * 1024);
      recordSummary({
        suite: 'soak',
        rounds: 1,
        cases: result['2xx'],
        faults: 0,
        lost: errors,
        notes: `${SECONDS} s at ${RATE}/s: ${Math.round(result.requests.average)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; RSS ${(median(warm) / 2 ** 20).toFixed(0)} → ${(median(end) / 2 ** 20).toFixed(0)} MiB`,
      });
    } finally {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, (SECONDS + 60) * 1000);
});
