import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { MAX_JSON_DEPTH, nestsDeeperThan, type ToolReach } from '@airlock/core';
import { LocalTransport, type LocalOptions } from './local-transport.js';
import { RemoteTransport, type RemoteOptions } from './remote-transport.js';
import { EdgeTransport, type EdgeOptions } from './edge-transport.js';
import { approvalRefusal, refusal } from './refusal.js';
import { Tracing, type TraceCarrier, type TracingOption } from './tracing.js';
import type { DecideOptions, Transport } from './transport.js';
import type { ExecutionOutcome } from './outcomes.js';
import {
  AirlockAlreadyRanError,
  AirlockRefusalError,
  AirlockUnavailableError,
  type AirlockDecision,
  type EditedResult,
  type GuardOptions,
  type PendingApproval,
  type Refusal,
  type SessionContext,
  type ToolCall,
  type Verdict,
} from './types.js';

export type AirlockOptions = (EdgeOptions | RemoteOptions | LocalOptions) & {
  /** Defaults for every guarded tool; each guard may override them. */
  defaults?: GuardOptions;
  /** Called when a fail-open tool ran without a decision. */
  onFailOpen?: (call: ToolCall, error: Error) => void;
  /**
   * OpenTelemetry spans for every governed call: the decision, approval waits and the tool's
   * execution (docs/observability.md). Default: on when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
   */
  tracing?: TracingOption;
};

export interface CheckOptions extends GuardOptions {
  /** Decide this call once; see DecideOptions.idempotencyKey. */
  idempotencyKey?: string;
  /**
   * With a key: the call runs right after this check if it is allowed (the adapters' run path).
   * The decision is claimed for this run; one that already ran is refused `already_ran` unless
   * `repeat` is `decide`. A check without `claim` only reads the decision (approval flows).
   */
  claim?: boolean;
  /** With a key whose decision already ran: see DecideOptions.repeat. */
  repeat?: 'decide' | 'refuse';
  /** The framework's id of this tool call, for traces (`gen_ai.tool.call.id`). */
  toolCallId?: string;
}

/** What a guarded function resolves to: its own result, or what Airlock says instead. */
export type Guarded<T> = T | EditedResult<T> | Refusal | PendingApproval;

const DEFAULT_APPROVAL_TIMEOUT_MS = 5 * 60_000;
/** Decisions of approvals answered `pending`, kept so a later `resume` reports its outcome under them. */
const MAX_AWAITED = 10_000;

/** Tells a result that is a failure in the tool's own terms (an MCP result with `isError`). */
export type FailureOf<T> = (result: T) => { class: string; message: string } | undefined;

/**
 * The client an agent's tools go through. `check` asks for a verdict; `guard` wraps a function so
 * it runs only when allowed or approved, and only with the approved arguments.
 */
export class Airlock {
  readonly transport: Transport;
  private readonly defaults: GuardOptions;
  private readonly onFailOpen: AirlockOptions['onFailOpen'];
  /** Undefined when tracing is off: then one check per call is all it costs. */
  private readonly tracing: Tracing | undefined;
  private readonly awaited = new Map<string, AirlockDecision>();

  constructor(options: AirlockOptions, transport?: Transport) {
    this.transport = transport ?? ('policy' in options ? new LocalTransport(options) : 'edge' in options && options.edge ? new EdgeTransport(options) : new RemoteTransport(options));
    this.defaults = options.defaults ?? {};
    this.onFailOpen = options.onFailOpen;
    this.tracing = Tracing.from(options.tracing, !(this.transport instanceof LocalTransport));
  }

  /**
   * Decides a call and, per the approval mode, waits for a person; nothing runs here. With an
   * `idempotencyKey` (the adapters derive one from the framework's tool call id) the call is
   * decided once: checking it again answers the same decision and finds the same approval.
   */
  /**
   * Runs `fn` with a session context bound: every call governed inside it (guards, framework
   * adapters, `check`), however deep and however asynchronous, carries the session's id,
   * attributes and intent. Contexts do not leak between concurrent sessions (AsyncLocalStorage).
   */
  session<T>(context: SessionContext, fn: () => T): T {
    return sessionStorage.run(context, fn);
  }

  /**
   * Runs `fn` inside a span of its own (kind SERVER, e.g. a gateway's `tools/call {tool}`), the
   * child of the remote caller's span named by W3C trace context (e.g. an MCP request's
   * `params._meta.traceparent`), or a new trace's root without one: the calls governed inside
   * trace into it. Tracing off: just `fn()`.
   */
  withTraceContext<T>(carrier: TraceCarrier | undefined, span: { name: string; attributes?: Record<string, string | number | boolean> }, fn: () => Promise<T>): Promise<T> {
    return this.tracing ? this.tracing.serverSpan(carrier, span.name, span.attributes ?? {}, fn) : fn();
  }

  /** The active span (inside `run`, the `execute_tool` span) as W3C trace context to send on; undefined when tracing is off or no span is active. */
  traceContext(): { traceparent: string; tracestate?: string } | undefined {
    return this.tracing?.carrier();
  }

  async check(given: ToolCall, options: CheckOptions = {}): Promise<Verdict> {
    if (!this.tracing) return this.checkCall(given, options);
    const verdict = await this.checkCall(given, options);
    this.tracing.remember(verdict, given.tool, options.toolCallId);
    return verdict;
  }

  private async checkCall(given: ToolCall, options: CheckOptions): Promise<Verdict> {
    const call = inSession(given);
    const settings = { ...this.defaults, ...options };
    const tooDeep = refuseTooDeep(call);
    if (tooDeep) return tooDeep;
    let decision: AirlockDecision;
    try {
      decision = await (this.tracing
        ? this.tracing.decision(call, options.toolCallId, () => this.transport.decide(call, decideOptions(options)))
        : this.transport.decide(call, decideOptions(options)));
    } catch (error) {
      return this.unavailable(call, error, settings);
    }
    return this.verdict(call, decision, settings);
  }

  /** What a decision means for the call: run it, refuse it, or (for an approval) wait or report pending. */
  private async verdict(call: ToolCall, decision: AirlockDecision, settings: GuardOptions): Promise<Verdict> {
    if (decision.effect === 'allow') return { outcome: 'run', tool: call.tool, args: call.args, edited: false, decision };
    if (decision.effect === 'block') return refused(call, decision.error?.code ?? 'policy', decision.reason, decision.rule, decision.id);
    const approval = decision.approval;
    if (!approval) return refused(call, 'airlock_unavailable', 'approval required but none was opened', decision.rule, decision.id);
    if ((settings.approval ?? 'wait') === 'return') {
      if (this.awaited.size >= MAX_AWAITED) this.awaited.clear();
      this.awaited.set(approval.id, decision);
      const who = `${approval.approvers.join(', ') || 'a person'}${approval.required > 1 ? ` (${approval.required} different people)` : ''}`;
      return {
        outcome: 'pending',
        pending: {
          airlock: 'approval_pending',
          tool: call.tool,
          approvalId: approval.id,
          reason: decision.reason,
          approvers: [...approval.approvers],
          required: approval.required,
          expiresAt: approval.expiresAt,
          message: `This action needs approval from ${who}: ${decision.reason}. Do not retry it; tell the user it is waiting for approval.`,
        },
      };
    }
    return this.awaitApproval(call, approval.id, decision, settings);
  }

  /** Completes a call whose approval was requested earlier (approval mode `return`, or a resumed run). */
  async resume(call: ToolCall, approvalId: string, options: GuardOptions = {}): Promise<Verdict> {
    const settings = { ...this.defaults, ...options };
    const decision = this.awaited.get(approvalId);
    this.awaited.delete(approvalId);
    const verdict = await this.awaitApproval(call, approvalId, decision, settings);
    this.tracing?.remember(verdict, call.tool, undefined);
    return verdict;
  }

  /**
   * Wraps a tool function: it runs only when Airlock allows the call, or after approval with the
   * approved arguments. Otherwise it resolves to the refusal or pending approval (or throws
   * AirlockRefusalError with `onBlock: 'throw'`).
   */
  guard<A extends Record<string, unknown>, T>(
    tool: string,
    fn: (args: A) => T | Promise<T>,
    options: GuardOptions & { session?: () => string | undefined } = {},
  ): (args: A) => Promise<Guarded<T>> {
    // Traced calls take the asynchronous path, where their spans are made.
    const decideSync = this.tracing ? undefined : this.transport.decideSync?.bind(this.transport);
    if (!decideSync) {
      return async (args: A) => {
        const call: ToolCall = { tool, args, session: options.session?.() };
        return this.execute(await this.check(call, options), fn, options);
      };
    }
    // A transport that decides without I/O (local mode): an allowed call runs straight away, with
    // no promise of Airlock's own in between; anything else takes the same path as `check`.
    return (args: A) => {
      const call = inSession({ tool, args, session: options.session?.() });
      const tooDeep = refuseTooDeep(call);
      if (tooDeep) return this.execute(tooDeep, fn, options);
      let decision: AirlockDecision | undefined;
      try {
        decision = decideSync(call);
      } catch (error) {
        return this.execute(this.unavailable(call, error, { ...this.defaults, ...options }), fn, options);
      }
      if (decision === undefined) return this.check(call, options).then((verdict) => this.execute(verdict, fn, options));
      if (decision.effect === 'allow') {
        if (this.transport.reportOutcome) return this.timed(tool, decision, fn, args);
        try {
          return Promise.resolve(fn(args));
        } catch (error) {
          // The tool's own failure, unchanged, as `await fn(args)` in an async function would reject.
          return Promise.reject(error);
        }
      }
      return this.verdict(call, decision, { ...this.defaults, ...options }).then((verdict) => this.execute(verdict, fn, options));
    };
  }

  /** Runs `fn` according to a verdict: the shared last step of `guard` and the framework adapters. */
  async execute<A extends Record<string, unknown>, T>(
    verdict: Verdict,
    fn: (args: A) => T | Promise<T>,
    options: GuardOptions = {},
    failure?: FailureOf<Awaited<T>>,
  ): Promise<Guarded<T>> {
    if (verdict.outcome === 'pending') return verdict.pending;
    if (verdict.outcome === 'refused') {
      if ((options.onBlock ?? this.defaults.onBlock) === 'throw') throw new AirlockRefusalError(verdict.refusal);
      return verdict.refusal;
    }
    const result = await this.run(verdict, fn, failure);
    if (!verdict.edited) return result;
    return { airlock: 'approved_with_changes', args: verdict.args, result };
  }

  /**
   * Runs the function of a call Airlock let through, with the verdict's arguments, and reports
   * what happened (docs/outcomes.md): started, duration, succeeded or failed (a throw, or a result
   * `failure` says is one), the result's digest. Resolves to the function's own result. `execute`
   * and the adapters run through it; use it directly when the result needs no wrapping (a gateway).
   */
  run<A extends Record<string, unknown>, T>(verdict: Verdict & { outcome: 'run' }, fn: (args: A) => T | Promise<T>, failure?: FailureOf<Awaited<T>>): Promise<Awaited<T>> {
    // Traced: the run is the `execute_tool` span (OpenTelemetry GenAI conventions), outcome reporting inside it.
    // Untraced, nothing more than this check is spent on tracing (no closure, no span).
    if (this.tracing) return this.tracing.executeTool(verdict, () => this.runReported(verdict, fn, failure), failure);
    return this.runReported(verdict, fn, failure);
  }

  private runReported<A extends Record<string, unknown>, T>(verdict: Verdict & { outcome: 'run' }, fn: (args: A) => T | Promise<T>, failure?: FailureOf<Awaited<T>>): Promise<Awaited<T>> {
    const { decision } = verdict;
    const args = verdict.args as A;
    if (!decision || !this.transport.reportOutcome) return (async (): Promise<Awaited<T>> => await fn(args))();
    return this.timed(verdict.tool ?? '', decision, fn, args, failure);
  }

  /** Runs `fn` and hands the outcome to the transport: on the tool's path, two clock reads and a push. */
  private timed<A, T>(tool: string, decision: AirlockDecision, fn: (args: A) => T | Promise<T>, args: A, failure?: FailureOf<Awaited<T>>): Promise<Awaited<T>> {
    const transport = this.transport;
    const start = performance.now();
    const done = (ok: boolean, value: unknown): void => {
      const end = performance.now();
      (transport.reportOutcome as (outcome: ExecutionOutcome) => void)({
        decision,
        tool,
        startedAt: performance.timeOrigin + start,
        durationMs: end - start,
        ok,
        value,
        failure: ok && failure ? failure(value as Awaited<T>) : undefined,
      });
    };
    let pending: T | Promise<T>;
    try {
      pending = fn(args);
    } catch (error) {
      done(false, error);
      return Promise.reject(error as Error);
    }
    return Promise.resolve(pending).then(
      (result) => {
        done(true, result);
        return result as Awaited<T>;
      },
      (error: unknown) => {
        done(false, error);
        throw error;
      },
    );
  }

  /**
   * The tools this agent's policy declares, each with `reach`: `blocked` when every call is
   * blocked whatever its arguments, else `open` (the analysis errs towards `open`). A tool not
   * listed is unknown to the agent: every call is blocked. Throws AirlockUnavailableError when
   * the server cannot answer.
   */
  async tools(): Promise<ToolReach[]> {
    return this.transport.tools();
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  private awaitApproval(call: ToolCall, approvalId: string, decision: AirlockDecision | undefined, settings: GuardOptions): Promise<Verdict> {
    if (!this.tracing) return this.waitAndRedeem(call, approvalId, decision, settings);
    return this.tracing.approvalWait(call, approvalId, () => this.waitAndRedeem(call, approvalId, decision, settings));
  }

  private async waitAndRedeem(call: ToolCall, approvalId: string, decision: AirlockDecision | undefined, settings: GuardOptions): Promise<Verdict> {
    const signal = settings.signal;
    try {
      const state = await this.transport.waitForApproval(approvalId, settings.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS, signal);
      if (signal?.aborted) return cancelled(call, approvalId, decision);
      const notApproved = approvalRefusal(call.tool, state, decision);
      if (notApproved) return { outcome: 'refused', refusal: notApproved };
      // Spend the approval on exactly this call; the server answers the arguments to run.
      const redeemed = await this.transport.redeem(approvalId, call);
      const edited = JSON.stringify(redeemed.args) !== JSON.stringify(call.args);
      return { outcome: 'run', tool: call.tool, args: redeemed.args, edited, decision };
    } catch (error) {
      // A wait the caller stopped never fails open: nothing was decided for it to run on.
      if (signal?.aborted) return cancelled(call, approvalId, decision);
      return this.unavailable(call, error, settings);
    }
  }

  private unavailable(call: ToolCall, error: unknown, settings: GuardOptions): Verdict {
    if (error instanceof AirlockAlreadyRanError) {
      const reason = `this ${call.tool} call already ran at ${error.firstRunAt}; a decision allows one run, so it does not run again`;
      return { outcome: 'refused', refusal: { ...refusal(call.tool, 'already_ran', reason, null, error.decisionId), firstRunAt: error.firstRunAt } };
    }
    const cause = error instanceof Error ? error : new Error(String(error));
    if (settings.failOpen && !(error instanceof AirlockUnavailableError && error.refused)) {
      this.transport.recordFailOpen(call, cause);
      this.onFailOpen?.(call, cause);
      return { outcome: 'run', tool: call.tool, args: call.args, edited: false, decision: undefined };
    }
    const reason = error instanceof AirlockUnavailableError ? error.message : `Airlock failed: ${cause.message}`;
    return refused(call, 'airlock_unavailable', reason, null);
  }
}

/** What the transport is asked: the key, and for a run, a fresh claim id for this attempt. */
function decideOptions(options: CheckOptions): DecideOptions {
  const { idempotencyKey } = options;
  if (idempotencyKey === undefined) return {};
  return {
    idempotencyKey,
    ...(options.claim ? { claim: `clm_${randomUUID()}` } : {}),
    ...(options.repeat ? { repeat: options.repeat } : {}),
  };
}

function cancelled(call: ToolCall, approvalId: string, decision: AirlockDecision | undefined): Verdict {
  return { outcome: 'refused', refusal: refusal(call.tool, 'cancelled', `the ${call.tool} call was cancelled while it waited for approval`, decision?.rule ?? null, decision?.id, approvalId) };
}

function refused(call: ToolCall, code: string, reason: string, rule: string | null, decisionId?: string): Verdict {
  return { outcome: 'refused', refusal: refusal(call.tool, code, reason, rule, decisionId) };
}

/**
 * `createAirlock({ url, apiKey })` for a server, `createAirlock({ url, apiKey, edge: true })` to
 * answer stateless allows in-process (edge mode), `createAirlock({ policy, agent, role })` for local mode.
 */
export function createAirlock(options: AirlockOptions): Airlock {
  return new Airlock(options);
}

const sessionStorage = new AsyncLocalStorage<SessionContext>();

/** The call with the bound session's context added (its own fields win); the call itself when none is bound. */
/**
 * Arguments nested deeper than any request may be (MAX_JSON_DEPTH) are refused before a transport
 * sees them, in every mode: the engine would block them (`request_too_large`), but nothing after
 * it could record or send them (JSON.stringify overflows the stack near 5,000 levels), and a
 * failure there would count as Airlock unreachable, which `failOpen` runs. An explicit stack,
 * never recursion; the engine's own bound (32 levels) still decides everything shallower.
 */
function refuseTooDeep(call: ToolCall): Verdict | undefined {
  if (!nestsDeeperThan(call.args, MAX_JSON_DEPTH)) return undefined;
  return refused(call, 'request_too_large', `the ${call.tool} arguments nest deeper than ${MAX_JSON_DEPTH} levels; they were not sent or decided`, null);
}

function inSession(call: ToolCall): ToolCall {
  const context = sessionStorage.getStore();
  if (!context) return call;
  const withContext: ToolCall = { ...call };
  if (withContext.session === undefined && context.id !== undefined) withContext.session = context.id;
  if (withContext.sessionAttributes === undefined && context.attributes !== undefined) withContext.sessionAttributes = context.attributes;
  if (withContext.intent === undefined && context.intent !== undefined) {
    const intent = typeof context.intent === 'function' ? context.intent(call) : context.intent;
    if (intent !== undefined) withContext.intent = intent;
  }
  return withContext;
}
