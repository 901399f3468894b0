import { context, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { generateText, stepCountIs, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../server/test/support/otlp-receiver.js';
import { eventually, people } from '../../server/test/support/people.js';
import { startTestServer, type TestServer } from '../../server/test/support/server.js';
import { governTools } from '../src/adapters/ai-sdk.js';
import { createAirlock, type Airlock } from '../src/index.js';
import { localFixture } from './local-fixture.js';

type GenerateResult = Awaited<ReturnType<MockLanguageModelV3['doGenerate']>>;
const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
const step = (content: GenerateResult['content'], finish: 'tool-calls' | 'stop'): GenerateResult => ({ content, finishReason: { unified: finish, raw: undefined }, usage, warnings: [] });
const refund = (account_id: string, amount: number) => ({ account_id, amount, currency: 'USD' as const });

/**
 * The application's own OpenTelemetry setup, as an app instrumented with OTel has it: a global
 * tracer provider exporting OTLP/JSON to the in-test receiver, and the AsyncLocalStorage context
 * manager. The server exports its spans to the same receiver from its own provider.
 */
describe('OpenTelemetry: the SDK inside the application\'s traces', () => {
  let receiver: OtlpReceiver;
  let provider: BasicTracerProvider;
  let server: TestServer;
  let airlock: Airlock;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'support-agent' }),
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${receiver.url}/v1/traces` }))],
    });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    server = await startTestServer({ otelEnvironment: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'airlock', OTEL_BSP_SCHEDULE_DELAY: '20' } });
    airlock = createAirlock({ url: server.url, apiKey: server.keys['support-bot-1'] as string, tracing: true });
  });
  afterAll(async () => {
    await airlock.close();
    await server.dispose();
    await provider.shutdown();
    trace.disable();
    context.disable();
    await receiver.close();
  });
  beforeEach(() => {
    receiver.spans.length = 0;
  });

  /** Runs `fn` inside the agent's own span, as an instrumented agent loop does, and returns that span. */
  const asAgent = async (fn: () => Promise<unknown>): Promise<Span> =>
    trace.getTracer('support-agent').startActiveSpan('invoke_agent support', async (span) => {
      try {
        await fn();
      } finally {
        span.end();
      }
      return span;
    });
  /** Exports what the app holds, and waits for the server's batch (exported every 20 ms here) to hold `serverSpans` spans. */
  const flush = async (serverSpans: number): Promise<void> => {
    await provider.forceFlush();
    await eventually(async () => expect(receiver.spans.filter((span) => span.service === 'airlock').length).toBeGreaterThanOrEqual(serverSpans));
  };
  const named = (name: string, spans = receiver.spans): ReceivedSpan[] => spans.filter((span) => span.name === name);
  const one = (name: string, service: string): ReceivedSpan => {
    const found = named(name).filter((span) => span.service === service);
    expect(found, `${name} from ${service}`).toHaveLength(1);
    return found[0] as ReceivedSpan;
  };

  it('a guarded function: decision and execute_tool spans are children of the agent span, and the server\'s decision span is the child of the SDK\'s', async () => {
    const ran: unknown[] = [];
    const issueRefund = airlock.guard('issue_refund', async (args: Record<string, unknown>) => ran.push(args));
    const agentSpan = await asAgent(() => issueRefund(refund('A-1', 20)));
    await flush(1);
    expect(ran).toHaveLength(1);
    const { traceId, spanId } = agentSpan.spanContext();

    const decision = one('airlock.decide issue_refund', 'support-agent');
    expect(decision).toMatchObject({
      traceId,
      parentSpanId: spanId,
      kind: 3,
      attributes: { 'gen_ai.tool.name': 'issue_refund', 'airlock.decision.effect': 'allow', 'airlock.decision.rule': 'refund-small' },
    });
    const decisionId = decision.attributes['airlock.decision.id'];
    expect(decisionId).toMatch(/^dec_/);
    expect(one('airlock.decide issue_refund', 'airlock')).toMatchObject({ traceId, parentSpanId: decision.spanId, attributes: { 'airlock.decision.id': decisionId, 'airlock.agent': 'support-bot-1' } });
    expect(one('execute_tool issue_refund', 'support-agent')).toMatchObject({
      traceId,
      parentSpanId: spanId,
      status: 0,
      attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'issue_refund', 'airlock.decision.id': decisionId },
    });
  });

  it('a tool that throws: its execute_tool span has error status and the error type; a blocked call has no execute_tool span', async () => {
    const failing = airlock.guard('get_account', async () => {
      throw new RangeError('account store is down');
    });
    const blocked = airlock.guard('export_customers', async () => 'exported');
    const agentSpan = await asAgent(async () => {
      await expect(failing({ account_id: 'A-1' })).rejects.toThrow('account store is down');
      expect(await blocked({})).toMatchObject({ airlock: 'blocked' });
    });
    await flush(2);
    expect(one('execute_tool get_account', 'support-agent')).toMatchObject({ parentSpanId: agentSpan.spanContext().spanId, status: 2, attributes: { 'error.type': 'RangeError' } });
    expect(one('airlock.decide export_customers', 'support-agent').attributes).toMatchObject({ 'airlock.decision.effect': 'block', 'airlock.decision.rule': 'export-customers' });
    expect(named('execute_tool export_customers')).toEqual([]);
  });

  it('an AI SDK agent (MockLanguageModelV3): the tool call id on the spans, all in the agent\'s trace', async () => {
    let calls = 0;
    const model = new MockLanguageModelV3({
      doGenerate: async (): Promise<GenerateResult> =>
        ++calls === 1
          ? step([{ type: 'tool-call', toolCallId: 'call-20', toolName: 'issue_refund', input: JSON.stringify(refund('A-7', 20)) }], 'tool-calls')
          : step([{ type: 'text', text: 'done' }], 'stop'),
    });
    const tools = governTools(airlock, {
      issue_refund: tool({
        description: 'Refund money to a customer account.',
        inputSchema: z.object({ account_id: z.string(), amount: z.number(), currency: z.enum(['USD', 'EUR', 'GBP']) }),
        execute: async ({ amount }) => `refunded ${amount}`,
      }),
    });
    const agentSpan = await asAgent(() => generateText({ model, tools, prompt: 'refund A-7 $20', stopWhen: stepCountIs(3) }));
    await flush(1);
    const { traceId, spanId } = agentSpan.spanContext();
    const decision = one('airlock.decide issue_refund', 'support-agent');
    expect(decision).toMatchObject({ traceId, parentSpanId: spanId, attributes: { 'gen_ai.tool.call.id': 'call-20', 'airlock.decision.effect': 'allow' } });
    expect(one('execute_tool issue_refund', 'support-agent')).toMatchObject({ traceId, parentSpanId: spanId, attributes: { 'gen_ai.tool.call.id': 'call-20' } });
    expect(one('airlock.decide issue_refund', 'airlock')).toMatchObject({ traceId, parentSpanId: decision.spanId });
  });

  it('an approval wait: a span with its outcome, the server\'s wait spans as its children', async () => {
    const admin = await server.admin();
    const { lead } = await people(server.url, admin, { [`lead${Date.now()}`]: { groups: ['support-leads'] } }).then((p) => ({ lead: Object.values(p)[0] }));
    const issueRefund = airlock.guard('issue_refund', async () => 'refunded', { approvalTimeoutMs: 20_000 });
    const agentSpan = await asAgent(async () => {
      const pending = issueRefund(refund('A-9', 75));
      for (;;) {
        const open = await lead!.get<{ approvals: { id: string }[] }>('/v1/approvals?status=pending');
        const id = open.body.approvals[0]?.id;
        if (id) {
          expect((await lead!.post(`/v1/approvals/${id}/approve`, { reason: 'ok' })).status).toBe(200);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await pending).toBe('refunded');
    });
    await provider.forceFlush();
    await eventually(async () => expect(named('airlock.approval.wait').some((span) => span.service === 'airlock' && span.attributes['airlock.approval.status'] === 'approved')).toBe(true));
    const wait = one('airlock.approval.wait', 'support-agent');
    expect(wait).toMatchObject({ traceId: agentSpan.spanContext().traceId, parentSpanId: agentSpan.spanContext().spanId, attributes: { 'airlock.approval.outcome': 'approved', 'airlock.approval.edited': false } });
    const serverWaits = named('airlock.approval.wait').filter((span) => span.service === 'airlock');
    expect(serverWaits.length).toBeGreaterThan(0);
    for (const span of serverWaits) expect(span).toMatchObject({ parentSpanId: wait.spanId, attributes: { 'airlock.approval.id': wait.attributes['airlock.approval.id'] } });
    expect(serverWaits.at(-1)?.attributes['airlock.approval.status']).toBe('approved');
    expect(one('execute_tool issue_refund', 'support-agent').parentSpanId).toBe(agentSpan.spanContext().spanId);
  });

  it('tracing off (tracing: false, or no OTLP endpoint in the environment): no spans and no traceparent', async () => {
    const off = createAirlock({ url: server.url, apiKey: server.keys['support-bot-1'] as string, tracing: false });
    const fixture = localFixture();
    const local = createAirlock({ policy: fixture.policy, agent: 'support-bot-1', role: 'support', audit: fixture.audit, watch: false });
    try {
      await asAgent(async () => {
        await off.guard('get_account', async () => 'ok')({ account_id: 'A-1' });
        await local.guard('get_account', async () => 'ok')({ account_id: 'A-1' });
      });
      await flush(1);
    } finally {
      await off.close();
      await local.close();
    }
    expect(receiver.spans.map((span) => span.name)).toEqual(['invoke_agent support', 'airlock.decide get_account']);
    // The server's span is a root: no trace context came with the request.
    expect(one('airlock.decide get_account', 'airlock').parentSpanId).toBe('');
  });
});

// Runs against the build (npm test builds first), as an application would import the package.
describe('OpenTelemetry off: never loaded', () => {
  const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  const policy = fileURLToPath(new URL('../../../examples/policies', import.meta.url));
  /** Governs one call in a fresh process and answers whether any @opentelemetry module was loaded. */
  const loadsOpenTelemetry = (tracing: string, env: Record<string, string> = {}): string => {
    const script = `
      import { createRequire } from 'node:module';
      const { createAirlock } = await import(${JSON.stringify(entry)});
      const airlock = createAirlock({ policy: ${JSON.stringify(policy)}, agent: 'support-bot-1', role: 'support', audit: false, watch: false${tracing} });
      const result = await airlock.guard('get_account', async () => 'ran')({ account_id: 'A-1' });
      await airlock.close();
      const loaded = Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes('@opentelemetry'));
      process.stdout.write(result + ' ' + loaded);`;
    const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OTEL_')));
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...clean, ...env } });
    expect(child.stderr).toBe('');
    return child.stdout;
  };

  it('by default, with tracing: false beside an endpoint, and with OTEL_SDK_DISABLED=true; loaded once an endpoint turns it on', { timeout: 120_000 }, () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' };
    expect(loadsOpenTelemetry('')).toBe('ran false');
    expect(loadsOpenTelemetry(', tracing: false', endpoint)).toBe('ran false');
    expect(loadsOpenTelemetry('', { ...endpoint, OTEL_SDK_DISABLED: 'true' })).toBe('ran false');
    expect(loadsOpenTelemetry('', endpoint)).toBe('ran true');
  });
});
