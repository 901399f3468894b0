import { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { ToolMessage} from '@langchain/core/messages';
import { AIMessage, HumanMessage, type BaseMessage, type ToolCall as LangChainToolCall } from '@langchain/core/messages';
import type { ChatResult } from '@langchain/core/outputs';
import { tool as langchainTool } from '@langchain/core/tools';
import { Agent, run, setTracingDisabled, tool as agentsTool } from '@openai/agents';
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents/testing';
import { generateText, tool as aiTool, type ModelMessage } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { z } from 'zod';
import { approvalResponses, governTools as governAiTools } from '../src/adapters/ai-sdk.js';
import { governTool as governLangChainTool } from '../src/adapters/langchain.js';
import { governTool as governAgentsTool } from '../src/adapters/openai-agents.js';
import { AirlockAlreadyRanError, createAirlock, EdgeTransport, LocalTransport, type Airlock } from '../src/index.js';
import { localFixture, type LocalFixture } from './local-fixture.js';
import type { ServerSession } from './server-session.js';
import { startSdkServer, type SdkServer } from './support/server.js';

/**
 * Issue 23, "one decision, one run": agents whose frameworks repeat tool call ids (`call_0` from a
 * scripted model, run again and again) against the refund budget of the seed policies ($100 per
 * account per 24 h, $20 refunds allowed, more needs approval). A repeated id never runs a tool
 * again unaudited and uncounted: it is decided afresh (the sixth $20 refund needs approval) or
 * refused as already run.
 */

type Mode = 'remote' | 'edge' | 'local';
type Refund = { account_id: string; amount: number; currency: 'USD' | 'EUR' | 'GBP' };
const refund = (account_id: string, amount = 20): Refund => ({ account_id, amount, currency: 'USD' });
const refundSchema = z.object({ account_id: z.string(), amount: z.number(), currency: z.enum(['USD', 'EUR', 'GBP']) });

interface AuditRecord {
  type: string;
  data: { request?: { args?: { account_id?: string } }; code?: string; decision?: string; firstRunAt?: string };
}

let server: SdkServer;
let admin: ServerSession;
let supportKey: string;
let accounts = 0;

beforeAll(async () => {
  setTracingDisabled(true);
  server = await startSdkServer('airlock-one-run-');
  supportKey = server.key('support-bot-1');
  admin = await server.signIn();
});
afterAll(() => server.close());

/** The client of one mode, and what its audit trail holds (the server's, or local mode's file). */
async function client(mode: Mode): Promise<{ airlock: Airlock; audit: (type: string, account?: string) => Promise<AuditRecord[]>; fixture?: LocalFixture }> {
  if (mode === 'local') {
    const fixture = localFixture();
    const airlock = createAirlock({ policy: fixture.policy, agent: 'support-bot-1', role: 'support', audit: fixture.audit, watch: false });
    onTestFinished(() => airlock.close());
    const audit = async (type: string, account?: string) =>
      fixture
        .records()
        .map((r) => {
          const record = r as unknown as { event: string; call?: { args?: { account_id?: string } } } & AuditRecord['data'];
          return { type: record.event, data: { ...record, request: record.call } } as AuditRecord;
        })
        .filter((r) => r.type === type && (account === undefined || r.data.request?.args?.account_id === account));
    return { airlock, audit, fixture };
  }
  const airlock = createAirlock({ url: server.url, apiKey: supportKey, ...(mode === 'edge' ? { edge: { spool: false, flushMs: 20 } } : {}) });
  onTestFinished(() => airlock.close());
  if (airlock.transport instanceof EdgeTransport) await airlock.transport.ready;
  const audit = async (type: string, account?: string) => {
    const { body } = await admin.get(`/v1/audit?type=${type}&agent=support-bot-1&limit=500`);
    return (body.records as AuditRecord[]).filter((r) => account === undefined || r.data.request?.args?.account_id === account);
  };
  return { airlock, audit };
}

const account = (mode: Mode) => `ONE-RUN-${mode}-${++accounts}`;

/** A LangChain chat model scripted to call the given tools (ids as given), as test models do. */
class ScriptedChatModel extends BaseChatModel {
  constructor(private readonly calls: LangChainToolCall[]) {
    super({});
  }
  _llmType(): string {
    return 'scripted';
  }
  async _generate(_messages: BaseMessage[]): Promise<ChatResult> {
    return { generations: [{ text: '', message: new AIMessage({ content: '', tool_calls: this.calls }) }] };
  }
}

describe.each<Mode>(['remote', 'edge', 'local'])('a second run whose tool call ids repeat (%s mode)', (mode) => {
  it('ai: each run decides call_0 afresh, audited and counted: five $20 refunds run, the sixth needs approval', async () => {
    const { airlock, audit } = await client(mode);
    const issueRefund = vi.fn(async (input: Refund) => `refunded ${input.amount}`);
    const tools = governAiTools(airlock, { issue_refund: aiTool({ description: 'Refund money.', inputSchema: refundSchema, execute: issueRefund }) }, { approval: 'return' });
    const to = account(mode);
    const outputs: unknown[] = [];
    for (let i = 0; i < 6; i++) {
      const model = new MockLanguageModelV3({ doGenerate: aiStep([{ type: 'tool-call', toolCallId: 'call_0', toolName: 'issue_refund', input: JSON.stringify(refund(to)) }]) });
      const result = await generateText({ model, tools, prompt: 'refund $20' });
      outputs.push(result.toolResults[0]?.output);
    }
    expect(issueRefund).toHaveBeenCalledTimes(5);
    expect(outputs[5]).toMatchObject({ airlock: 'approval_pending', reason: expect.stringContaining('$100') });
    expect(await audit('decision', to)).toHaveLength(6);
  });

  it('OpenAI Agents: each run decides call_0 afresh: five $20 refunds run, the sixth is interrupted for approval', async () => {
    const { airlock, audit } = await client(mode);
    const issueRefund = vi.fn(async (input: Refund) => `refunded ${input.amount}`);
    const governed = governAgentsTool(airlock, agentsTool({ name: 'issue_refund', description: 'Refund money.', parameters: refundSchema, execute: issueRefund }));
    const to = account(mode);
    const interruptions: number[] = [];
    for (let i = 0; i < 6; i++) {
      const model = new ScriptedModel([[functionCall('issue_refund', refund(to), { callId: 'call_0' })], [assistantMessage('done')]]);
      const result = await run(new Agent({ name: 'Support', model, tools: [governed] }), 'refund $20');
      interruptions.push(result.interruptions.length);
    }
    expect(issueRefund).toHaveBeenCalledTimes(5);
    expect(interruptions).toEqual([0, 0, 0, 0, 0, 1]);
    expect(await audit('decision', to)).toHaveLength(6);
  });

  it('LangChain: call_0 run again in the same thread is refused already_ran, audited; other threads are decided afresh', async () => {
    const { airlock, audit } = await client(mode);
    const issueRefund = vi.fn(async (input: Refund) => `refunded ${input.amount}`);
    const governed = governLangChainTool(airlock, langchainTool(issueRefund, { name: 'issue_refund', description: 'Refund money.', schema: refundSchema }), { approval: 'return' });
    const runAgent = async (to: string, thread?: string): Promise<ToolMessage> => {
      const model = new ScriptedChatModel([{ type: 'tool_call', id: 'call_0', name: 'issue_refund', args: refund(to) }]);
      const message = (await model.invoke([new HumanMessage('refund $20')])) as AIMessage;
      const [call] = message.tool_calls ?? [];
      return (await governed.invoke({ ...(call as LangChainToolCall), type: 'tool_call' }, thread === undefined ? undefined : { configurable: { thread_id: thread } })) as ToolMessage;
    };
    // The budget bypass: the same agent run eight times (one conversation); the refund runs once.
    const to = account(mode);
    const answers: ToolMessage[] = [];
    for (let i = 0; i < 8; i++) answers.push(await runAgent(to, mode === 'remote' ? undefined : `thread-${to}`));
    expect(issueRefund).toHaveBeenCalledTimes(1);
    expect(answers[0]?.content).toBe('refunded 20');
    const first = (await audit('decision', to))[0];
    for (const answer of answers.slice(1)) {
      expect(answer.status).toBe('error');
      expect(JSON.parse(answer.content as string)).toMatchObject({ airlock: 'blocked', code: 'already_ran', firstRunAt: expect.any(String) });
    }
    if (mode === 'edge') await (airlock.transport as EdgeTransport).close();
    expect(await audit('call.refused', to)).toHaveLength(7);
    expect(await audit('decision', to)).toHaveLength(1);
    expect(first).toBeDefined();

    // Runs in six conversations (threads): decided afresh each, the sixth $20 needs approval.
    if (mode === 'edge') return;
    const other = account(mode);
    const threads: ToolMessage[] = [];
    for (let i = 0; i < 6; i++) threads.push(await runAgent(other, `thread-${other}-${i}`));
    expect(threads.slice(0, 5).map((m) => m.content)).toEqual(Array(5).fill('refunded 20'));
    expect(JSON.parse(threads[5]?.content as string)).toMatchObject({ airlock: 'approval_pending' });
  });
});

describe('claims against a server', () => {
  it('ai native approval flow: ask, approve, resume runs the approved call once; a second run of call_0 asks again', async () => {
    const { airlock } = await client('remote');
    const issueRefund = vi.fn(async (input: Refund) => `refunded ${input.amount}`);
    const tools = governAiTools(airlock, { issue_refund: aiTool({ description: 'Refund money.', inputSchema: refundSchema, execute: issueRefund }) }, { approval: 'native' });
    const to = account('remote');
    const attempt = async () => {
      const model = new MockLanguageModelV3({ doGenerate: aiStep([{ type: 'tool-call', toolCallId: 'call_0', toolName: 'issue_refund', input: JSON.stringify(refund(to, 75)) }]) });
      const asked = await generateText({ model, tools, prompt: 'refund $75' });
      const request = asked.content.find((part) => part.type === 'tool-approval-request');
      expect(request).toBeDefined();
      const pending = await admin.get(`/v1/approvals?status=pending&agent=support-bot-1`);
      const approval = (pending.body.approvals as { id: string; args: Refund }[]).find((a) => a.args.account_id === to);
      expect((await admin.post(`/v1/approvals/${approval?.id}/approve`, { reason: 'ok' })).status).toBe(200);
      const responses = await approvalResponses(airlock, asked.content, { timeoutMs: 5_000 });
      expect(responses).toMatchObject([{ approved: true }]);
      const messages: ModelMessage[] = [{ role: 'user', content: 'refund $75' }, ...asked.response.messages, { role: 'tool', content: responses }];
      const resumed = await generateText({ model: new MockLanguageModelV3({ doGenerate: aiStep([{ type: 'text', text: 'done' }], 'stop') }), tools, messages });
      return { resumed, approval: approval?.id };
    };
    const first = await attempt();
    expect(issueRefund.mock.calls).toEqual([[refund(to, 75), expect.anything()]]);
    expect(first.resumed.text).toBe('done');
    // The same ids in the next run: a new approval, a second run only once it is approved too.
    const second = await attempt();
    expect(second.approval).not.toBe(first.approval);
    expect(issueRefund).toHaveBeenCalledTimes(2);
  });

  it('a claim whose answer was lost is asked again with the same claim id: the tool runs once, nothing is refused', async () => {
    let dropped = 0;
    const lossy: typeof fetch = async (url, init) => {
      const response = await fetch(url, init);
      const headers = new Headers(init?.headers);
      if (headers.has('airlock-claim') && dropped === 0) {
        dropped++;
        throw new TypeError('socket hang up');
      }
      return response;
    };
    const airlock = createAirlock({ url: server.url, apiKey: supportKey, fetch: lossy });
    onTestFinished(() => airlock.close());
    const to = account('remote');
    const issueRefund = vi.fn(async () => 'refunded');
    const verdict = await airlock.check({ tool: 'issue_refund', args: refund(to) }, { idempotencyKey: `lossy-${to}`, claim: true });
    expect(await airlock.execute(verdict, issueRefund)).toBe('refunded');
    expect(dropped).toBe(1);
    const { body } = await admin.get('/v1/audit?type=call.refused&agent=support-bot-1&limit=500');
    expect((body.records as AuditRecord[]).filter((r) => r.data.request?.args?.account_id === to)).toEqual([]);
  });

  it('edge: a local allow claimed twice by key runs once; the refused attempt reaches the server as call.refused', async () => {
    const { airlock, audit } = await client('edge');
    const call = { tool: 'get_account', args: { account_id: account('edge') } };
    const first = await airlock.check(call, { idempotencyKey: 'ai:call_0', claim: true });
    expect(first).toMatchObject({ outcome: 'run', decision: { id: expect.stringMatching(/^edg_/) } });
    expect(await airlock.check(call, { idempotencyKey: 'ai:call_0' })).toMatchObject({ outcome: 'run' });
    const again = await airlock.check(call, { idempotencyKey: 'ai:call_0', claim: true });
    expect(again).toMatchObject({ outcome: 'refused', refusal: { code: 'already_ran', decisionId: first.outcome === 'run' ? first.decision?.id : '' } });
    // A repeated id decided afresh: a new local decision, reported like the first.
    const fresh = await airlock.check(call, { idempotencyKey: 'ai:call_0', claim: true, repeat: 'decide' });
    expect(fresh).toMatchObject({ outcome: 'run', decision: { repeatOf: first.outcome === 'run' ? first.decision?.id : '' } });
    await (airlock.transport as EdgeTransport).close();
    expect(await audit('call.refused')).toEqual(expect.arrayContaining([expect.objectContaining({ data: expect.objectContaining({ code: 'already_ran', decision: first.outcome === 'run' ? first.decision?.id : '' }) })]));
    const decisions = (await audit('decision')).filter((r) => (r.data.request?.args as { account_id?: string } | undefined)?.account_id === call.args.account_id);
    expect(decisions).toHaveLength(2);
  });
});

describe('claims in local mode', () => {
  it('of 100 concurrent claims of one keyed allow, one runs; the others are refused and audited', async () => {
    const fixture = localFixture();
    const transport = new LocalTransport({ policy: fixture.policy, agent: 'support-bot-1', role: 'support', audit: fixture.audit, watch: false });
    onTestFinished(() => transport.close());
    const call = { tool: 'issue_refund', args: refund('LOCAL-RACE') };
    await transport.decide(call, { idempotencyKey: 'k' });
    const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => transport.decide(call, { idempotencyKey: 'k', claim: `clm_${i}` })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof AirlockAlreadyRanError)).toHaveLength(99);
    expect(fixture.records().filter((r) => r.event === 'call.refused')).toHaveLength(99);
    expect(fixture.records().filter((r) => r.event === 'call.started')).toHaveLength(1);
    // The same attempt asking again gets the same answer.
    const winner = results.findIndex((r) => r.status === 'fulfilled');
    expect(await transport.decide(call, { idempotencyKey: 'k', claim: `clm_${winner}` })).toMatchObject({ effect: 'allow' });
  });
});

type AiContent = Awaited<ReturnType<MockLanguageModelV3['doGenerate']>>['content'];
function aiStep(content: AiContent, finish: 'tool-calls' | 'stop' = 'tool-calls'): Awaited<ReturnType<MockLanguageModelV3['doGenerate']>> {
  const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
  return { content, finishReason: { unified: finish, raw: undefined }, usage, warnings: [] };
}
