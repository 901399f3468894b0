import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { McpError, type Notification, type Progress, type ProgressToken, type Request, type Result } from '@modelcontextprotocol/sdk/types.js';

/** Sends a request to one side of the proxy: the upstream server (through the Client) or the client (through the Server). */
export type SendRequest = (request: Request, options: RequestOptions) => Promise<Result>;

/** What the proxy knows of the request it is answering: the SDK's request handler `extra`, in part. */
export interface Incoming {
  signal: AbortSignal;
  _meta?: { progressToken?: ProgressToken };
  sendNotification(notification: Notification & { method: 'notifications/progress'; params: Progress & { progressToken: ProgressToken } }): Promise<void>;
}

/** An error answered on the other side with its own code, message and data. */
export class RelayedError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RelayedError';
  }
}

/**
 * Forwards a request to the other side and answers what it answers. The sender's progress token
 * is not passed on (the SDK issues its own per request); progress coming back is re-sent with the
 * sender's token. Cancelling the incoming request cancels the forwarded one. An error from the
 * other side keeps its JSON-RPC code and message.
 */
export async function relay(send: SendRequest, request: Request, incoming: Incoming, timeoutMs: number): Promise<Result> {
  const { params, token } = withoutProgressToken(request.params);
  const onprogress =
    token === undefined
      ? undefined
      : (progress: Progress) => {
          incoming.sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken: token } }).catch(() => undefined);
        };
  try {
    return await send(
      { method: request.method, ...(params ? { params } : {}) },
      { signal: incoming.signal, timeout: timeoutMs, resetTimeoutOnProgress: true, ...(onprogress ? { onprogress } : {}) },
    );
  } catch (error) {
    throw relayedError(error);
  }
}

/** The SDK prefixes McpError messages with "MCP error <code>: "; the other side adds its own. */
export function relayedError(error: unknown): RelayedError {
  if (error instanceof McpError) return new RelayedError(error.code, error.message.replace(/^MCP error -?\d+: /, ''), error.data);
  if (error instanceof RelayedError) return error;
  return new RelayedError(-32603, error instanceof Error ? error.message : String(error));
}

function withoutProgressToken(params: Request['params']): { params: Request['params']; token: ProgressToken | undefined } {
  const meta = params?._meta;
  if (!params || !meta || meta.progressToken === undefined) return { params, token: undefined };
  const { progressToken, ...rest } = meta;
  const stripped = { ...params };
  if (Object.keys(rest).length > 0) stripped._meta = rest;
  else delete stripped._meta;
  return { params: stripped, token: progressToken };
}
