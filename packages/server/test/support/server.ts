import { startServer, type RunningServer, type StartOptions } from '../../src/index.js';
import { ManualClock } from './manual-clock.js';
import { agent, signIn, type Caller, type Person } from './http.js';
import { tempDir } from './temp-dir.js';

export const ADMIN_PASSWORD = 'correct horse battery staple';

export interface TestServer {
  server: RunningServer;
  url: string;
  clock: ManualClock;
  dataDir: string;
  /** Demo agent keys by agent id. */
  keys: Record<string, string>;
  agent(id: string): Caller;
  admin(): Promise<Person>;
  /** Closes and starts again on the same data directory (and clock). */
  restart(): Promise<void>;
  /** Closes the server and deletes its data directory. */
  dispose(): Promise<void>;
}

/** A real server on 127.0.0.1, a free port, a fresh SQLite file, and a manual clock. */
export async function startTestServer(options: StartOptions = {}): Promise<TestServer> {
  const dir = tempDir();
  const clock = new ManualClock();
  const start = () =>
    startServer({ dataDir: dir.path, port: 0, adminPassword: ADMIN_PASSWORD, clock, print: () => undefined, logError: () => undefined, ...options });
  let server = await start();
  const keys = Object.fromEntries((server.seeded.demoKeys ?? []).map((k) => [k.agent, k.key]));
  const test: TestServer = {
    server,
    url: server.url,
    clock,
    dataDir: dir.path,
    keys,
    agent: (id) => {
      const key = keys[id];
      if (!key) throw new Error(`no key for ${id}`);
      return agent(test.url, key);
    },
    admin: () => signIn(test.url, 'admin', ADMIN_PASSWORD),
    async restart() {
      await server.close();
      server = await start();
      test.server = server;
      test.url = server.url;
    },
    async dispose() {
      await server.close();
      dir.remove();
    },
  };
  return test;
}
