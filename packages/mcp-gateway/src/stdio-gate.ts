import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, type JSONRPCMessage, type MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';

/**
 * The SDK's stdio server transport, started before the proxy's `Server` exists (the proxy reads
 * the client's `initialize` first) and answering lines that are not JSON-RPC: the SDK's transport
 * reports them as errors and answers nothing, which would leave the client waiting. A line that is
 * not JSON gets `-32700 Parse error`, JSON that is not a JSON-RPC message `-32600 Invalid
 * Request`, both with `id: null` as JSON-RPC 2.0 prescribes; the next line is read as usual.
 */
export class StdioGate implements Transport {
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private readonly inner: StdioServerTransport;

  constructor(stdin: Readable, stdout: Writable) {
    this.inner = new StdioServerTransport(stdin, stdout);
    this.inner.onmessage = (message) => this.onmessage?.(message);
    this.inner.onclose = () => this.onclose?.();
    this.inner.onerror = (error) => {
      this.answerMalformed(error);
      this.onerror?.(error);
    };
  }

  /** Starts reading stdin; `start` (called by `Server.connect`) then has nothing left to do. */
  open(): Promise<void> {
    return this.inner.start();
  }

  async start(): Promise<void> {}

  /** Hands a message read earlier to whoever listens now (the proxy's Server, once connected). */
  deliver(message: JSONRPCMessage): void {
    this.onmessage?.(message);
  }

  send(message: JSONRPCMessage, _options?: TransportSendOptions): Promise<void> {
    return this.inner.send(message);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private answerMalformed(error: Error): void {
    const code = error instanceof SyntaxError ? ErrorCode.ParseError : isValidationError(error) ? ErrorCode.InvalidRequest : undefined;
    if (code === undefined) return;
    const message = code === ErrorCode.ParseError ? `Parse error: ${error.message}` : 'Invalid Request: not a JSON-RPC 2.0 message';
    // JSON-RPC 2.0: when the id cannot be read, the error's id is null (the SDK's types only allow it absent).
    const reply = { jsonrpc: '2.0', id: null, error: { code, message } } as unknown as JSONRPCMessage;
    this.inner.send(reply).catch(() => undefined);
  }
}

function isValidationError(error: Error): boolean {
  return Array.isArray((error as { issues?: unknown }).issues);
}
