import { generateText, tool, type ToolExecutionOptions } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { z } from 'zod';
import { createAirlock, type ApprovalRequest, type ApprovalResolution } from '../../src/index.js';
import { approvalResponses, governTools } from '../../src/adapters/ai-sdk.js';
import { localFixture } from '../local-fixture.js';

type GenerateResult = Awaited<ReturnType<MockLanguageModelV3['doGenerate']>>;

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
const step = (content: GenerateResult['content'], finish: 'tool-calls' | 'stop'): GenerateResult => ({ content, finishReason: { unified: finish, raw: undefined }, usage, warnings: [] });
const refund = (account_id: string, amount: number) => ({ account_id, amount, currency: 'USD' as const });
const execution = (toolCallId: string): ToolExecutionOptions => ({ toolCallId, messages: [] });

function setup(approver?: (request: ApprovalRequest) => Promise<ApprovalResolution>) {
  const fixture = localFixture();
  const airlock = createAirlock({ policy: fixture.policy, agent: 'support-bot-1', role: 'support', audit: fixture.audit, watch: false, approver });
  onTestFinished(() => airlock.close());
  const issueRefund = vi.fn(async (input: { account_id: string; amount: number; currency: string }) => `refunded ${input.amount}`);
  const tools = {
    issue_refund: tool({
      description: 'Refund money to a customer account.',
      inputSchema: z.object({ account_id: z.string(), amount: z.number(), currency: z.enum(['USD', 'EUR', 'GBP']) }),
      execute: issueRefund,
    }),
    get_account: tool({
      description: 'Read one customer account.',
      inputSchema: z.object({ account_id: z.string() }),
      execute: async ({ account_id }) => ({ id: account_id }),
      toModelOutput: ({ output }) => ({ type: 'text', value: `account ${output.id}` }),
    }),
  };
  return { airlock, fixture, tools, issueRefund };
}

describe('governTools (Vercel AI SDK)', () => {
  it('shows the model the same tool definitions', async () => {
    const { airlock, tools } = setup();
    const definitions = async (set: typeof tools | ReturnType<typeof governTools<typeof tools>>) => {
      const model = new MockLanguageModelV3({ doGenerate: step([{ type: 'text', text: 'hi' }], 'stop') });
      await generateText({ model, tools: set, prompt: 'hi' });
      return model.doGenerateCalls[0]?.tools;
    };
    const governed = governTools(airlock, tools);
    expect(governed.issue_refund.inputSchema).toBe(tools.issue_refund.inputSchema);
    expect(await definitions(governed)).toEqual(await definitions(tools));
  });

  it("native: a step stops on Airlock's approval request, and an approval no one answers is sent back as not approved", async () => {
    const { airlock, tools, issueRefund, fixture } = setup();
    const model = new MockLanguageModelV3({
      doGenerate: step(
        [
          { type: 'tool-call', toolCallId: 'c-20', toolName: 'issue_refund', input: JSON.stringify(refund('A-1', 20)) },
          { type: 'tool-call', toolCallId: 'c-75', toolName: 'issue_refund', input: JSON.stringify(refund('A-2', 75)) },
        ],
        'tool-calls',
      ),
    });
    const result = await generateText({ model, tools: governTools(airlock, tools, { approval: 'native' }), prompt: 'refunds' });
    expect(result.content.filter((part) => part.type === 'tool-approval-request').map((part) => part.toolCall.toolCallId)).toEqual(['c-75']);
    expect(issueRefund.mock.calls.map(([input]) => input)).toEqual([refund('A-1', 20)]);
    expect(await approvalResponses(airlock, result.content, { timeoutMs: 20 })).toEqual([
      { type: 'tool-approval-response', approvalId: expect.any(String), approved: false, reason: 'no one approved issue_refund in time' },
    ]);
    expect(fixture.decisions()).toEqual(['issue_refund allow', 'issue_refund require_approval']);
  });

  it("refuses approved arguments that do not fit the tool's schema; the tool never runs", async () => {
    // The policy accepts a $70 refund (it needs approval); this tool's own schema stops at $60.
    const { airlock, issueRefund } = setup(async () => ({ approved: true, by: 'lead-1', args: refund('A-2', 70) }));
    const strict = {
      issue_refund: tool({
        description: 'Refund money to a customer account.',
        inputSchema: z.object({ account_id: z.string(), amount: z.number().max(60), currency: z.enum(['USD']) }),
        execute: issueRefund,
      }),
    };
    const output = await governTools(airlock, strict).issue_refund.execute?.(refund('A-2', 75), execution('c-75'));
    expect(output).toMatchObject({ airlock: 'blocked', code: 'invalid_arguments', rule: 'refund-medium' });
    expect(issueRefund).not.toHaveBeenCalled();
  });

  it('denies an approval whose edit the policy would block; the tool never runs', async () => {
    const { airlock, tools, issueRefund } = setup(async () => ({ approved: true, by: 'lead-1', args: { ...refund('A-2', 50), amount: 'fifty' } }));
    const output = await governTools(airlock, tools).issue_refund.execute?.(refund('A-2', 75), execution('c-75'));
    expect(output).toMatchObject({ airlock: 'blocked', code: 'approval_denied', rule: 'refund-medium' });
    expect((output as { reason: string }).reason).toContain('the policy would block the edited call');
    expect(issueRefund).not.toHaveBeenCalled();
  });

  it('return mode hands the model the pending approval instead of waiting', async () => {
    const { airlock, tools, issueRefund } = setup();
    const output = await governTools(airlock, tools, { approval: 'return' }).issue_refund.execute?.(refund('A-2', 75), execution('c-75'));
    expect(output).toMatchObject({ airlock: 'approval_pending', tool: 'issue_refund', approvers: ['support-leads'] });
    expect(issueRefund).not.toHaveBeenCalled();
  });

  it("keeps a tool's own toModelOutput for its results and sends Airlock's answers as JSON", async () => {
    const { airlock, tools } = setup();
    const governed = governTools(airlock, tools).get_account;
    const toModel = (output: unknown) => governed.toModelOutput?.({ toolCallId: 'c', input: { account_id: 'A-1' }, output: output as never });
    expect(await toModel({ id: 'A-1' })).toEqual({ type: 'text', value: 'account A-1' });
    const refusal = { airlock: 'blocked', tool: 'get_account', code: 'policy', reason: 'no', rule: null };
    expect(await toModel(refusal)).toEqual({ type: 'json', value: refusal });
  });

  it('passes tools without execute through untouched: nothing runs them here', () => {
    const { airlock } = setup();
    const clientSide = tool({ description: 'Ask the user to confirm.', inputSchema: z.object({ question: z.string() }) });
    expect(governTools(airlock, { confirm: clientSide }).confirm).toBe(clientSide);
  });
});
