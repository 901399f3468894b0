import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAirlock, type Airlock } from '../src/index.js';

/**
 * `Airlock.withTraceContext`: trace context from a remote caller (the MCP gateway hands it
 * `params._meta`, which the client controls). A well-formed traceparent parents the span; anything
 * else starts a new trace; a tracestate over 512 characters is dropped, alone and in 100
 * concurrent calls, each of which keeps its own trace.
 */
describe('remote trace context (withTraceContext)', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const policy = fileURLToPath(new URL('../../../examples/policies', import.meta.url));
  let airlock: Airlock;

  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    airlock = createAirlock({ policy, agent: 'support-bot-1', role: 'support', audit: false, watch: false, tracing: { tracerProvider: provider } });
  });
  afterAll(async () => {
    await airlock.close();
    await provider.shutdown();
    context.disable();
  });

  const caller = () => ({ traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex') });
  /** What the span opened for the carrier sends on: its traceparent's trace id and parent, and tracestate. */
  const inside = (carrier: Record<string, unknown> | undefined) =>
    airlock.withTraceContext(carrier, { name: 'tools/call get_account' }, async () => {
      await new Promise((resolve) => setImmediate(resolve));
      const sent = airlock.traceContext();
      const [, traceId, spanId] = sent?.traceparent.split('-') ?? [];
      const span = exporter.getFinishedSpans().length;
      return { traceId, spanId, tracestate: sent?.tracestate, span };
    });
  /** A tracestate of exactly `length` characters, of valid members (values at most 256 characters). */
  const tracestate = (length: number): string => {
    const members = ['a=' + 'x'.repeat(250), 'b=' + 'y'.repeat(250)];
    const rest = length - members.join(',').length - 3;
    return [...members, 'c=' + 'z'.repeat(rest)].join(',');
  };

  it('a valid traceparent parents the span, its tracestate passed on; a malformed one starts a new trace', async () => {
    const from = caller();
    const sent = await inside({ traceparent: `00-${from.traceId}-${from.spanId}-01`, tracestate: 'vendor=abc' });
    expect(sent).toMatchObject({ traceId: from.traceId, tracestate: 'vendor=abc' });
    const span = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === sent.spanId);
    expect(span?.parentSpanContext).toMatchObject({ traceId: from.traceId, spanId: from.spanId, isRemote: true });
    expect(span?.kind).toBe(1); // SERVER

    for (const traceparent of ['garbage', `00-${from.traceId}-${from.spanId}-01-more`, `ff-${from.traceId}-${from.spanId}-01`, `00-${'0'.repeat(32)}-${from.spanId}-01`, `00-${from.traceId.toUpperCase()}-${from.spanId}-01`, 7]) {
      const other = await inside({ traceparent, tracestate: 'vendor=abc' });
      expect(other.traceId).not.toBe(from.traceId);
      expect(other.tracestate).toBeUndefined();
    }
  });

  it('tracestate: 512 characters kept, 513 dropped (the traceparent still counts)', async () => {
    const from = caller();
    const traceparent = `00-${from.traceId}-${from.spanId}-01`;
    expect(tracestate(512)).toHaveLength(512);
    expect(await inside({ traceparent, tracestate: tracestate(512) })).toMatchObject({ traceId: from.traceId, tracestate: tracestate(512) });
    expect(await inside({ traceparent, tracestate: tracestate(513) })).toMatchObject({ traceId: from.traceId, tracestate: undefined });
  });

  it('100 concurrent calls with oversized tracestates: each in its own caller\'s trace, none passes a tracestate on', async () => {
    const callers = Array.from({ length: 100 }, caller);
    const sent = await Promise.all(callers.map((from) => inside({ traceparent: `00-${from.traceId}-${from.spanId}-01`, tracestate: tracestate(513) + 'x'.repeat(10_000) })));
    expect(sent.map((s) => s.traceId)).toEqual(callers.map((from) => from.traceId));
    expect(sent.every((s) => s.tracestate === undefined)).toBe(true);
  });

  it('tracing off: fn runs as it is, with no trace context to send', async () => {
    const off = createAirlock({ policy, agent: 'support-bot-1', role: 'support', audit: false, watch: false, tracing: false });
    try {
      expect(await off.withTraceContext({ traceparent: `00-${'a'.repeat(32)}-${'1'.repeat(16)}-01` }, { name: 'x' }, async () => off.traceContext())).toBeUndefined();
    } finally {
      await off.close();
    }
  });
});
