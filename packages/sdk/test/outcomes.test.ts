import { createHash } from 'node:crypto';
import { Agent, run, setTracingDisabled, tool as agentsTool } from '@openai/agents';
import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents/testing';
import { generateText, tool as aiTool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { governTools as governAiTools } from '../src/adapters/ai-sdk.js';
import { governTool as governAgentsTool } from '../src/adapters/openai-agents.js';
import type { RemoteTransport} from '../src/index.js';
import { createAirlock, EdgeTransport, OutcomeBatcher, type Airlock, type ExecutionOutcome } from '../src/index.js';
import { localFixture } from './local-fixture.js';
import type { ServerSession } from './server-session.js';
import { startSdkServer, type SdkServer } from './support/server.js';

/**
 * Issue 21 item 1: agents in real frameworks run a governed $20 refund (it succeeds) and a tool
 * that throws; the trail holds decision → call.executed / call.failed for each, chained, and the
 * chain verifies.
 */

type Refund = { account_id: string; amount: number; currency: 'USD' | 'EUR' | 'GBP' };
const refundSchema = z.object({ account_id: z.string(), amount: z.number(), currency: z.enum(['USD', 'EUR', 'GBP']) });
const accountSchema = z.object({ account_id: z.string() });
const refund = (account_id: string): Refund => ({ account_id, amount: 20, currency: 'USD' });
const digest = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

interface AuditRecord {
  seq: number;
  type: string;
  tool: string | null;
  data: { id?: string; decision?: string; status?: string; durationMs?: number; error?: { class: string; message: string }; result?: { digest: string; size: number }; request?: { args?: Record<string, unknown> } };
}

let server: SdkServer;
let admin: ServerSession;
let supportKey: string;
let accounts = 0;

beforeAll(async () => {
  setTracingDisabled(true);
  server = await startSdkServer('airlock-outcomes-');
  supportKey = server.key('support-bot-1');
  admin = await server.signIn();
});
afterAll(() => server.close());

async function remote(mode: 'remote' | 'edge'): Promise<Airlock> {
  const airlock = createAirlock({ url: server.url, apiKey: supportKey, ...(mode === 'edge' ? { edge: { spool: false, flushMs: 20 } } : {}) });
  onTestFinished(() => airlock.close());
  if (airlock.transport instanceof EdgeTransport) await airlock.transport.ready;
  return airlock;
}

/** The trail of one account: its decisions and the outcomes linked to them, in chain order. */
async function trail(account: string): Promise<{ decisions: AuditRecord[]; outcomes: AuditRecord[] }> {
  const records = ((await admin.get('/v1/audit?agent=support-bot-1&limit=500')).body.records as AuditRecord[]).reverse();
  const decisions = records.filter((r) => r.type === 'decision' && r.data.request?.args?.account_id === account);
  const ids = new Set(decisions.map((d) => d.data.id));
  return { decisions, outcomes: records.filter((r) => (r.type === 'call.executed' || r.type === 'call.failed') && ids.has(r.data.decision)) };
}

function aiStep(content: unknown[], finish: 'tool-calls' | 'stop' = 'tool-calls'): Awaited<ReturnType<MockLanguageModelV3['doGenerate']>> {
  const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
  return { content, finishReason: { unified: finish, raw: undefined }, usage, warnings: [] } as unknown as Awaited<ReturnType<MockLanguageModelV3['doGenerate']>>;
}

describe.each(['remote', 'edge'] as const)('outcomes reach the audit chain (%s mode)', (mode) => {
  it('ai: a $20 refund that succeeds and a lookup that throws → call.executed and call.failed after their decisions; the chain verifies', async () => {
    const airlock = await remote(mode);
    const to = `OUTCOME-AI-${mode}-${++accounts}`;
    const tools = governAiTools(airlock, {
      issue_refund: aiTool({ description: 'Refund money.', inputSchema: refundSchema, execute: async (input: Refund) => ({ refunded: input.amount }) }),
      get_account: aiTool({
        description: 'Read an account.',
        inputSchema: accountSchema,
        execute: async (): Promise<string> => {
          throw new RangeError('account store timed out');
        },
      }),
    });
    const model = new MockLanguageModelV3({
      doGenerate: aiStep([
        { type: 'tool-call', toolCallId: 'call_1', toolName: 'issue_refund', input: JSON.stringify(refund(to)) },
        { type: 'tool-call', toolCallId: 'call_2', toolName: 'get_account', input: JSON.stringify({ account_id: to }) },
      ]),
    });
    const result = await generateText({ model, tools, prompt: 'refund $20' });
    expect(result.toolResults[0]?.output).toEqual({ refunded: 20 });
    await airlock.close();
    await expectTrail(to, { refund: { refunded: 20 }, failure: { class: 'RangeError', message: 'account store timed out' } });
  });

  it('OpenAI Agents: a $20 refund that succeeds and a lookup that throws → call.executed and call.failed; the chain verifies', async () => {
    const airlock = await remote(mode);
    const to = `OUTCOME-AGENTS-${mode}-${++accounts}`;
    const issueRefund = governAgentsTool(airlock, agentsTool({ name: 'issue_refund', description: 'Refund money.', parameters: refundSchema, execute: async (input: Refund) => `refunded ${input.amount}` }));
    const getAccount = governAgentsTool(
      airlock,
      agentsTool({
        name: 'get_account',
        description: 'Read an account.',
        parameters: accountSchema,
        errorFunction: null,
        execute: async (): Promise<string> => {
          throw new TypeError('no such account');
        },
      }),
    );
    const model = new ScriptedModel([
      [functionCall('issue_refund', refund(to), { callId: 'call_1' })],
      [functionCall('get_account', { account_id: to }, { callId: 'call_2' })],
      [assistantMessage('done')],
    ]);
    await run(new Agent({ name: 'Support', model, tools: [issueRefund, getAccount] }), 'refund $20').catch(() => undefined);
    await airlock.close();
    await expectTrail(to, { refund: 'refunded 20', failure: { class: 'TypeError', message: 'no such account' } });
  });
});

async function expectTrail(account: string, expected: { refund: unknown; failure: { class: string; message: string } }): Promise<void> {
  const { decisions, outcomes } = await trail(account);
  expect(decisions.map((d) => d.tool)).toEqual(['issue_refund', 'get_account']);
  const [refundDecision, lookupDecision] = decisions as [AuditRecord, AuditRecord];
  const executed = outcomes.find((o) => o.data.decision === refundDecision.data.id);
  const failed = outcomes.find((o) => o.data.decision === lookupDecision.data.id);
  expect(executed).toMatchObject({ type: 'call.executed', tool: 'issue_refund', data: { status: 'succeeded', result: { digest: digest(expected.refund) } } });
  expect(failed).toMatchObject({ type: 'call.failed', tool: 'get_account', data: { status: 'failed', error: expected.failure } });
  expect(outcomes).toHaveLength(2);
  // Each outcome is chained after its decision.
  expect((executed?.seq ?? 0) > refundDecision.seq && (failed?.seq ?? 0) > lookupDecision.seq).toBe(true);
  expect((await admin.get('/v1/audit/verify')).body).toMatchObject({ ok: true });
}

describe('outcome reporting, off the tool path', () => {
  it('remote: outcomes wait in memory and go as one POST per batch; off when `outcomes: false`', async () => {
    const posts: number[] = [];
    const counting: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/v1/outcomes')) posts.push((JSON.parse(String(init?.body)) as { outcomes: unknown[] }).outcomes.length);
      return fetch(input, init);
    };
    const airlock = createAirlock({ url: server.url, apiKey: supportKey, fetch: counting, outcomes: { flushMs: 60_000 } });
    const lookup = airlock.guard('get_account', async (args: { account_id: string }) => ({ id: args.account_id }));
    for (let i = 0; i < 5; i++) await lookup({ account_id: `BATCH-${i}` });
    expect(posts).toEqual([]);
    await (airlock.transport as RemoteTransport).flushOutcomes();
    expect(posts).toEqual([5]);
    await airlock.close();

    const quiet = createAirlock({ url: server.url, apiKey: supportKey, fetch: counting, outcomes: false });
    await quiet.guard('get_account', async () => 'ok')({ account_id: 'QUIET' });
    await quiet.close();
    expect(posts).toEqual([5]);
  });

  it('remote: outcomes reported while a batch is being sent wait for the next batch, not one POST each', async () => {
    const posts: number[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const holding: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/v1/outcomes')) {
        posts.push((JSON.parse(String(init?.body)) as { outcomes: unknown[] }).outcomes.length);
        if (posts.length === 1) await held;
      }
      return fetch(input, init);
    };
    const airlock = createAirlock({ url: server.url, apiKey: supportKey, fetch: holding, outcomes: { flushMs: 60_000 } });
    const lookup = airlock.guard('get_account', async (args: { account_id: string }) => ({ id: args.account_id }));
    await lookup({ account_id: 'DURING-0' });
    const first = (airlock.transport as RemoteTransport).flushOutcomes();
    // The first POST is on the wire (held); three more calls report while it is.
    for (let i = 1; i <= 3; i++) await lookup({ account_id: `DURING-${i}` });
    release();
    await first;
    expect(posts).toEqual([1]);
    await airlock.close();
    expect(posts).toEqual([1, 3]);
  });

  it('close sends what is reported while it sends, and stops at a failed batch', async () => {
    const sent: string[][] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let fail = false;
    const batcher = new OutcomeBatcher({
      flushMs: 60_000,
      send: async (reports) => {
        if (fail) throw new Error('down');
        sent.push(reports.map((report) => report.decisionId));
        if (sent.length === 1) await held;
      },
    });
    const outcome = (id: string): ExecutionOutcome => ({ decision: { id, at: new Date().toISOString() } as ExecutionOutcome['decision'], tool: 'get_account', startedAt: Date.now(), durationMs: 1, ok: true, value: { id } });
    batcher.push(outcome('dec_1'));
    const closing = batcher.close();
    batcher.push(outcome('dec_2'));
    release();
    await closing;
    expect(sent).toEqual([['dec_1'], ['dec_2']]);
    fail = true;
    batcher.push(outcome('dec_3'));
    await batcher.close();
    expect(batcher.stats).toMatchObject({ sent: 2, failedBatches: 1 });
  });

  it('local: the outcome is a line of the audit file after its decision, with the digest and never the result', async () => {
    const fixture = localFixture();
    const airlock = createAirlock({ policy: fixture.policy, agent: 'support-bot-1', role: 'support', audit: fixture.audit, watch: false });
    onTestFinished(() => airlock.close());
    const secret = { balance: 12_345 };
    await airlock.guard('get_account', async () => secret)({ account_id: 'LOCAL-1' });
    await expect(airlock.guard('get_account', async () => Promise.reject(new Error('down')))({ account_id: 'LOCAL-2' })).rejects.toThrow('down');
    const records = fixture.records() as unknown as { event: string; id?: string; decision?: string; result?: unknown; error?: unknown }[];
    const decisions = records.filter((r) => r.event === 'decision');
    const outcomes = records.filter((r) => r.event.startsWith('call.'));
    expect(outcomes).toMatchObject([
      { event: 'call.executed', decision: decisions[0]?.id, result: { digest: digest(secret), size: JSON.stringify(secret).length } },
      { event: 'call.failed', decision: decisions[1]?.id, error: { class: 'Error', message: 'down' } },
    ]);
    expect(JSON.stringify(records)).not.toContain('12345');
  });
});
