import { createRequire } from 'node:module';
import { decisionSpanAttributes, SPAN_NAMES } from '@airlock/core';
import type * as OtelApiModule from '@opentelemetry/api';
import type { AirlockDecision, ToolCall, Verdict } from './types.js';

/** What `tracing.tracerProvider` needs: an OpenTelemetry TracerProvider (typed loosely so the option needs no OpenTelemetry types). */
export interface TracerProviderLike {
  getTracer(name: string, version?: string): unknown;
}

/**
 * OpenTelemetry traces of governed calls (docs/observability.md). `true`: spans through the
 * application's global OpenTelemetry setup (`@opentelemetry/api`, an optional peer dependency);
 * `{ tracerProvider }`: through that provider; `false`: none. Default: on when an OTLP endpoint
 * is set (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) and neither
 * `OTEL_SDK_DISABLED=true` nor `OTEL_TRACES_EXPORTER=none`. Off, OpenTelemetry is never loaded.
 */
export type TracingOption = boolean | { tracerProvider?: TracerProviderLike };

type OtelApi = typeof OtelApiModule;
type Env = Record<string, string | undefined>;

const SDK_VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** Whether the option (or, without one, the environment) asks for traces. */
export function tracingWanted(option: TracingOption | undefined, env: Env = process.env): boolean {
  if (option !== undefined) return option !== false;
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  if (env.OTEL_TRACES_EXPORTER?.split(',').some((name) => name.trim().toLowerCase() === 'none')) return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * `@opentelemetry/api`, loaded when tracing is first wanted. Asked for explicitly (`tracing: true`)
 * without the package installed, this throws; wanted only by the environment, it warns once and
 * tracing stays off. The API keeps its registrations on a global, so this copy sees the
 * application's provider, context manager and propagator whichever module format it loaded.
 */
function loadApi(explicit: boolean): OtelApi | undefined {
  try {
    return createRequire(import.meta.url)('@opentelemetry/api') as OtelApi;
  } catch (error) {
    const message = 'Airlock tracing needs the @opentelemetry/api package (npm install @opentelemetry/api)';
    if (explicit) throw new Error(message, { cause: error });
    if (!warned) process.emitWarning(`${message}; OTEL_EXPORTER_OTLP_ENDPOINT is set but governed calls are not traced`, { code: 'AIRLOCK_TRACING' });
    warned = true;
    return undefined;
  }
}
let warned = false;

/** The trace context of the active span as W3C headers, or undefined when there is none. */
export type TraceHeaders = () => Record<string, string> | undefined;

/** For a transport that sends HTTP requests: W3C `traceparent` (and `tracestate`) of the active span, or undefined when tracing is off. */
export function traceHeadersFor(option: TracingOption | undefined): TraceHeaders | undefined {
  if (!tracingWanted(option)) return undefined;
  const api = loadApi(option !== undefined);
  if (!api) return undefined;
  return () => {
    const context = api.trace.getSpanContext(api.context.active());
    if (!context || !api.isSpanContextValid(context)) return undefined;
    const headers: Record<string, string> = { traceparent: `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}` };
    const state = context.traceState?.serialize();
    if (state) headers.tracestate = state;
    return headers;
  };
}

/** W3C trace context as MCP carries it in `params._meta` (SEP-414) and HTTP in headers. */
export interface TraceCarrier {
  traceparent?: unknown;
  tracestate?: unknown;
  /** Anything else the carrier holds (e.g. the rest of `_meta`) is ignored. */
  [key: string]: unknown;
}

/** `version-traceid-parentid-flags`; version ff is invalid, and a future version may append fields. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
/** W3C Trace Context: a vendor may cut tracestate to 512 characters; a longer one is dropped, not parsed. */
const MAX_TRACESTATE = 512;

/** The call behind a verdict, for the execution span (kept only while the verdict is). */
interface TracedCall {
  tool: string;
  toolCallId: string | undefined;
}

/**
 * The SDK's spans, each in the context active where it starts (the application's agent span):
 * `airlock.decide {tool}` around asking for the decision (with its outcome as attributes; the
 * remote transport sends the span as `traceparent`, so the server's decision span is its child),
 * `airlock.approval.wait` around waiting for a person, and `execute_tool {tool}` around the tool
 * itself, per the OpenTelemetry GenAI semantic conventions (error status when it throws).
 */
export class Tracing {
  /** By the verdict's decision (an adapter may copy the verdict, e.g. to refit edited arguments), or the verdict when it has none (fail-open). */
  private readonly calls = new WeakMap<object, TracedCall>();

  private constructor(
    private readonly api: OtelApi,
    private readonly tracer: OtelApiModule.Tracer,
    /** CLIENT when decisions come from a server, INTERNAL when decided in-process. */
    private readonly decisionKind: OtelApiModule.SpanKind,
  ) {}

  /** Tracing as the option (or the environment) asks, or undefined when off. */
  static from(option: TracingOption | undefined, remote: boolean): Tracing | undefined {
    if (!tracingWanted(option)) return undefined;
    const api = loadApi(option !== undefined);
    if (!api) return undefined;
    const provider = typeof option === 'object' && option.tracerProvider ? (option.tracerProvider as OtelApiModule.TracerProvider) : api.trace.getTracerProvider();
    return new Tracing(api, provider.getTracer('@airlock/sdk', SDK_VERSION), remote ? api.SpanKind.CLIENT : api.SpanKind.INTERNAL);
  }

  /** Asks for a decision inside its span. */
  async decision(call: ToolCall, toolCallId: string | undefined, decide: () => Promise<AirlockDecision>): Promise<AirlockDecision> {
    const { api } = this;
    const parent = api.context.active();
    const span = this.tracer.startSpan(SPAN_NAMES.decision(call.tool), { kind: this.decisionKind, attributes: toolAttributes(call.tool, toolCallId) }, parent);
    try {
      const decision = await api.context.with(api.trace.setSpan(parent, span), decide);
      span.setAttributes(decisionSpanAttributes(decision));
      return decision;
    } catch (error) {
      this.failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  /** Waits for a person inside a span; `airlock.approval.outcome` is `approved` or the refusal's code (approval_denied, approval_timeout, cancelled…). */
  async approvalWait(call: ToolCall, approvalId: string, wait: () => Promise<Verdict>): Promise<Verdict> {
    const { api } = this;
    const parent = api.context.active();
    const span = this.tracer.startSpan(SPAN_NAMES.approvalWait, { kind: api.SpanKind.INTERNAL, attributes: { 'airlock.approval.id': approvalId, 'gen_ai.tool.name': call.tool } }, parent);
    try {
      const verdict = await api.context.with(api.trace.setSpan(parent, span), wait);
      if (verdict.outcome === 'run') span.setAttributes({ 'airlock.approval.outcome': 'approved', 'airlock.approval.edited': verdict.edited });
      else if (verdict.outcome === 'refused') span.setAttribute('airlock.approval.outcome', verdict.refusal.code);
      else span.setAttribute('airlock.approval.outcome', 'pending');
      return verdict;
    } catch (error) {
      this.failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  /** Remembers which call a verdict is for, so `execute` can name its span. */
  remember(verdict: Verdict, tool: string, toolCallId: string | undefined): void {
    if (verdict.outcome === 'run') this.calls.set(verdict.decision ?? verdict, { tool, toolCallId });
  }

  /**
   * Runs an allowed tool inside its `execute_tool` span; a verdict `check` did not make (unknown
   * call) runs untraced. A throw, or a result `failure` calls one (an MCP `isError` result, the
   * Agents SDK's tool error message), ends the span with error status and `error.type`.
   */
  async executeTool<T>(verdict: Extract<Verdict, { outcome: 'run' }>, run: () => T | Promise<T>, failure?: (result: Awaited<T>) => { class: string; message: string } | undefined): Promise<Awaited<T>> {
    const call = this.calls.get(verdict.decision ?? verdict);
    if (!call) return await run();
    const { api } = this;
    const parent = api.context.active();
    const attributes: OtelApiModule.Attributes = { 'gen_ai.operation.name': 'execute_tool', ...toolAttributes(call.tool, call.toolCallId) };
    if (verdict.decision) attributes['airlock.decision.id'] = verdict.decision.id;
    const span = this.tracer.startSpan(SPAN_NAMES.executeTool(call.tool), { kind: api.SpanKind.INTERNAL, attributes }, parent);
    try {
      const result = await api.context.with(api.trace.setSpan(parent, span), run);
      const failed = failure?.(result);
      if (failed) {
        span.setAttribute('error.type', failed.class);
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: failed.message });
      }
      return result;
    } catch (error) {
      this.failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  /**
   * Runs `fn` inside a SERVER span named `name`, the child of the span a remote caller names (W3C
   * `traceparent`, `tracestate`), else of the context active here (a new trace when there is
   * none): the spans made inside (decision, approval wait, execute_tool) are its children. The
   * span gets error status when `fn` throws. Untrusted input: anything but a well-formed
   * traceparent is ignored, a tracestate over 512 characters is dropped.
   */
  async serverSpan<T>(carrier: TraceCarrier | undefined, name: string, attributes: OtelApiModule.Attributes, fn: () => Promise<T>): Promise<T> {
    const { api } = this;
    const remote = remoteSpanContext(api, carrier);
    const parent = remote ? api.trace.setSpanContext(api.context.active(), remote) : api.context.active();
    const span = this.tracer.startSpan(name, { kind: api.SpanKind.SERVER, attributes }, parent);
    try {
      return await api.context.with(api.trace.setSpan(parent, span), fn);
    } catch (error) {
      this.failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  /** The active span as W3C `traceparent` (and `tracestate`), to pass on to whatever is called next, or undefined without one. */
  carrier(): { traceparent: string; tracestate?: string } | undefined {
    const context = this.api.trace.getSpanContext(this.api.context.active());
    if (!context || !this.api.isSpanContextValid(context)) return undefined;
    const traceparent = `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
    const state = context.traceState?.serialize();
    return state ? { traceparent, tracestate: state } : { traceparent };
  }

  private failed(span: OtelApiModule.Span, error: unknown): void {
    const type = error instanceof Error ? error.name : typeof error;
    span.setAttribute('error.type', type);
    if (error instanceof Error) span.recordException(error);
    span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
}

/** The remote span a carrier names, or undefined when it names none validly. */
function remoteSpanContext(api: OtelApi, carrier: TraceCarrier | undefined): OtelApiModule.SpanContext | undefined {
  const parent = typeof carrier?.traceparent === 'string' ? TRACEPARENT.exec(carrier.traceparent) : null;
  if (!parent || parent[1] === 'ff' || (parent[1] === '00' && parent[5] !== undefined)) return undefined;
  const state = carrier?.tracestate;
  const spanContext: OtelApiModule.SpanContext = {
    traceId: parent[2] as string,
    spanId: parent[3] as string,
    traceFlags: Number.parseInt(parent[4] as string, 16),
    isRemote: true,
    ...(typeof state === 'string' && state.length <= MAX_TRACESTATE ? { traceState: api.createTraceState(state) } : {}),
  };
  return api.isSpanContextValid(spanContext) ? spanContext : undefined;
}

function toolAttributes(tool: string, toolCallId: string | undefined): OtelApiModule.Attributes {
  return toolCallId === undefined ? { 'gen_ai.tool.name': tool } : { 'gen_ai.tool.name': tool, 'gen_ai.tool.call.id': toolCallId };
}
