import { createRequire } from 'node:module';
import type { Readable, Writable } from 'node:stream';
import { startProcessTracing } from '@airlock/server';
import { z } from 'zod';
import {
  loadToolMapFile,
  parseToolMapEntries,
  startHttpProxy,
  startStdioProxy,
  type AirlockConnection,
  type GatewayOptions,
  type UpstreamOptions,
} from '@airlock/mcp-gateway';

/**
 * `airlock mcp-proxy`: an MCP server in front of another one, every tools/call decided by Airlock.
 * Over stdio (the client starts it like any MCP server) or, with --listen, over Streamable HTTP.
 */

export interface McpProxyCommandOptions {
  policy?: string;
  agent?: string;
  role?: string;
  environment?: string;
  audit?: string;
  url?: string;
  apiKey?: string;
  listen?: string;
  upstream?: string;
  upstreamHeader?: string[];
  map?: string[];
  mapFile?: string;
  hideBlockedTools: boolean;
  approvalTimeout: string;
  progressInterval: string;
}

/** A usage mistake: reported on stderr, exit code 2. */
class UsageError extends Error {}

const seconds = (flag: string) =>
  z.coerce
    .number({ error: `${flag} expects seconds` })
    .positive(`${flag} expects a positive number of seconds`)
    .transform((s) => Math.round(s * 1000));

const listenAddress = z.string().regex(/^(?:\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, '--listen expects host:port, e.g. 127.0.0.1:8931');

export async function mcpProxyCommand(
  command: string[],
  options: McpProxyCommandOptions,
  io: { stdin: Readable; stdout: Writable; stderr: Writable },
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  let gateway: GatewayOptions;
  try {
    gateway = gatewayOptions(command, options, io.stderr);
  } catch (error) {
    // Bad flags, an unreadable or malformed map file: all usage problems, reported before anything starts.
    return usage(io.stderr, usageMessage(error as Error));
  }
  const url = options.url ?? env.AIRLOCK_URL;
  const stop = onSignal();
  // With OTEL_EXPORTER_OTLP_ENDPOINT set, the proxy is an instrumented application: decision,
  // approval wait and execute_tool spans per tools/call (docs/observability.md). Else nothing loads.
  const tracing = await startProcessTracing(env, {
    serviceName: 'airlock-mcp-proxy',
    version: (createRequire(import.meta.url)('../../package.json') as { version: string }).version,
    logError: (message) => io.stderr.write(`airlock mcp-proxy: ${message}\n`),
  });
  try {
    if (options.listen !== undefined) {
      if (options.policy !== undefined || options.apiKey !== undefined) {
        return usage(io.stderr, '--listen serves many clients, each with its own agent key: give --url, not --policy or --api-key');
      }
      if (!url) return usage(io.stderr, '--listen needs --url (or AIRLOCK_URL): the Airlock server that decides');
      const parsed = listenAddress.safeParse(options.listen);
      if (!parsed.success) return usage(io.stderr, parsed.error.issues[0]?.message ?? 'bad --listen');
      const at = options.listen.lastIndexOf(':');
      const proxy = await startHttpProxy({
        ...gateway,
        airlockUrl: url,
        host: options.listen.slice(0, at).replace(/^\[|\]$/g, ''),
        port: Number(options.listen.slice(at + 1)),
      });
      io.stderr.write(`airlock mcp-proxy: serving MCP at ${proxy.url} (agent key per client: Authorization: Bearer <key>)\n`);
      await stop.signalled;
      await proxy.close();
      return 0;
    }
    if (options.policy !== undefined && options.url !== undefined) return usage(io.stderr, 'give either --policy (local mode) or --url (an Airlock server), not both');
    let airlock: AirlockConnection;
    if (options.policy !== undefined) {
      if (!options.agent || !options.role) return usage(io.stderr, 'local mode (--policy) needs --agent and --role');
      airlock = { policy: options.policy, agent: options.agent, role: options.role, environment: options.environment, ...(options.audit ? { audit: options.audit } : {}) };
    } else {
      const apiKey = options.apiKey ?? env.AIRLOCK_API_KEY;
      if (!url || !apiKey) return usage(io.stderr, 'give --policy DIR (local mode), or --url URL and --api-key KEY (or AIRLOCK_URL and AIRLOCK_API_KEY)');
      airlock = { url, apiKey };
    }
    const proxy = await startStdioProxy({ ...gateway, airlock, stdin: io.stdin, stdout: io.stdout });
    const exit = await Promise.race([proxy.exited, stop.signalled.then(async () => (await proxy.close(), proxy.exited))]);
    return exit.reason === 'client_closed' ? 0 : 1;
  } finally {
    stop.dispose();
    // The last spans (those of the calls just answered) are exported before the process exits.
    await tracing?.shutdown().catch(() => undefined);
  }
}

function gatewayOptions(command: string[], options: McpProxyCommandOptions, stderr: Writable): GatewayOptions {
  const [program, ...args] = command;
  let upstream: UpstreamOptions;
  if (options.upstream !== undefined) {
    if (program !== undefined) throw new UsageError('give either --upstream URL or -- <command>, not both');
    upstream = { url: z.url({ error: '--upstream expects an http(s) URL' }).parse(options.upstream), headers: headers(options.upstreamHeader ?? []) };
  } else {
    if (program === undefined) throw new UsageError('give the MCP server to govern: -- <command> [args…], or --upstream URL');
    upstream = { command: program, args };
  }
  return {
    upstream,
    toolMap: { ...(options.mapFile ? loadToolMapFile(options.mapFile) : {}), ...parseToolMapEntries(options.map ?? []) },
    hideBlockedTools: options.hideBlockedTools,
    approvalTimeoutMs: seconds('--approval-timeout').parse(options.approvalTimeout),
    progressIntervalMs: seconds('--progress-interval').parse(options.progressInterval),
    log: (message) => stderr.write(`airlock mcp-proxy: ${message}\n`),
  };
}

function headers(entries: string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of entries) {
    const at = entry.indexOf(':');
    if (at <= 0) throw new UsageError(`--upstream-header expects 'Name: value', got '${entry}'`);
    result[entry.slice(0, at).trim()] = entry.slice(at + 1).trim();
  }
  return result;
}

function usage(stderr: Writable, message: string): number {
  stderr.write(`airlock mcp-proxy: ${message}\n`);
  return 2;
}

function usageMessage(error: Error): string {
  if (error instanceof z.ZodError) return error.issues[0]?.message ?? error.message;
  return error.message;
}

/** Resolves on the first SIGINT or SIGTERM, so the proxy stops its MCP server before exiting. */
function onSignal(): { signalled: Promise<void>; dispose: () => void } {
  let fire: () => void = () => undefined;
  const signalled = new Promise<void>((resolve) => (fire = resolve));
  const handler = (): void => fire();
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return {
    signalled,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
