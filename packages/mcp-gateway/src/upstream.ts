import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';

/** The real MCP server: a command the proxy starts (stdio), or a Streamable HTTP endpoint. */
export type UpstreamOptions = UpstreamCommand | UpstreamUrl;

export interface UpstreamCommand {
  command: string;
  args?: string[];
  /** The child's environment. Default: the proxy's own, without AIRLOCK_* variables (the agent key stays with the proxy). */
  env?: Record<string, string>;
  cwd?: string;
}

export interface UpstreamUrl {
  /** e.g. http://127.0.0.1:3000/mcp */
  url: string;
  /** Sent with every request to the upstream server (its own credentials, if it needs any). */
  headers?: Record<string, string>;
}

export function upstreamTransport(upstream: UpstreamOptions): Transport {
  if ('url' in upstream) return new StreamableHTTPClientTransport(new URL(upstream.url), { requestInit: { headers: upstream.headers ?? {} } });
  return new StdioClientTransport({
    command: upstream.command,
    args: upstream.args ?? [],
    env: upstream.env ?? inheritedEnvironment(),
    ...(upstream.cwd ? { cwd: upstream.cwd } : {}),
    stderr: 'inherit',
  });
}

/** What the proxy can relay of the client's capabilities: requests the server sends the client. */
export function relayedCapabilities(client: ClientCapabilities): ClientCapabilities {
  const relayed: ClientCapabilities = {};
  if (client.sampling) relayed.sampling = client.sampling;
  if (client.elicitation) relayed.elicitation = client.elicitation;
  if (client.roots) relayed.roots = client.roots;
  return relayed;
}

/** A client for the upstream server, speaking for the real client (its name, and the capabilities the proxy relays). */
export function upstreamClient(clientInfo: { name: string; version: string }, capabilities: ClientCapabilities): Client {
  return new Client({ name: clientInfo.name, version: clientInfo.version }, { capabilities: relayedCapabilities(capabilities) });
}

function inheritedEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('AIRLOCK_')) env[name] = value;
  }
  return env;
}
