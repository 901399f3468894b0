import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '@airlock/server';
import { signIn, type ServerSession } from '../server-session.js';

export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface SdkServer {
  /** The running server (a new one after `restart`). */
  server: RunningServer;
  url: string;
  /** A temporary directory of the test's own; the server's data is in `dataDir` inside it. */
  dir: string;
  dataDir: string;
  /** The seeded demo agents' keys by agent id. */
  keys: Record<string, string>;
  /** The key of a seeded demo agent (throws for an unknown one). */
  key(agent: string): string;
  /** A person signed in (default: the seeded admin). */
  signIn(username?: string, password?: string): Promise<ServerSession>;
  /** Starts the server again on the same data and port (after the test closed `server`). */
  restart(): Promise<void>;
  /** Stops the server and removes `dir`. */
  close(): Promise<void>;
}

/**
 * A real server with the seed policies and demo agents on a fresh SQLite file, a free port and
 * the real clock, as the SDK's remote and edge tests run against it. `data` puts the database in
 * a folder of `dir` (for tests that keep other files beside it).
 */
export async function startSdkServer(prefix: string, { data }: { data?: string } = {}): Promise<SdkServer> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const dataDir = data ? join(dir, data) : dir;
  const start = (port: number) => startServer({ dataDir, port, adminPassword: ADMIN_PASSWORD, print: () => undefined, logError: () => undefined });
  const server = await start(0);
  const keys = Object.fromEntries((server.seeded.demoKeys ?? []).map((k) => [k.agent, k.key]));
  const harness: SdkServer = {
    server,
    url: server.url,
    dir,
    dataDir,
    keys,
    key(agent) {
      const key = keys[agent];
      if (!key) throw new Error(`no demo key for ${agent}`);
      return key;
    },
    signIn: (username = 'admin', password = ADMIN_PASSWORD) => signIn(harness.url, username, password),
    async restart() {
      harness.server = await start(harness.server.port);
    },
    async close() {
      await harness.server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
