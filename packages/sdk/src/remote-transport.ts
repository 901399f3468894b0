import { appendFileSync } from 'node:fs';
import type { ToolReach } from '@airlock/core';
import { Pool } from 'undici';
import { traceHeadersFor, type TraceHeaders, type TracingOption } from './tracing.js';
import { apiPath, type ApiMethod, type ApiPath, type ApiRequest, type ApiResponse, type components } from './api/index.js';
import { OutcomeBatcher, type ExecutionOutcome, type OutcomeReport } from './outcomes.js';
import type { DecideOptions, Transport } from './transport.js';
import { AirlockAlreadyRanError, AirlockUnavailableError, type AirlockDecision, type ApprovalState, type ApprovalStatus, type ToolCall } from './types.js';

export interface RemoteOptions {
  /** Server base URL, e.g. http://127.0.0.1:7300 */
  url: string;
  /** The agent's API key: it fixes the agent id, role and environment. */
  apiKey: string;
  /** Per-request timeout for decisions and redemptions. Default 5 s. */
  timeoutMs?: number;
  /** JSONL file where calls that ran while the server was unreachable are recorded (fail-open tools). */
  failOpenJournal?: string;
  /**
   * A fetch implementation to send requests with (tests, proxies, custom TLS). Default: a
   * keep-alive connection pool (undici) to the server, which costs the call a quarter of what the
   * global fetch does on loopback (bench/README.md, SDK).
   */
  fetch?: typeof fetch;
  /** Send the active span's trace context (W3C `traceparent`) with each request: see `AirlockOptions.tracing`. */
  tracing?: TracingOption;
  /**
   * Execution outcomes (docs/outcomes.md): reported by default, batched off the tool's path and
   * sent every `flushMs` (default 200) and on close; `false` turns reporting off.
   */
  outcomes?: false | { flushMs?: number };
}

/** What the transport needs of an HTTP response. */
interface HttpAnswer {
  status: number;
  json(): Promise<unknown>;
}

type HttpSend = (method: string, path: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal) => Promise<HttpAnswer>;

function fetchSender(base: string, fetchImpl: typeof fetch): HttpSend {
  return async (method, path, headers, body, signal) => {
    const response = await fetchImpl(`${base}${path}`, { method, headers, body, signal });
    return { status: response.status, json: () => response.json() as Promise<unknown> };
  };
}

/** Requests over a pool of keep-alive connections to the server's origin; a path prefix in the URL is kept. */
function poolSender(base: string): { send: HttpSend; close: () => Promise<void> } {
  const url = new URL(base);
  const prefix = url.pathname.replace(/\/+$/, '');
  const pool = new Pool(url.origin, { connections: 16 });
  return {
    send: async (method, path, headers, body, signal) => {
      const response = await pool.request({ method: method as 'GET' | 'POST', path: `${prefix}${path}`, headers, body: body ?? null, signal });
      return { status: response.statusCode, json: () => response.body.json() };
    },
    close: () => pool.close(),
  };
}

/** A request body that is JSON already (edge batches are joined from spooled lines), sent as is. */
class EncodedJson {
  constructor(readonly text: string) {}
}

/** Decisions from an Airlock server over HTTP. Any failure to get a valid answer is AirlockUnavailableError. */
export class RemoteTransport implements Transport {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly send: HttpSend;
  private readonly closePool: (() => Promise<void>) | undefined;
  private readonly traceHeaders: TraceHeaders | undefined;
  /** Outcomes waiting for their batch; made at the first outcome. */
  private outcomes: OutcomeBatcher | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: RemoteOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.traceHeaders = traceHeadersFor(options.tracing);
    if (options.fetch) {
      this.send = fetchSender(this.base, options.fetch);
    } else {
      const pool = poolSender(this.base);
      this.send = pool.send;
      this.closePool = pool.close;
    }
  }

  async decide(call: ToolCall, options: DecideOptions = {}): Promise<AirlockDecision> {
    const headers: Record<string, string> = {};
    if (options.idempotencyKey !== undefined) {
      headers['idempotency-key'] = options.idempotencyKey;
      if (options.claim !== undefined) headers['airlock-claim'] = options.claim;
      if (options.repeat !== undefined) headers['airlock-repeat'] = options.repeat;
    }
    const send = () =>
      this.request(
        'POST',
        '/v1/decide',
        { body: { tool: call.tool, args: call.args, session: call.session, sessionAttributes: call.sessionAttributes, intent: call.intent } },
        this.timeoutMs,
        [200, 503],
        headers,
      );
    let body: Answer<'POST', '/v1/decide'>;
    try {
      body = await send();
    } catch (error) {
      // A claim whose answer was lost is asked again once, with the same key and claim id: the
      // server answers the same claim (or refusal), never a second run.
      if (headers['airlock-claim'] === undefined || !(error instanceof AirlockUnavailableError) || error.refused) throw error;
      body = await send();
    }
    if (!isDecision(body)) throw new AirlockUnavailableError('the server answered something that is not a decision');
    return body;
  }

  async waitForApproval(approvalId: string, timeoutMs: number, signal?: AbortSignal): Promise<ApprovalState> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const remaining = deadline - Date.now();
      const seconds = Math.max(0, Math.min(60, Math.floor(remaining / 1000)));
      const body = await this.request(
        'GET',
        '/v1/approvals/{id}/wait',
        { params: { id: approvalId }, query: { timeout: seconds } },
        seconds * 1000 + this.timeoutMs,
        [200],
        {},
        signal,
      );
      const state = approvalState(body);
      if (state.status !== 'pending' || Date.now() >= deadline - 1000 || signal?.aborted) return state;
    }
  }

  async redeem(approvalId: string, call: ToolCall): Promise<ApprovalState> {
    const body = await this.request(
      'POST',
      '/v1/approvals/{id}/redeem',
      { params: { id: approvalId }, body: { tool: call.tool, args: call.args, sessionAttributes: call.sessionAttributes } },
      this.timeoutMs,
    );
    return approvalState(body);
  }

  async tools(): Promise<ToolReach[]> {
    const body = await this.request('GET', '/v1/agent/tools', {}, this.timeoutMs);
    const tools = body?.tools;
    if (!Array.isArray(tools) || !tools.every(isToolReach)) throw new AirlockUnavailableError('the server answered something that is not a tool list');
    return tools;
  }

  /** Edge mode: sends a batch of in-process allows (`{"decisions":[…]}`, already JSON) to be audited. */
  async reportEdge(body: string): Promise<void> {
    await this.request('POST', '/v1/edge/decisions', { body: new EncodedJson(body) }, this.timeoutMs);
  }

  reportOutcome(outcome: ExecutionOutcome): void {
    if (this.options.outcomes === false || outcome.decision.at === undefined) return;
    (this.outcomes ??= new OutcomeBatcher({ send: (reports) => this.postOutcomes(reports), flushMs: this.options.outcomes?.flushMs })).push(outcome);
  }

  /** Outcomes reported and not sent yet are sent now (tests, a process about to exit). */
  async flushOutcomes(): Promise<void> {
    await this.outcomes?.flush();
  }

  /** One batch of outcomes, one POST. The server answers each recorded or refused; a refusal is final. */
  async postOutcomes(reports: OutcomeReport[]): Promise<void> {
    await this.request('POST', '/v1/outcomes', { body: { outcomes: reports } }, this.timeoutMs);
  }

  recordFailOpen(call: ToolCall, error: Error): void {
    if (!this.options.failOpenJournal) return;
    const record = { at: new Date().toISOString(), event: 'fail_open', tool: call.tool, args: call.args, session: call.session, error: error.message };
    appendFileSync(this.options.failOpenJournal, `${JSON.stringify(record)}\n`);
  }

  async close(): Promise<void> {
    // Once: the outcomes still buffered are sent before the connections close.
    this.closing ??= (async () => {
      await this.outcomes?.close();
      await this.closePool?.();
    })();
    await this.closing;
  }

  /**
   * One request to a route of the API, typed by its generated description (`@airlock/sdk/api`).
   * The answer is parsed, not yet checked: each caller checks what it relies on.
   */
  private async request<M extends ApiMethod, P extends ApiPath<M>>(
    method: M,
    route: P,
    { params, query, body }: ApiRequest<M, P> | { params?: undefined; query?: undefined; body: EncodedJson },
    timeoutMs: number,
    accept: number[] = [200],
    headers: Record<string, string> = {},
    cancel?: AbortSignal,
  ): Promise<Answer<M, P>> {
    const path = params === undefined && query === undefined ? route : apiPath(route, params as Record<string, string> | undefined, query);
    let response: HttpAnswer;
    try {
      const timeout = AbortSignal.timeout(timeoutMs);
      response = await this.send(
        method,
        path,
        { authorization: `Bearer ${this.options.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers, ...this.traceHeaders?.() },
        body === undefined ? undefined : body instanceof EncodedJson ? body.text : JSON.stringify(body),
        cancel ? AbortSignal.any([timeout, cancel]) : timeout,
      );
    } catch (error) {
      throw new AirlockUnavailableError(`cannot reach Airlock at ${this.base}: ${(error as Error).message}`, { cause: error });
    }
    let payload: unknown;
    try {
      payload = await response.json();
    } catch (error) {
      throw new AirlockUnavailableError(`Airlock answered ${response.status} without JSON`, { cause: error });
    }
    if (!accept.includes(response.status)) {
      const error = (payload as { error?: { code?: string; message?: string; decisionId?: string; firstRunAt?: string } } | null)?.error;
      if (response.status === 409 && error?.code === 'already_ran') {
        throw new AirlockAlreadyRanError(`Airlock refused the run: ${error.message ?? 'the call already ran'}`, String(error.decisionId), String(error.firstRunAt));
      }
      const message = error?.message ?? `HTTP ${response.status}`;
      // A 4xx is the server's considered answer; a 5xx means it could not give one.
      throw new AirlockUnavailableError(`Airlock refused the request: ${message}`, { refused: response.status >= 400 && response.status < 500 });
    }
    return payload as Answer<M, P>;
  }
}

/** The answer of a route as it arrives: the described shape or, from a broken or hostile server, anything. */
type Answer<M extends ApiMethod, P extends ApiPath<M>> = Partial<ApiResponse<M, P>> | null | undefined;

type Schemas = components['schemas'];

/** The answer checked where the guard relies on it: an effect, a reason, an id. */
function isDecision(value: Answer<'POST', '/v1/decide'>): value is Schemas['DecisionResponse'] {
  if (value === null || typeof value !== 'object') return false;
  return ['allow', 'require_approval', 'block'].includes(value.effect as string) && typeof value.reason === 'string' && typeof value.id === 'string';
}

function isToolReach(value: unknown): value is Schemas['ToolReach'] {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Partial<Schemas['ToolReach']>;
  return typeof v.tool === 'string' && (v.reach === 'open' || v.reach === 'blocked');
}

const APPROVAL_STATUSES: ReadonlySet<string> = new Set<ApprovalStatus>(['pending', 'approved', 'denied', 'expired', 'redeemed']);

/** The server's approval view: `args` are the approved arguments, `resolutionReason` the approver's words. */
function approvalState(v: Answer<'GET', '/v1/approvals/{id}/wait'>): ApprovalState {
  if (!v || typeof v.id !== 'string' || !APPROVAL_STATUSES.has(v.status as string) || !v.args || typeof v.args !== 'object') {
    throw new AirlockUnavailableError('the server answered something that is not an approval');
  }
  return { id: v.id, status: v.status as ApprovalStatus, args: v.args, reason: v.resolutionReason ?? null, resolvedBy: v.resolvedBy ?? null };
}
