import type { AIMessage, ToolMessage} from '@langchain/core/messages';
import { AIMessageChunk, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { tool as langchainTool, type StructuredToolInterface } from '@langchain/core/tools';
import { FakeStreamingChatModel } from '@langchain/core/utils/testing';
import { Agent, run, setTracingDisabled, tool as agentsTool } from '@openai/agents';
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents/testing';
import { context, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../server/test/support/otlp-receiver.js';
import { eventually } from '../../server/test/support/people.js';
import { startTestServer, type TestServer } from '../../server/test/support/server.js';
import { governTools as governLangChainTools } from '../src/adapters/langchain.js';
import { governTools as governAgentsTools } from '../src/adapters/openai-agents.js';
import { createAirlock, type Airlock } from '../src/index.js';

/**
 * Issue 21: the OpenAI Agents JS and LangChain.js adapters inside the application's traces, each
 * driven by its framework's own scripted model: a $20 refund (allowed), a lookup that throws, and
 * a $75 refund (sent for approval). The in-test OTLP receiver must find, under the agent's span,
 * the SDK's decision span with the decision's attributes (and the server's decision span as its
 * child), and the tool's `execute_tool` span (GenAI conventions), with error status for the throw.
 */
describe('OpenTelemetry through the framework adapters', () => {
  let receiver: OtlpReceiver;
  let provider: BasicTracerProvider;
  let server: TestServer;
  let airlock: Airlock;

  beforeAll(async () => {
    // The Agents SDK's own tracing exports to OpenAI's platform: off here, as in the adapter tests.
    setTracingDisabled(true);
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
    await airlock?.close();
    await server?.dispose();
    await provider?.shutdown();
    trace.disable();
    context.disable();
    await receiver?.close();
  });
  beforeEach(() => {
    receiver.spans.length = 0;
  });

  const asAgent = async (name: string, fn: () => Promise<unknown>): Promise<Span> =>
    trace.getTracer('support-agent').startActiveSpan(`invoke_agent ${name}`, async (span) => {
      try {
        await fn();
      } finally {
        span.end();
      }
      return span;
    });
  /** Exports what the app holds, and waits for the server's batch (every 20 ms here) to hold a decision span per SDK decision span. */
  const flush = async (): Promise<void> => {
    await provider.forceFlush();
    const decisions = (service: string): number => receiver.spans.filter((span) => span.service === service && span.name.startsWith('airlock.decide ')).length;
    await eventually(async () => expect(decisions('airlock')).toBe(decisions('support-agent')));
  };

  /**
   * The chain every governed call must show, answered for the next assertions: under the agent's
   * span, the SDK's decision span(s) for the call (`asked`: the Agents adapter asks twice, in
   * needsApproval and in invoke, the second answered the same decision by its idempotency key),
   * each with the server's decision span as its child.
   */
  const expectTraced = (agentSpan: Span, tool: string, callId: string, asked = 1): { decision: ReceivedSpan } => {
    const { traceId, spanId } = agentSpan.spanContext();
    const decisions = receiver.spans.filter((span) => span.name === `airlock.decide ${tool}` && span.service === 'support-agent' && span.attributes['gen_ai.tool.call.id'] === callId);
    expect(decisions, `decision spans of ${callId}`).toHaveLength(asked);
    const decision = decisions[0] as ReceivedSpan;
    for (const span of decisions) {
      expect(span).toMatchObject({ traceId, parentSpanId: spanId, kind: 3, attributes: { 'gen_ai.tool.name': tool, 'airlock.decision.id': decision.attributes['airlock.decision.id'] } });
      // The remote transport sent the SDK's span as traceparent: the server decided inside it.
      const onServer = receiver.spans.filter((s) => s.service === 'airlock' && s.parentSpanId === span.spanId);
      expect(onServer).toMatchObject([{ name: `airlock.decide ${tool}`, traceId, attributes: { 'airlock.decision.id': decision.attributes['airlock.decision.id'] } }]);
    }
    expect(decision.attributes['airlock.decision.id']).toMatch(/^dec_/);
    expect(decision.attributes['airlock.policy.version']).toEqual(expect.any(String));
    expect(decision.attributes['airlock.risk.level']).toEqual(expect.any(String));
    expect(decision.attributes['airlock.risk.score']).toEqual(expect.any(Number));
    return { decision };
  };
  const expectExecuted = (agentSpan: Span, tool: string, callId: string, decision: ReceivedSpan, status: number): ReceivedSpan => {
    const spans = receiver.spans.filter((s) => s.name === `execute_tool ${tool}` && s.attributes['gen_ai.tool.call.id'] === callId);
    expect(spans, `execute_tool of ${callId}`).toHaveLength(1);
    const span = spans[0] as ReceivedSpan;
    expect(span).toMatchObject({
      traceId: agentSpan.spanContext().traceId,
      parentSpanId: agentSpan.spanContext().spanId,
      kind: 1,
      status,
      attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': tool, 'gen_ai.tool.call.id': callId, 'airlock.decision.id': decision.attributes['airlock.decision.id'] },
    });
    return span;
  };

  const refundSchema = z.object({ account_id: z.string(), amount: z.number(), currency: z.enum(['USD', 'EUR', 'GBP']) });
  const accountSchema = z.object({ account_id: z.string() });

  it("OpenAI Agents JS (ScriptedModel): $20 refund, a throwing lookup (the SDK's default error handling), a $75 refund sent for approval", async () => {
    const refunded: number[] = [];
    const tools = governAgentsTools(airlock, [
      agentsTool({ name: 'issue_refund', description: 'Refund money.', parameters: refundSchema, execute: async ({ amount }) => (refunded.push(amount), `refunded ${amount}`) }),
      // The Agents SDK's default errorFunction turns the throw into a message for the model.
      agentsTool({
        name: 'get_account',
        description: 'Read an account.',
        parameters: accountSchema,
        execute: async (): Promise<string> => {
          throw new RangeError('account store is down');
        },
      }),
    ] as const);
    const model = new ScriptedModel([
      [functionCall('issue_refund', { account_id: 'OT-A1', amount: 20, currency: 'USD' }, { callId: 'call_20' })],
      [functionCall('get_account', { account_id: 'OT-A1' }, { callId: 'call_get' })],
      [functionCall('issue_refund', { account_id: 'OT-A2', amount: 75, currency: 'USD' }, { callId: 'call_75' })],
      [assistantMessage('done')],
    ]);
    let interrupted = 0;
    const agentSpan = await asAgent('Support', async () => {
      const result = await run(new Agent({ name: 'Support', model, tools: [...tools] }), 'refund $20, then read the account, then refund $75');
      interrupted = result.interruptions.length;
    });
    await flush();
    expect(refunded).toEqual([20]);
    expect(interrupted).toBe(1);

    const refund = expectTraced(agentSpan, 'issue_refund', 'call_20', 2);
    expect(refund.decision.attributes).toMatchObject({ 'airlock.decision.effect': 'allow', 'airlock.decision.rule': 'refund-small' });
    expectExecuted(agentSpan, 'issue_refund', 'call_20', refund.decision, 0);

    const lookup = expectTraced(agentSpan, 'get_account', 'call_get', 2);
    expect(lookup.decision.attributes['airlock.decision.effect']).toBe('allow');
    expect(expectExecuted(agentSpan, 'get_account', 'call_get', lookup.decision, 2).attributes['error.type']).toBe('ToolError');

    // The $75 refund: asked for in needsApproval, the run interrupted for the approval; nothing executed.
    const approval = expectTraced(agentSpan, 'issue_refund', 'call_75');
    expect(approval.decision.attributes).toMatchObject({ 'airlock.decision.effect': 'require_approval', 'airlock.decision.rule': 'refund-medium' });
    expect(approval.decision.attributes['airlock.approval.id']).toMatch(/^apr_/);
    expect(receiver.spans.filter((span) => span.name === 'execute_tool issue_refund')).toHaveLength(1);
  });

  it('OpenAI Agents JS: with errorFunction: null the throw reaches the run, and execute_tool carries its error class', async () => {
    const tools = governAgentsTools(airlock, [
      agentsTool({
        name: 'get_account',
        description: 'Read an account.',
        parameters: accountSchema,
        errorFunction: null,
        execute: async (): Promise<string> => {
          throw new RangeError('account store is down');
        },
      }),
    ] as const);
    const model = new ScriptedModel([[functionCall('get_account', { account_id: 'OT-A3' }, { callId: 'call_throw' })], [assistantMessage('done')]]);
    const agentSpan = await asAgent('Support', () => expect(run(new Agent({ name: 'Support', model, tools: [...tools] }), 'read OT-A3')).rejects.toThrow('account store is down'));
    await flush();
    const { decision } = expectTraced(agentSpan, 'get_account', 'call_throw', 2);
    expect(expectExecuted(agentSpan, 'get_account', 'call_throw', decision, 2).attributes['error.type']).toBe('RangeError');
  });

  it('LangChain.js (FakeStreamingChatModel with bindTools): $20 refund, a throwing lookup, a $75 refund sent for approval', async () => {
    const refunded: number[] = [];
    const tools: StructuredToolInterface[] = governLangChainTools(
      airlock,
      [
        langchainTool(async ({ amount }: z.infer<typeof refundSchema>) => (refunded.push(amount), `refunded ${amount}`), { name: 'issue_refund', description: 'Refund money.', schema: refundSchema }),
        langchainTool(
          async (): Promise<string> => {
            throw new RangeError('account store is down');
          },
          { name: 'get_account', description: 'Read an account.', schema: accountSchema },
        ),
      ],
      { approval: 'return' },
    );
    const byName = new Map(tools.map((t) => [t.name, t]));
    // The model asks for the three calls in one turn, as a tool-calling chat model does.
    const model = new FakeStreamingChatModel({
      chunks: [
        new AIMessageChunk({
          content: '',
          tool_calls: [
            { id: 'lc_20', name: 'issue_refund', args: { account_id: 'OT-L1', amount: 20, currency: 'USD' }, type: 'tool_call' },
            { id: 'lc_get', name: 'get_account', args: { account_id: 'OT-L1' }, type: 'tool_call' },
            { id: 'lc_75', name: 'issue_refund', args: { account_id: 'OT-L2', amount: 75, currency: 'USD' }, type: 'tool_call' },
          ],
        }),
      ],
    }).bindTools(tools);
    const answers: (ToolMessage | Error)[] = [];
    // The tool-calling loop of LangChain's docs: invoke the model, invoke each tool with its tool call.
    const agentSpan = await asAgent('support', async () => {
      const messages: BaseMessage[] = [new HumanMessage('refund $20, read the account, refund $75')];
      const reply = (await model.invoke(messages)) as AIMessage;
      for (const call of reply.tool_calls ?? []) {
        answers.push(await (byName.get(call.name) as StructuredToolInterface).invoke(call).then((m: ToolMessage) => m, (error: Error) => error));
      }
    });
    await flush();
    expect(refunded).toEqual([20]);
    expect(answers.map((answer) => (answer instanceof Error ? answer.message : answer.tool_call_id))).toEqual(['lc_20', 'account store is down', 'lc_75']);

    const refund = expectTraced(agentSpan, 'issue_refund', 'lc_20');
    expect(refund.decision.attributes).toMatchObject({ 'airlock.decision.effect': 'allow', 'airlock.decision.rule': 'refund-small' });
    expectExecuted(agentSpan, 'issue_refund', 'lc_20', refund.decision, 0);

    const lookup = expectTraced(agentSpan, 'get_account', 'lc_get');
    expect(expectExecuted(agentSpan, 'get_account', 'lc_get', lookup.decision, 2).attributes['error.type']).toBe('RangeError');

    const approval = expectTraced(agentSpan, 'issue_refund', 'lc_75');
    expect(approval.decision.attributes).toMatchObject({ 'airlock.decision.effect': 'require_approval', 'airlock.decision.rule': 'refund-medium' });
    expect(approval.decision.attributes['airlock.approval.id']).toMatch(/^apr_/);
    expect(receiver.spans.filter((span) => span.name === 'execute_tool issue_refund')).toHaveLength(1);
  });
});
