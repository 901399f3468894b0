import type { Airlock, ToolCall } from '@airlock/sdk';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  ErrorCode,
  ListToolsRequestSchema,
  ResultSchema,
  SetLevelRequestSchema,
  type CallToolRequest,
  type CallToolResult,
  type InitializeRequest,
  type Notification,
  type Request,
  type Result,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { decideCall, refusedResult, withChangedArgs } from './govern.js';
import { relay, RelayedError, type Incoming } from './relay.js';
import { policyToolOf, type ToolMap } from './tool-map.js';
import { upstreamClient, upstreamTransport, type UpstreamOptions } from './upstream.js';

/** What every proxy (stdio or HTTP) is configured with. */
export interface GatewayOptions {
  upstream: UpstreamOptions;
  /** MCP tool name → policy tool name, where they differ. */
  toolMap?: ToolMap;
  /** Hide from `tools/list` the tools every call to which the agent's policy blocks. Default true. */
  hideBlockedTools?: boolean;
  /** How long a call that needs approval waits before it is refused (`approval_timeout`). Default 5 minutes. */
  approvalTimeoutMs?: number;
  /** Progress notifications while a call waits for approval, this often. Default 5 s. */
  progressIntervalMs?: number;
  /** Requests forwarded to either side time out after this long without progress. Default 10 minutes. */
  requestTimeoutMs?: number;
  /** Diagnostics (never protocol traffic). Default: stderr. */
  log?: (message: string) => void;
}

export type SessionSettings = Required<Omit<GatewayOptions, 'upstream'>> & { upstream: UpstreamOptions };

export function sessionSettings(options: GatewayOptions): SessionSettings {
  return {
    upstream: options.upstream,
    toolMap: options.toolMap ?? {},
    hideBlockedTools: options.hideBlockedTools ?? true,
    approvalTimeoutMs: options.approvalTimeoutMs ?? 5 * 60_000,
    progressIntervalMs: options.progressIntervalMs ?? 5_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 10 * 60_000,
    log: options.log ?? ((message) => process.stderr.write(`airlock mcp-proxy: ${message}\n`)),
  };
}

type Extra = RequestHandlerExtra<ServerRequest | Request, ServerNotification | Notification>;

const TOOLS_CALL = z.looseObject({ method: z.literal('tools/call') });

const UPSTREAM_GONE = 'the MCP server behind the Airlock proxy has exited';

/**
 * One client's connection through the proxy: a `Server` facing the client and a `Client` facing
 * the real MCP server, opened when the client's `initialize` arrives (so the real server sees the
 * client's name and the capabilities the proxy can relay, and the client sees the real server's).
 * Everything is forwarded both ways, except `tools/call`, which Airlock decides first, and
 * `tools/list`, from which tools the agent can never call are hidden.
 */
export class ProxySession {
  readonly server: Server;
  /** Settles when the upstream server goes away on its own (a crash, an exit, a closed connection). */
  readonly upstreamLost: Promise<void>;
  private upstreamOpen = true;
  private closing = false;
  private readonly inflight = new Set<Promise<unknown>>();

  private constructor(
    private readonly client: Client,
    private readonly airlock: Airlock,
    private readonly settings: SessionSettings,
    private readonly decisionSession: () => string | undefined,
    lost: Promise<void>,
  ) {
    this.upstreamLost = lost;
    const { tasks: _tasks, ...offered } = client.getServerCapabilities() ?? {};
    const server = new Server(client.getServerVersion() ?? { name: 'mcp-server', version: '0.0.0' }, {
      // tools/call is always governed here, so the tools capability is always offered.
      capabilities: { ...offered, tools: offered.tools ?? {} },
      ...(client.getInstructions() ? { instructions: client.getInstructions() } : {}),
    });
    this.server = server;
    // Registered with the method alone: the SDK's tools/call wrapper then validates the params and
    // answers -32602 Invalid params, where a full schema here would fail first as -32603.
    server.setRequestHandler(TOOLS_CALL, (request, extra) => {
      const call = CallToolRequestSchema.parse(request);
      // Traced (docs/observability.md): one `tools/call {tool}` span (OpenTelemetry MCP conventions),
      // the child of the span the client named in `_meta.traceparent` (MCP SEP-414) or a new trace's
      // root, holding the decision, approval wait and execute_tool spans.
      const span = { name: `tools/call ${call.params.name}`, attributes: { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': call.params.name } };
      return this.track(this.airlock.withTraceContext(call.params._meta, span, () => this.callTool(call, extra)));
    });
    server.setRequestHandler(ListToolsRequestSchema, (request, extra) => this.track(this.listTools(request, extra)));
    // The SDK answers logging/setLevel itself when logging is offered; the real server must hear it.
    if (offered.logging) server.setRequestHandler(SetLevelRequestSchema, (request, extra) => this.track(this.forward(request, extra)));
    server.fallbackRequestHandler = (request, extra) => this.track(this.forward(request, extra));
    // Only notifications are passed on as notifications: a `tools/call` sent without an id must not
    // reach a server that might act on it ungoverned.
    server.fallbackNotificationHandler = async (notification) => {
      if (notification.method.startsWith('notifications/')) await this.client.notification(notification);
    };
    client.fallbackRequestHandler = (request, extra) =>
      relay((r, options) => server.request(r, ResultSchema, options), request, extra as Incoming, this.settings.requestTimeoutMs);
    client.fallbackNotificationHandler = (notification) => server.notification(notification);
  }

  /** Connects to the upstream server on behalf of the client whose `initialize` this is. */
  static async open(
    initialize: InitializeRequest['params'],
    airlock: Airlock,
    settings: SessionSettings,
    decisionSession: () => string | undefined = () => undefined,
  ): Promise<ProxySession> {
    const client = upstreamClient(initialize.clientInfo, initialize.capabilities);
    const opened: { session?: ProxySession } = {};
    let markLost: () => void = () => undefined;
    const lost = new Promise<void>((resolve) => (markLost = resolve));
    client.onclose = () => {
      if (opened.session) opened.session.upstreamOpen = false;
      if (!opened.session?.closing) markLost();
    };
    await client.connect(upstreamTransport(settings.upstream), { timeout: settings.requestTimeoutMs });
    opened.session = new ProxySession(client, airlock, settings, decisionSession, lost);
    return opened.session;
  }

  /** Waits until every request being answered has its answer. */
  async drain(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.server.close().catch(() => undefined);
    await this.client.close().catch(() => undefined);
  }

  private async callTool(request: CallToolRequest, extra: Extra): Promise<CallToolResult> {
    this.assertUpstream();
    const { name, arguments: args, task: _task, ...rest } = request.params;
    const session = this.decisionSession();
    const call: ToolCall = { tool: policyToolOf(this.settings.toolMap, name), args: args ?? {}, ...(session ? { session } : {}) };
    const verdict = await decideCall(this.airlock, call, extra as Incoming, this.settings);
    if (verdict.outcome === 'refused') return refusedResult(verdict.refusal);
    if (verdict.outcome === 'pending') return { content: [{ type: 'text', text: JSON.stringify(verdict.pending) }], isError: true };
    // A call the client gave up on does not run (the SDK sends no answer to a cancelled request).
    if (extra.signal.aborted) throw new RelayedError(ErrorCode.InvalidRequest, 'the request was cancelled before it ran');
    this.assertUpstream();
    // Exactly the arguments Airlock says to run: an approver may have changed them.
    const forwarded: Request = { method: 'tools/call', params: { ...rest, name, arguments: verdict.args } };
    // Run through Airlock, which reports the outcome: an upstream error (thrown) or a tool error
    // (`isError`) is a failed call, anything else succeeded (docs/outcomes.md). Traced, this is the
    // execute_tool span, and the upstream server is told it is that span's child.
    const result = await this.airlock.run(
      verdict,
      () => this.send(withTraceContext(forwarded, this.airlock.traceContext()), extra, (r, options) => this.client.request(r, CallToolResultSchema, options)),
      toolFailure,
    );
    return verdict.edited ? withChangedArgs(result as CallToolResult, verdict.args) : (result as CallToolResult);
  }

  private async listTools(request: Request, extra: Extra): Promise<Result> {
    const result = await this.forward(request, extra);
    if (!this.settings.hideBlockedTools || !Array.isArray(result.tools)) return result;
    let reachable: Set<string>;
    try {
      reachable = new Set((await this.airlock.tools()).filter((tool) => tool.reach === 'open').map((tool) => tool.tool));
    } catch (error) {
      // Hiding is a courtesy to the model; every call is still decided. When unsure, hide nothing.
      this.settings.log(`tools/list: showing every tool, Airlock could not say which are blocked: ${(error as Error).message}`);
      return result;
    }
    const tools = (result.tools as { name?: unknown }[]).filter((tool) => typeof tool.name === 'string' && reachable.has(policyToolOf(this.settings.toolMap, tool.name)));
    return { ...result, tools };
  }

  private forward(request: Request, extra: Extra): Promise<Result> {
    return this.send(request, extra, (r, options) => this.client.request(r, ResultSchema, options));
  }

  private async send(request: Request, extra: Extra, send: Parameters<typeof relay>[0]): Promise<Result> {
    this.assertUpstream();
    try {
      return await relay(send, request, extra as Incoming, this.settings.requestTimeoutMs);
    } catch (error) {
      if (!this.upstreamOpen) throw new RelayedError(ErrorCode.ConnectionClosed, `${UPSTREAM_GONE} before it answered ${request.method}`);
      throw error;
    }
  }

  private assertUpstream(): void {
    if (!this.upstreamOpen) throw new RelayedError(ErrorCode.ConnectionClosed, UPSTREAM_GONE);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inflight.add(promise);
    const forget = (): void => {
      this.inflight.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  }
}

/** The request with `_meta.traceparent` (and `tracestate`) naming the gateway's span in place of the client's; unchanged when tracing is off. */
function withTraceContext(request: Request, trace: { traceparent: string; tracestate?: string } | undefined): Request {
  if (!trace) return request;
  const { traceparent: _parent, tracestate: _state, ...meta } = request.params?._meta ?? {};
  return { ...request, params: { ...request.params, _meta: { ...meta, ...trace } } };
}

/** A tool result that reports an error in the tool's own terms (`isError`): a failed call, its text the message. */
function toolFailure(result: Result): { class: string; message: string } | undefined {
  const tool = result as CallToolResult;
  if (tool.isError !== true) return undefined;
  const text = (tool.content ?? []).flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n');
  return { class: 'ToolError', message: text || 'the tool reported an error' };
}
