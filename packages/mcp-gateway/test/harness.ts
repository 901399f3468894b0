import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, type CallToolResult, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { expect, onTestFinished } from 'vitest';

/** The proxy is the built `airlock` binary, run as `npx airlock mcp-proxy` runs it. */
export const BIN = 'packages/cli/bin/airlock.js';
const FIXTURE = 'packages/mcp-gateway/test/fixtures/support-server-stdio.ts';

/** The command that starts the fixture MCP server (TypeScript, through tsx), recording into `record`. */
export function fixtureCommand(record: string): string[] {
  return [process.execPath, '--import', 'tsx', FIXTURE, record];
}

/** A temporary directory, removed when the current test finishes. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-mcp-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Received {
  tool: string;
  args: Record<string, unknown>;
}

function lines(record: string): (Received & { pid: number; traceparent?: string })[] {
  if (!existsSync(record)) return [];
  return readFileSync(record, 'utf8')
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Received & { pid: number; traceparent?: string });
}

/** What the fixture server received, in order. */
export function received(record: string): Received[] {
  return lines(record).map(({ tool, args }) => ({ tool, args }));
}

/** The `_meta.traceparent` each call reached the fixture server with (undefined: none), in order. */
export function traceparents(record: string): (string | undefined)[] {
  return lines(record).map((line) => line.traceparent);
}

/** The process ids of the fixture servers that received the calls, in order. */
export function receivers(record: string): number[] {
  return lines(record).map((line) => line.pid);
}

export interface Connected {
  client: Client;
  /** The proxy's stderr so far. */
  stderr: () => string;
  /** Settles when the connection to the proxy closes. */
  closed: Promise<void>;
}

function newClient(elicit?: (message: string) => ElicitResult): { client: Client; closed: Promise<void> } {
  const client = new Client({ name: 'gateway-test', version: '1.0.0' }, { capabilities: elicit ? { elicitation: { form: {} } } : {} });
  if (elicit) client.setRequestHandler(ElicitRequestSchema, async (request) => elicit(request.params.message));
  const closed = new Promise<void>((resolve) => (client.onclose = resolve));
  onTestFinished(() => client.close());
  return { client, closed };
}

/** The SDK's Client over stdio to `airlock mcp-proxy <args>`, started as a child process. */
export async function stdioClient(args: string[], options: { elicit?: (message: string) => ElicitResult; env?: Record<string, string> } = {}): Promise<Connected> {
  const { client, closed } = newClient(options.elicit);
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp-proxy', ...args], stderr: 'pipe', env: { ...(process.env as Record<string, string>), ...options.env } });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  await client.connect(transport);
  return { client, stderr: () => stderr, closed };
}

/** `airlock mcp-proxy --listen 127.0.0.1:0 <args>` as a child process; resolves with the URL it serves once it listens. */
export async function httpProxy(args: string[]): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(process.execPath, [BIN, 'mcp-proxy', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  onTestFinished(() => {
    child.kill('SIGTERM');
  });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      const match = /serving MCP at (\S+)/.exec(stderr);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`the proxy exited (${code}): ${stderr}`)));
  });
  return { url, process: child };
}

/** The SDK's Client over Streamable HTTP to the proxy, presenting an agent key. */
export async function httpClient(url: string, key: string, headerName: 'authorization' | 'x-airlock-api-key' = 'authorization'): Promise<Connected> {
  const { client, closed } = newClient();
  const value = headerName === 'authorization' ? `Bearer ${key}` : key;
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { [headerName]: value } } }));
  return { client, stderr: () => '', closed };
}

/** The text of a tool result's first content item. */
export function text(result: unknown): string {
  const first = (result as CallToolResult).content[0];
  return first?.type === 'text' ? first.text : '';
}

/** A refusal as the model reads it, from a tool error result. */
export function refusalOf(result: unknown): { airlock: string; code: string; rule: string | null; reason: string } {
  expect((result as CallToolResult).isError).toBe(true);
  return JSON.parse(text(result)) as { airlock: string; code: string; rule: string | null; reason: string };
}

/** Lines a child writes, one at a time (for raw JSON-RPC over stdio). */
export function lineReader(stream: NodeJS.ReadableStream): () => Promise<string> {
  const lines: string[] = [];
  const waiters: ((line: string) => void)[] = [];
  let buffer = '';
  const through = new PassThrough();
  stream.pipe(through);
  through.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let end: number;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  return () => {
    const line = lines.shift();
    return line !== undefined ? Promise.resolve(line) : new Promise((resolve) => waiters.push(resolve));
  };
}
