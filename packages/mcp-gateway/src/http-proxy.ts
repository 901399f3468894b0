import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AirlockUnavailableError, createAirlock, type Airlock } from '@airlock/sdk';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { ProxySession, sessionSettings, type GatewayOptions } from './session.js';

export interface HttpProxyOptions extends GatewayOptions {
  /** The Airlock server that decides. Each MCP client brings its own agent key. */
  airlockUrl: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port (see `url`). */
  port?: number;
  /** Where the MCP endpoint is served. Default `/mcp`. */
  path?: string;
  /** Larger request bodies are refused with 413. Default 4 MiB. */
  maxBodyBytes?: number;
}

export interface RunningHttpProxy {
  /** The MCP endpoint, e.g. http://127.0.0.1:8931/mcp */
  url: string;
  close(): Promise<void>;
}

interface OpenSession {
  transport: StreamableHTTPServerTransport;
  session: ProxySession;
  airlock: Airlock;
  keyHash: Buffer;
}

const SESSION_HEADER = 'mcp-session-id';
const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * A Streamable HTTP MCP endpoint in front of another MCP server. Every client session brings an
 * Airlock agent key (`Authorization: Bearer <key>` or `x-airlock-api-key`), checked with the
 * Airlock server when the session starts; the session's tool calls are decided as that agent, its
 * requests must keep presenting the same key, and it gets its own connection to the upstream
 * server (its own child process when the upstream is a command).
 */
export async function startHttpProxy(options: HttpProxyOptions): Promise<RunningHttpProxy> {
  const settings = sessionSettings(options);
  const path = options.path ?? '/mcp';
  const maxBody = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const sessions = new Map<string, OpenSession>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (new URL(req.url ?? '/', 'http://proxy').pathname !== path) return reply(res, 404, 'Not found');
    const key = agentKey(req);
    if (!key) return reply(res, 401, 'Unauthorized: send the Airlock agent key as Authorization: Bearer <key> or x-airlock-api-key');
    let body: unknown;
    if (req.method === 'POST') {
      const text = await readBody(req, maxBody);
      if (text === undefined) return reply(res, 413, `Request body over ${maxBody} bytes`);
      try {
        body = JSON.parse(text);
      } catch {
        return reply(res, 400, 'Parse error: Invalid JSON', -32700);
      }
    }
    const id = req.headers[SESSION_HEADER];
    if (typeof id !== 'string') {
      if (req.method !== 'POST' || !isInitializeRequest(body)) return reply(res, 400, 'Bad Request: No valid session ID provided');
      return openSession(key, body.params, req, res, body);
    }
    const open = sessions.get(id);
    if (!open) return reply(res, 404, 'Session not found', -32001);
    if (!sameKey(open.keyHash, key)) return reply(res, 403, 'Forbidden: this session belongs to another agent key');
    await open.transport.handleRequest(req, res, body);
  };

  const openSession = async (key: string, params: Parameters<typeof ProxySession.open>[0], req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> => {
    const airlock = createAirlock({ url: options.airlockUrl, apiKey: key });
    try {
      await airlock.tools();
    } catch (error) {
      const refused = error instanceof AirlockUnavailableError && error.refused;
      return reply(res, refused ? 401 : 503, refused ? 'Unauthorized: Airlock refused this agent key' : `Airlock is unavailable: ${(error as Error).message}`);
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      // Registered while the initialize answer is being sent: the client's next request may come at once.
      onsessioninitialized: (id) => {
        sessions.set(id, entry);
      },
    });
    let session: ProxySession;
    try {
      session = await ProxySession.open(params, airlock, settings, () => transport.sessionId);
    } catch (error) {
      settings.log(`cannot reach the upstream MCP server: ${(error as Error).message}`);
      return reply(res, 502, `Airlock could not reach the MCP server: ${(error as Error).message}`, -32603);
    }
    const entry: OpenSession = { transport, session, airlock, keyHash: hashKey(key) };
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
      void session.close().then(() => airlock.close());
    };
    // An upstream that goes away ends the session; the client's next request learns it (404) and may start over.
    void session.upstreamLost.then(async () => {
      settings.log(`session ${transport.sessionId ?? '?'}: the MCP server went away`);
      await session.drain();
      await transport.close();
    });
    await session.server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      settings.log(`request failed: ${(error as Error).message}`);
      if (!res.headersSent) reply(res, 500, 'Internal error', -32603);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}${path}`,
    async close() {
      await Promise.all([...sessions.values()].map((open) => open.transport.close()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function agentKey(req: IncomingMessage): string | undefined {
  const header = req.headers['x-airlock-api-key'];
  if (typeof header === 'string' && header.trim() !== '') return header.trim();
  const bearer = BEARER.exec(req.headers.authorization ?? '');
  return bearer?.[1];
}

function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

function sameKey(expected: Buffer, key: string): boolean {
  return timingSafeEqual(expected, hashKey(key));
}

/** The body as text, or undefined past `limit` bytes. */
async function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON-RPC error as the SDK's own HTTP transport answers it. */
function reply(res: ServerResponse, status: number, message: string, code = -32000): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}
