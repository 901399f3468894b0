import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';
import { people } from './support/people.js';
import { startTestServer, type TestServer } from './support/server.js';

const REFUND = { account_id: 'A-1', currency: 'USD' };
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** A caller's span context as a W3C traceparent header. */
function parentContext(): { traceId: string; spanId: string; traceparent: string } {
  const traceId = hex(16);
  const spanId = hex(8);
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

const decisionSpans = (spans: ReceivedSpan[]): ReceivedSpan[] => spans.filter((span) => span.name.startsWith('airlock.decide '));

describe('OpenTelemetry: the server over OTLP/HTTP', () => {
  let receiver: OtlpReceiver;
  let t: TestServer | undefined;
  beforeEach(async () => {
    receiver = await startOtlpReceiver();
  });
  afterEach(async () => {
    await t?.dispose();
    t = undefined;
    await receiver.close();
  });

  const start = async (env: Record<string, string>) => {
    t = await startTestServer({ otelEnvironment: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'airlock-under-test', ...env } });
    return t;
  };
  /** Closing the server flushes what its exporters hold. */
  const flush = async (server: TestServer) => server.server.close();

  it('emits a decision span per decision, a child of the caller span named by traceparent, with the decision as attributes (OTLP/JSON)', async () => {
    const server = await start({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    const bot = server.agent('support-bot-1');
    const allowed = parentContext();
    const approval = parentContext();
    const small = await bot.post<{ id: string; policy: { version: number } }>('/v1/decide', { tool: 'issue_refund', args: { ...REFUND, amount: 20 } }, { traceparent: allowed.traceparent });
    const medium = await bot.post<{ id: string; approval: { id: string }; risk: { score: number; level: string } }>(
      '/v1/decide',
      { tool: 'issue_refund', args: { ...REFUND, account_id: 'A-2', amount: 75 } },
      { traceparent: approval.traceparent },
    );
    expect([small.status, medium.status]).toEqual([200, 200]);
    await flush(server);

    const spans = decisionSpans(receiver.spans);
    expect(spans).toHaveLength(2);
    const allowSpan = spans.find((span) => span.traceId === allowed.traceId);
    expect(allowSpan).toMatchObject({
      protocol: 'json',
      service: 'airlock-under-test',
      name: 'airlock.decide issue_refund',
      parentSpanId: allowed.spanId,
      kind: 2,
      attributes: {
        'airlock.decision.id': small.body.id,
        'airlock.decision.effect': 'allow',
        'airlock.decision.rule': 'refund-small',
        'airlock.policy.version': String(small.body.policy.version),
        'airlock.agent': 'support-bot-1',
        'gen_ai.tool.name': 'issue_refund',
      },
    });
    expect(allowSpan?.attributes).not.toHaveProperty('airlock.approval.id');
    const approvalSpan = spans.find((span) => span.traceId === approval.traceId);
    expect(approvalSpan).toMatchObject({
      parentSpanId: approval.spanId,
      attributes: {
        'airlock.decision.id': medium.body.id,
        'airlock.decision.effect': 'require_approval',
        'airlock.decision.rule': 'refund-medium',
        'airlock.approval.id': medium.body.approval.id,
        'airlock.risk.score': medium.body.risk.score,
        'airlock.risk.level': medium.body.risk.level,
      },
    });
    // Arguments never leave in a span: only the decision and who asked.
    expect(JSON.stringify(spans)).not.toContain('A-2');
  });

  it('starts a new trace for a request without trace context or with a malformed traceparent, and decides it all the same', async () => {
    const server = await start({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    const bot = server.agent('support-bot-1');
    const plain = await bot.post('/v1/decide', { tool: 'get_account', args: { account_id: 'A-1' } });
    const hostile = await bot.post('/v1/decide', { tool: 'get_account', args: { account_id: 'A-1' } }, { traceparent: `00-${'0'.repeat(32)}-${'z'.repeat(16)}-01;<script>` });
    expect([plain.status, hostile.status]).toEqual([200, 200]);
    await flush(server);
    const spans = decisionSpans(receiver.spans);
    expect(spans).toHaveLength(2);
    for (const span of spans) {
      expect(span.parentSpanId).toBe('');
      expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(span.traceId).not.toBe('0'.repeat(32));
    }
  });

  it('keeps 100 concurrent decisions in their own callers\' traces', async () => {
    const server = await start({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    const bot = server.agent('support-bot-1');
    const callers = Array.from({ length: 100 }, parentContext);
    const answers = await Promise.all(
      callers.map((caller, i) => bot.post<{ id: string }>('/v1/decide', { tool: 'get_account', args: { account_id: `A-${i}` } }, { traceparent: caller.traceparent })),
    );
    await flush(server);
    const spans = decisionSpans(receiver.spans);
    expect(spans).toHaveLength(100);
    callers.forEach((caller, i) => {
      const span = spans.find((s) => s.traceId === caller.traceId);
      expect(span?.parentSpanId).toBe(caller.spanId);
      expect(span?.attributes['airlock.decision.id']).toBe(answers[i]?.body.id);
    });
  });

  it('emits an approval wait span with the approval\'s status as it returned, in the waiter\'s trace', async () => {
    const server = await start({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    const bot = server.agent('support-bot-1');
    const admin = await server.admin();
    const { lead } = await people(server.url, admin, { lead: { groups: ['support-leads'] } });
    const decided = await bot.post<{ approval: { id: string } }>('/v1/decide', { tool: 'issue_refund', args: { ...REFUND, amount: 75 } });
    const id = decided.body.approval.id;
    const early = parentContext();
    expect((await bot.get(`/v1/approvals/${id}/wait?timeout=0`, { traceparent: early.traceparent })).body).toMatchObject({ status: 'pending' });
    expect((await lead!.post(`/v1/approvals/${id}/approve`, { reason: 'known customer' })).status).toBe(200);
    const late = parentContext();
    expect((await bot.get(`/v1/approvals/${id}/wait?timeout=5`, { traceparent: late.traceparent })).body).toMatchObject({ status: 'approved' });
    await flush(server);
    const waits = receiver.spans.filter((span) => span.name === 'airlock.approval.wait');
    expect(waits.map((span) => [span.traceId, span.parentSpanId, span.attributes['airlock.approval.status'], span.attributes['airlock.approval.id']])).toEqual([
      [early.traceId, early.spanId, 'pending', id],
      [late.traceId, late.spanId, 'approved', id],
    ]);
  });

  it('exports the /metrics counters, histogram and gauge over OTLP', async () => {
    const server = await start({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    const bot = server.agent('support-bot-1');
    for (const amount of [10, 20, 30]) expect((await bot.post('/v1/decide', { tool: 'issue_refund', args: { ...REFUND, account_id: `A-${amount}`, amount } })).status).toBe(200);
    expect((await bot.post('/v1/decide', { tool: 'issue_refund', args: { ...REFUND, amount: 75 } })).status).toBe(200);
    await flush(server);
    const points = receiver.points;
    expect(points.find((p) => p.metric === 'airlock.decisions' && p.attributes['airlock.decision.rule'] === 'refund-small')).toMatchObject({
      value: 3,
      attributes: { 'airlock.decision.effect': 'allow', 'airlock.agent': 'support-bot-1' },
    });
    expect(points.find((p) => p.metric === 'airlock.decisions' && p.attributes['airlock.decision.rule'] === 'refund-medium')?.value).toBe(1);
    expect(points.find((p) => p.metric === 'airlock.decision.duration')?.value).toBe(4);
    expect(points.find((p) => p.metric === 'airlock.approvals.pending')?.value).toBe(1);
  });

  it('speaks OTLP/protobuf by default', async () => {
    const server = await start({});
    const caller = parentContext();
    const decided = await server.agent('support-bot-1').post<{ id: string }>('/v1/decide', { tool: 'issue_refund', args: { ...REFUND, amount: 20 } }, { traceparent: caller.traceparent });
    await flush(server);
    expect(receiver.requests.find((r) => r.path === '/v1/traces')?.contentType).toBe('application/x-protobuf');
    expect(decisionSpans(receiver.spans)).toEqual([
      expect.objectContaining({
        protocol: 'protobuf',
        service: 'airlock-under-test',
        traceId: caller.traceId,
        parentSpanId: caller.spanId,
        attributes: expect.objectContaining({ 'airlock.decision.id': decided.body.id, 'airlock.decision.effect': 'allow', 'airlock.risk.score': 0 }),
      }),
    ]);
  });

  it('sends nothing when OTEL_SDK_DISABLED=true, or with no endpoint, or with exporters set to none', async () => {
    for (const env of <Record<string, string>[]>[{ OTEL_SDK_DISABLED: 'true' }, { OTEL_EXPORTER_OTLP_ENDPOINT: '' }, { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' }]) {
      const server = await start({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', ...env });
      expect((await server.agent('support-bot-1').post('/v1/decide', { tool: 'get_account', args: { account_id: 'A-1' } }, { traceparent: parentContext().traceparent })).status).toBe(200);
      await server.dispose();
      t = undefined;
    }
    expect(receiver.requests).toEqual([]);
  });

  it('refuses to export over an unsupported protocol (grpc) and says so, deciding as usual', async () => {
    const errors: string[] = [];
    t = await startTestServer({ logError: (message) => errors.push(message), otelEnvironment: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' } });
    expect((await t.agent('support-bot-1').post('/v1/decide', { tool: 'get_account', args: { account_id: 'A-1' } })).status).toBe(200);
    await flush(t);
    expect(receiver.requests).toEqual([]);
    expect(errors.filter((e) => e.includes('"grpc" is not supported'))).toHaveLength(2);
  });
});
