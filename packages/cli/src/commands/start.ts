import type { Writable } from 'node:stream';
import { configFromEnvironment, startServer } from '@airlock/server';

/** `airlock start`: the control plane, until SIGINT or SIGTERM. Flags win over AIRLOCK_* variables. */

export interface StartCommandOptions {
  port?: string;
  host?: string;
  dataDir?: string;
  notifications?: string;
}

export async function startCommand(
  options: StartCommandOptions,
  io: { stdout: Writable; stderr: Writable },
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  const server = await startServer({
    ...configFromEnvironment(options, env),
    print: (line) => io.stdout.write(`${line}\n`),
    logError: (message) => io.stderr.write(`${message}\n`),
    handleSignals: true,
  });
  await server.closed;
  return 0;
}
