import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, cpSync, existsSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

/**
 * The Cerbos PDP of bench:server: the binary of the npm package `@cerbos/cerbos-linux-x64` (an
 * optional dependency of the repository root, so `npm ci` on another platform skips it), started
 * on a copy of `shared/peers/cerbos/` (the refund thresholds as a resource policy; the config with
 * its file audit log on) with the listen ports rewritten to free ones.
 */

export interface Cerbos {
  process: ChildProcess;
  url: string;
  version: string;
  auditLog: string;
}

/** The installed Cerbos binary, or why there is none. */
export function cerbosBinary(): { path: string; version: string } | { missing: string } {
  try {
    const manifest = createRequire(import.meta.url).resolve('@cerbos/cerbos-linux-x64/package.json');
    const version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
    const path = join(dirname(manifest), 'cerbos-linux-x64');
    return existsSync(path) ? { path, version } : { missing: `${path} is absent` };
  } catch {
    return { missing: '@cerbos/cerbos-linux-x64 is not installed (it exists for linux-x64 only)' };
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Copies the peer folder into `workDir`, starts Cerbos there and waits for its health check. */
export async function startCerbos(binary: string, version: string, peerDir: string, workDir: string): Promise<Cerbos> {
  cpSync(peerDir, workDir, { recursive: true });
  // CI's copy of shared/ has no write bits, and the copy keeps them: made writable again, so Cerbos
  // can write its audit log here, the config with the bench's ports can sit beside the original,
  // and the folder can be removed at the end.
  chmodSync(workDir, 0o700);
  for (const entry of readdirSync(workDir, { recursive: true, withFileTypes: true })) {
    chmodSync(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o700 : 0o600);
  }
  const [http, grpc] = [await freePort(), await freePort()];
  const original = join(workDir, 'config_audit_file.yaml');
  const configPath = join(workDir, 'bench-config.yaml');
  const config = readFileSync(original, 'utf8').replace('127.0.0.1:3592', `127.0.0.1:${http}`).replace('127.0.0.1:3593', `127.0.0.1:${grpc}`);
  if (!config.includes(`:${http}`) || !/decisionLogsEnabled:\s*true/.test(config)) throw new Error(`${original}: expected the HTTP listen address 127.0.0.1:3592 and decision logs on`);
  writeFileSync(configPath, config);
  // Its log goes to a file: wrk closes its connections with requests in flight at the end of a
  // round, which Cerbos logs as errors ("context canceled").
  const logPath = join(workDir, 'cerbos.log');
  const logFd = openSync(logPath, 'w');
  const child = spawn(binary, ['server', `--config=${configPath}`, '--log-level=error'], { cwd: workDir, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const url = `http://127.0.0.1:${http}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`cerbos exited with ${child.exitCode}:\n${readFileSync(logPath, 'utf8').slice(-2000)}`);
    try {
      if ((await fetch(`${url}/_cerbos/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error('cerbos did not become healthy within 30 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { process: child, url, version, auditLog: join(workDir, 'audit.log') };
}

/** The body the load generator sends (bench/server/wrk-load.lua builds the same one per request). */
export function cerbosRequest(id: string, amount: number): string {
  return JSON.stringify({
    requestId: id,
    principal: { id: 'bench-bot-1', roles: ['support'] },
    resources: [{ actions: ['issue_refund', 'issue_refund_with_approval'], resource: { kind: 'tool_call', id, attr: { amount } } }],
  });
}

/** Airlock's verdict from a Cerbos check: the approval is the second action (see the peer README). */
export async function cerbosVerdict(url: string, amount: number): Promise<string> {
  const response = await fetch(`${url}/api/check/resources`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: cerbosRequest(`check-${amount}`, amount) });
  const body = (await response.json()) as { results?: { actions?: Record<string, string> }[] };
  const actions = body.results?.[0]?.actions ?? {};
  if (actions['issue_refund'] === 'EFFECT_ALLOW') return 'allow';
  if (actions['issue_refund_with_approval'] === 'EFFECT_ALLOW') return 'require_approval';
  return 'block';
}
