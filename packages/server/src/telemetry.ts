import { decisionSpanAttributes, SPAN_NAMES, type Decision } from '@airlock/core';
import type * as OtelApiModule from '@opentelemetry/api';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Attributes, Context, ContextManager, Meter, Span, Tracer } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { routeKey } from './access.js';
import type { RouteContext, RouteDef } from './http/route.js';
import { DURATION_BUCKETS, type Metrics, type MetricsSink } from './metrics.js';

/** Where the OpenTelemetry settings are read: the standard `OTEL_*` variables (default process.env). */
export type OtelEnvironment = Record<string, string | undefined>;

type Handler = RouteDef['handler'];
type AnyContext = RouteContext<unknown, unknown, unknown, unknown>;
type OtelApi = typeof OtelApiModule;

/** The OTLP protocols spoken here: `grpc` is not (the exporters would need a gRPC stack). */
const PROTOCOLS = ['http/protobuf', 'http/json'] as const;
type Protocol = (typeof PROTOCOLS)[number];

/**
 * Traces and metrics over OTLP/HTTP, configured only by the standard `OTEL_*` variables and off
 * unless an OTLP endpoint is set. The server's own providers, never registered globally: an
 * application embedding the server keeps its own OpenTelemetry setup.
 *
 * Traced routes: `POST /v1/decide` (one span per decision, a child of the caller's span when a
 * W3C `traceparent` arrives) and `GET /v1/approvals/:id/wait` (one span per wait, with the
 * approval's status when it returned). Off, nothing here is loaded and no route is wrapped.
 */
export class Telemetry {
  private constructor(
    private readonly api: OtelApi,
    private readonly tracer: Tracer | undefined,
    private readonly extract: (headers: Record<string, unknown>) => Context,
    private readonly meters: { meter: Meter; shutdown: () => Promise<void> } | undefined,
    private readonly shutdownTraces: (() => Promise<void>) | undefined,
  ) {}

  /** The route's handler wrapped in its span, or undefined when the route is not traced (or tracing is off). */
  wrap(route: RouteDef): Handler | undefined {
    if (!this.tracer) return undefined;
    const key = routeKey(route.method, route.url);
    if (key === 'POST /v1/decide') return (context) => this.decisionSpan(route, context as AnyContext);
    if (key === 'GET /v1/approvals/:id/wait') return (context) => this.approvalWaitSpan(route, context as AnyContext);
    return undefined;
  }

  /** Exports the `/metrics` counters and histogram over OTLP as they are recorded; the pending gauge is read at each export. */
  observe(metrics: Metrics, approvalsPending: () => Promise<number>): void {
    if (!this.meters) return;
    const { meter } = this.meters;
    const decisions = meter.createCounter('airlock.decisions', { description: 'Decisions returned, by effect, deciding rule and agent.', unit: '{decision}' });
    const duration = meter.createHistogram('airlock.decision.duration', {
      description: 'Time from request to durable decision.',
      unit: 's',
      advice: { explicitBucketBoundaries: [...DURATION_BUCKETS] },
    });
    const limitHits = meter.createCounter('airlock.limit.hits', { description: 'Decisions in which a limit was exceeded, by limit id.', unit: '{decision}' });
    const refusedRuns = meter.createCounter('airlock.runs.refused', { description: 'Attempts to run a call whose decision already ran (already_ran), by agent.', unit: '{call}' });
    meter.createObservableGauge('airlock.approvals.pending', { description: 'Approvals waiting for a person.', unit: '{approval}' }).addCallback(async (result) => {
      result.observe(await approvalsPending());
    });
    const sink: MetricsSink = {
      decision(agent, decision, seconds) {
        decisions.add(1, { 'airlock.decision.effect': decision.effect, 'airlock.decision.rule': decision.rule ?? '', 'airlock.agent': agent });
        for (const limit of decision.limits) if (limit.exceeded) limitHits.add(1, { 'airlock.limit.id': limit.limit });
        if (seconds !== undefined) duration.record(seconds);
      },
      refusedRun(agent) {
        refusedRuns.add(1, { 'airlock.agent': agent });
      },
    };
    metrics.forward(sink);
  }

  /** Exports what is buffered (spans of the last requests, a last metrics export), then stops. */
  async shutdown(): Promise<void> {
    await Promise.allSettled([this.shutdownTraces?.(), this.meters?.shutdown()]);
  }

  private async decisionSpan(route: RouteDef, context: AnyContext): Promise<unknown> {
    const { SpanKind } = this.api;
    const tool = String((context.body as { tool: string }).tool);
    const attributes: Attributes = { 'gen_ai.tool.name': tool };
    if (context.principal.kind === 'agent') attributes['airlock.agent'] = context.principal.identity.agent;
    const span = (this.tracer as Tracer).startSpan(SPAN_NAMES.decision(tool), { kind: SpanKind.SERVER, attributes }, this.extract(context.request.headers));
    return this.inSpan(span, route, context, (result) => {
      if (isDecision(result)) span.setAttributes(decisionSpanAttributes(result));
    });
  }

  private async approvalWaitSpan(route: RouteDef, context: AnyContext): Promise<unknown> {
    const { SpanKind } = this.api;
    const attributes: Attributes = { 'airlock.approval.id': String((context.params as { id: string }).id) };
    if (context.principal.kind === 'agent') attributes['airlock.agent'] = context.principal.identity.agent;
    const span = (this.tracer as Tracer).startSpan(SPAN_NAMES.approvalWait, { kind: SpanKind.SERVER, attributes }, this.extract(context.request.headers));
    return this.inSpan(span, route, context, (result) => {
      const status = (result as { status?: unknown } | null)?.status;
      if (typeof status === 'string') span.setAttribute('airlock.approval.status', status);
    });
  }

  /** Runs the handler; the span ends with its answer's attributes, or with error status and code when it throws or answers 5xx. */
  private async inSpan(span: Span, route: RouteDef, context: AnyContext, annotate: (result: unknown) => void): Promise<unknown> {
    const { SpanStatusCode } = this.api;
    try {
      const result = await route.handler(context);
      annotate(result);
      if (context.reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${context.reply.statusCode}` });
      return result;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string') span.setAttribute('airlock.error.code', code);
      span.setAttribute('error.type', typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown');
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  }

  /**
   * Telemetry as the environment asks, or undefined when it asks for none: no OTLP endpoint
   * (`OTEL_EXPORTER_OTLP_ENDPOINT`, or the per-signal `…_TRACES_ENDPOINT` / `…_METRICS_ENDPOINT`),
   * `OTEL_SDK_DISABLED=true`, or both signals' exporters `none`. OpenTelemetry is imported only then.
   */
  static async fromEnvironment(env: OtelEnvironment, settings: { version: string; logError: (message: string) => void }): Promise<Telemetry | undefined> {
    if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
    const traces = signalTarget(env, 'traces', settings.logError);
    const metrics = signalTarget(env, 'metrics', settings.logError);
    if (!traces && !metrics) return undefined;
    const api = await import('@opentelemetry/api');
    const { resourceFromAttributes } = await import('@opentelemetry/resources');
    const resource = resourceFromAttributes({
      ...resourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES),
      'service.name': env.OTEL_SERVICE_NAME?.trim() || 'airlock-server',
      'service.version': settings.version,
    });

    let tracer: Tracer | undefined;
    let shutdownTraces: (() => Promise<void>) | undefined;
    if (traces) {
      const provider = await otlpTracerProvider(env, traces, resource);
      tracer = provider.getTracer('@airlock/server', settings.version);
      shutdownTraces = () => provider.shutdown();
    }

    let meters: { meter: Meter; shutdown: () => Promise<void> } | undefined;
    if (metrics) {
      const { MeterProvider, PeriodicExportingMetricReader } = await import('@opentelemetry/sdk-metrics');
      const { OTLPMetricExporter } =
        metrics.protocol === 'http/json' ? await import('@opentelemetry/exporter-metrics-otlp-http') : await import('@opentelemetry/exporter-metrics-otlp-proto');
      const interval = Number(env.OTEL_METRIC_EXPORT_INTERVAL);
      const reader = new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: metrics.url }),
        ...(Number.isFinite(interval) && interval > 0 ? { exportIntervalMillis: interval } : {}),
      });
      const provider = new MeterProvider({ resource, readers: [reader] });
      meters = { meter: provider.getMeter('@airlock/server', settings.version), shutdown: () => provider.shutdown() };
    }

    const { W3CTraceContextPropagator } = await import('@opentelemetry/core');
    const propagator = new W3CTraceContextPropagator();
    const extract = (headers: Record<string, unknown>): Context => propagator.extract(api.ROOT_CONTEXT, headers, api.defaultTextMapGetter);
    return new Telemetry(api, tracer, extract, meters, shutdownTraces);
  }
}

/** A tracer provider exporting to the signal's OTLP/HTTP target in batches (`OTEL_BSP_SCHEDULE_DELAY` honoured). */
async function otlpTracerProvider(env: OtelEnvironment, traces: { url: string; protocol: Protocol }, resource: Resource): Promise<BasicTracerProvider> {
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { OTLPTraceExporter } = traces.protocol === 'http/json' ? await import('@opentelemetry/exporter-trace-otlp-http') : await import('@opentelemetry/exporter-trace-otlp-proto');
  const delay = Number(env.OTEL_BSP_SCHEDULE_DELAY);
  const processor = new BatchSpanProcessor(new OTLPTraceExporter({ url: traces.url }), Number.isFinite(delay) && delay >= 0 ? { scheduledDelayMillis: delay } : {});
  return new BasicTracerProvider({ resource, spanProcessors: [processor] });
}

/**
 * Process-wide tracing for a command that is the application, as `airlock mcp-proxy` is: with an
 * OTLP traces endpoint in the standard variables (and neither `OTEL_SDK_DISABLED=true` nor
 * `OTEL_TRACES_EXPORTER=none`), registers a global tracer provider exporting OTLP/HTTP and an
 * AsyncLocalStorage context manager (each unless the process already has one), so the SDK's spans
 * (`@airlock/sdk` tracing, on by the same variables) are exported and nest. Undefined, and
 * nothing of OpenTelemetry loaded, when the variables ask for no traces. `shutdown` exports what
 * is buffered.
 */
export async function startProcessTracing(
  env: OtelEnvironment,
  settings: { serviceName: string; version: string; logError: (message: string) => void },
): Promise<{ shutdown: () => Promise<void> } | undefined> {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const traces = signalTarget(env, 'traces', settings.logError);
  if (!traces) return undefined;
  const api = await import('@opentelemetry/api');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const resource = resourceFromAttributes({
    ...resourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES),
    'service.name': env.OTEL_SERVICE_NAME?.trim() || settings.serviceName,
    'service.version': settings.version,
  });
  const provider = await otlpTracerProvider(env, traces, resource);
  if (!api.trace.setGlobalTracerProvider(provider)) settings.logError('OpenTelemetry: a tracer provider was already registered; spans go to it');
  api.context.setGlobalContextManager(new AsyncLocalContextManager(api.ROOT_CONTEXT));
  return { shutdown: () => provider.shutdown() };
}

/** OpenTelemetry's ContextManager over AsyncLocalStorage (what `@opentelemetry/context-async-hooks` provides, in the few lines needed here). */
class AsyncLocalContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  constructor(private readonly root: Context) {}
  active(): Context {
    return this.storage.getStore() ?? this.root;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.storage.run(context, () => fn.apply(thisArg, args));
  }
  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const run = (thisArg: unknown, args: unknown[]): unknown => this.with(context, () => (target as (...a: unknown[]) => unknown).apply(thisArg, args));
    return function (this: unknown, ...args: unknown[]) {
      return run(this, args);
    } as T;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.storage.disable();
    return this;
  }
}

/**
 * One signal's OTLP/HTTP URL and protocol per the OpenTelemetry exporter specification: the
 * signal's own endpoint as given, else the general endpoint with `/v1/<signal>` appended;
 * `OTEL_<SIGNAL>_EXPORTER=none` turns the signal off. An unsupported protocol is reported, and
 * the signal stays off rather than sending what the collector cannot read.
 */
function signalTarget(env: OtelEnvironment, signal: 'traces' | 'metrics', logError: (message: string) => void): { url: string; protocol: Protocol } | undefined {
  const upper = signal.toUpperCase();
  const exporters = env[`OTEL_${upper}_EXPORTER`]?.split(',').map((name) => name.trim().toLowerCase());
  if (exporters?.includes('none')) return undefined;
  const own = env[`OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`]?.trim();
  const general = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const url = own || (general ? `${general.replace(/\/+$/, '')}/v1/${signal}` : undefined);
  if (url === undefined) return undefined;
  const protocol = (env[`OTEL_EXPORTER_OTLP_${upper}_PROTOCOL`] ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim();
  if (!(PROTOCOLS as readonly string[]).includes(protocol)) {
    logError(`OpenTelemetry: ${signal} not exported: OTLP protocol ${JSON.stringify(protocol)} is not supported here (use http/protobuf or http/json)`);
    return undefined;
  }
  return { url, protocol: protocol as Protocol };
}

/** `OTEL_RESOURCE_ATTRIBUTES` (`key=value,key=value`, values percent-encoded); malformed pairs are skipped. */
function resourceAttributes(text: string | undefined): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const pair of text?.split(',') ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    try {
      attributes[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      // A malformed escape: that pair is skipped, as the specification asks.
    }
  }
  return attributes;
}

function isDecision(value: unknown): value is Decision & { id: string; approval?: { id: string } } {
  const effect = (value as { effect?: unknown } | null)?.effect;
  return effect === 'allow' || effect === 'block' || effect === 'require_approval';
}
