import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type RunningServer, type StartOptions } from '@airlock/server';

/** The built app (packages/dashboard/dist, made by `npm run build`). */
export const DIST = fileURLToPath(new URL('../../dist', import.meta.url));

export interface ConsoleServer {
  server: RunningServer;
  /** The seeded demo agents' keys by agent id. */
  keys: Record<string, string>;
  /** What the server logged as an error; a test ends with none. */
  errors: string[];
  /** Stops the server and removes its data directory. */
  close(): Promise<void>;
}

/**
 * A real server on a temporary SQLite file serving the built dashboard, as each Chromium test starts
 * it; `options` adds to its configuration (single sign-on, password login off).
 */
export async function startConsoleServer(prefix: string, adminPassword: string | undefined, options: StartOptions = {}): Promise<ConsoleServer> {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`${DIST} is missing: run npm run build first`);
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const errors: string[] = [];
  const server = await startServer({ ...options, dataDir, port: 0, adminPassword, dashboardDir: DIST, print: () => undefined, logError: (message) => errors.push(message) });
  const keys = Object.fromEntries((server.seeded.demoKeys ?? []).map((k) => [k.agent, k.key]));
  return {
    server,
    keys,
    errors,
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
