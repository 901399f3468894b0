import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../server/test/support/otlp-receiver.js';
import { eventually } from '../../server/test/support/people.js';
import { startTestServer, type TestServer } from '../../server/test/support/server.js';
import { fixtureCommand, received, stdioClient, tempDir, traceparents } from './harness.js';

/**
 * Issue 21: the MCP gateway (`airlock mcp-proxy`, the built binary) with OTEL_EXPORTER_OTLP_ENDPOINT
 * set, driven by the MCP SDK's Client. A forwarded tools/call gets a `tools/call {tool}` span, the
 * child of the span the client named in `params._meta.traceparent` (MCP SEP-414) or a root, and in it
 * the SDK's decision span and an `execute_tool` span around the upstream call; the upstream server is
 * sent the execute_tool span as its parent. The gateway exports OTLP/protobuf (the default protocol), the server OTLP/JSON, to one
 * in-test receiver.
 */
describe('OpenTelemetry: the MCP gateway', () => {
  let receiver: OtlpReceiver;
  let server: TestServer;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    server = await startTestServer({ otelEnvironment: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'airlock', OTEL_BSP_SCHEDULE_DELAY: '20' } });
  });
  afterAll(async () => {
    await server?.dispose();
    await receiver?.close();
  });
  beforeEach(() => {
    receiver.spans.length = 0;
  });

  /** A proxy in front of the fixture server, tracing to the receiver; `record` is what the fixture received. */
  async function connect(): Promise<{ client: Client; record: string; stderr: () => string }> {
    const record = join(tempDir(), 'received.jsonl');
    const env = { AIRLOCK_API_KEY: server.keys['support-bot-1'] as string, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '20' };
    const { client, stderr } = await stdioClient(['--url', server.url, '--', ...fixtureCommand(record)], { env });
    return { client, record, stderr };
  }
  /** The client's own span, as an instrumented MCP client sends it. */
  const clientSpan = () => {
    const traceId = randomBytes(16).toString('hex');
    const spanId = randomBytes(8).toString('hex');
    return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
  };
  const gateway = (name: string): ReceivedSpan[] => receiver.spans.filter((span) => span.service === 'airlock-mcp-proxy' && span.name === name);
  /** Waits until the gateway exported `count` spans named `name` (it batches every 20 ms), and every decision span has the server's child. */
  const exported = async (name: string, count: number): Promise<ReceivedSpan[]> => {
    await eventually(async () => {
      expect(gateway(name)).toHaveLength(count);
      const decisions = receiver.spans.filter((span) => span.service === 'airlock-mcp-proxy' && span.name.startsWith('airlock.decide '));
      for (const decision of decisions) expect(receiver.spans.some((span) => span.service === 'airlock' && span.parentSpanId === decision.spanId)).toBe(true);
    });
    return gateway(name);
  };

  /** The gateway's tools/call span of a call, the parent of its decision and execute_tool spans. */
  const toolsCall = (child: ReceivedSpan | undefined): ReceivedSpan => {
    const found = receiver.spans.find((span) => span.service === 'airlock-mcp-proxy' && span.spanId === child?.parentSpanId);
    expect(found).toMatchObject({ name: expect.stringMatching(/^tools\/call /), kind: 2, traceId: child?.traceId, attributes: { 'mcp.method.name': 'tools/call' } });
    return found as ReceivedSpan;
  };

  it("a $20 refund: tools/call span the child of the client's span, decision and execute_tool in it; the upstream is sent execute_tool as parent", async () => {
    const { client, record } = await connect();
    const caller = clientSpan();
    const result = await client.callTool({ name: 'issue_refund', arguments: { account_id: 'OT-M1', amount: 20, currency: 'USD' }, _meta: { traceparent: caller.traceparent } });
    expect(result.isError).toBeFalsy();
    const [execute] = await exported('execute_tool issue_refund', 1);
    const [decision] = gateway('airlock.decide issue_refund');
    const call = toolsCall(decision);
    expect(call).toMatchObject({ protocol: 'protobuf', name: 'tools/call issue_refund', traceId: caller.traceId, parentSpanId: caller.spanId, status: 0, attributes: { 'gen_ai.tool.name': 'issue_refund' } });
    expect(decision).toMatchObject({
      traceId: caller.traceId,
      parentSpanId: call.spanId,
      kind: 3,
      attributes: { 'gen_ai.tool.name': 'issue_refund', 'airlock.decision.effect': 'allow', 'airlock.decision.rule': 'refund-small' },
    });
    expect(decision?.attributes['airlock.decision.id']).toMatch(/^dec_/);
    expect(decision?.attributes['airlock.policy.version']).toEqual(expect.any(String));
    expect(decision?.attributes['airlock.risk.level']).toEqual(expect.any(String));
    expect(receiver.spans.filter((span) => span.service === 'airlock' && span.name === 'airlock.decide issue_refund')).toMatchObject([{ traceId: caller.traceId, parentSpanId: decision?.spanId }]);
    expect(execute).toMatchObject({
      traceId: caller.traceId,
      parentSpanId: call.spanId,
      status: 0,
      attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'issue_refund', 'airlock.decision.id': decision?.attributes['airlock.decision.id'] },
    });
    expect(received(record)).toHaveLength(1);
    expect(traceparents(record)).toEqual([`00-${caller.traceId}-${execute?.spanId}-01`]);
  });

  it('an upstream tool error (isError) and an upstream that dies mid-call: execute_tool has error status', async () => {
    const { client } = await connect();
    const caller = clientSpan();
    const failed = await client.callTool({ name: 'get_account', arguments: { account_id: 'fail' }, _meta: { traceparent: caller.traceparent } });
    expect(failed.isError).toBe(true);
    const [toolError] = await exported('execute_tool get_account', 1);
    expect(toolsCall(toolError).parentSpanId).toBe(caller.spanId);
    expect(toolError).toMatchObject({ traceId: caller.traceId, status: 2, attributes: { 'gen_ai.tool.name': 'get_account', 'error.type': 'ToolError' } });

    // The fixture exits on `crash`: the forwarded request fails with an MCP error, not a tool result.
    await expect(client.callTool({ name: 'get_account', arguments: { account_id: 'crash' }, _meta: { traceparent: caller.traceparent } })).rejects.toThrow();
    const spans = await exported('execute_tool get_account', 2);
    const crashed = spans.find((span) => span.spanId !== toolError?.spanId);
    expect(crashed).toMatchObject({ traceId: caller.traceId, status: 2, attributes: { 'error.type': 'RelayedError' } });
    expect(toolsCall(crashed)).toMatchObject({ parentSpanId: caller.spanId, status: 2 });
  });

  it('no traceparent, or one that is malformed: the tools/call span is a root; a blocked call has no execute_tool span', async () => {
    const { client, record } = await connect();
    const bad = ['', 'garbage', `00-${'0'.repeat(32)}-${'1'.repeat(16)}-01`, `ff-${'a'.repeat(32)}-${'1'.repeat(16)}-01`, `00-${'a'.repeat(32)}-${'1'.repeat(16)}-01-extra`, 42];
    for (const traceparent of [undefined, ...bad]) {
      const meta = traceparent === undefined ? {} : { _meta: { traceparent } };
      expect((await client.callTool({ name: 'get_account', arguments: { account_id: 'OT-M2' }, ...meta })).isError).toBeFalsy();
    }
    expect((await client.callTool({ name: 'export_customers', arguments: {} })).isError).toBe(true);
    const executes = await exported('execute_tool get_account', bad.length + 1);
    await exported('airlock.decide export_customers', 1);
    const decisions = gateway('airlock.decide get_account');
    expect(decisions).toHaveLength(bad.length + 1);
    for (const span of [...decisions, ...executes]) expect(toolsCall(span).parentSpanId).toBe('');
    expect(new Set(executes.map((span) => span.traceId)).size).toBe(executes.length);
    expect(gateway('execute_tool export_customers')).toEqual([]);
    // The upstream is told the gateway's span in place of whatever the client sent.
    expect(traceparents(record)).toEqual(executes.map((span) => `00-${span.traceId}-${span.spanId}-01`));
  });
});
