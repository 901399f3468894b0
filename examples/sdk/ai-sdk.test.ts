import { MockLanguageModelV3 } from 'ai/test';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { ApprovalResolution } from '@airlock/sdk';
import { localFixture } from '../../packages/sdk/test/local-fixture.js';
import { runSupportAgent, runSupportAgentWithApprovals } from './ai-sdk.js';
import { connect } from './connect.js';
import { recordingBackend } from './recording-backend.js';

type GenerateResult = Awaited<ReturnType<MockLanguageModelV3['doGenerate']>>;
type Prompt = MockLanguageModelV3['doGenerateCalls'][number]['prompt'];

const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
const toolCall = (toolCallId: string, toolName: string, input: object) => ({ type: 'tool-call' as const, toolCallId, toolName, input: JSON.stringify(input) });

/** One step in which the model attempts an allowed, an approval-needing and two blocked calls, then a closing answer. */
function supportModel(): MockLanguageModelV3 {
  const attempt: GenerateResult = {
    content: [
      toolCall('call-account', 'get_account', { account_id: 'A-1' }),
      toolCall('call-refund-20', 'issue_refund', { account_id: 'A-1', amount: 20, currency: 'USD' }),
      toolCall('call-refund-75', 'issue_refund', { account_id: 'A-2', amount: 75, currency: 'USD' }),
      toolCall('call-refund-900', 'issue_refund', { account_id: 'A-3', amount: 900, currency: 'USD' }),
      toolCall('call-export', 'export_customers', {}),
    ],
    finishReason: { unified: 'tool-calls', raw: undefined },
    usage,
    warnings: [],
  };
  const answer: GenerateResult = { content: [{ type: 'text', text: 'Done.' }], finishReason: { unified: 'stop', raw: undefined }, usage, warnings: [] };
  return new MockLanguageModelV3({ doGenerate: [attempt, answer] });
}

/** What the model was sent as each tool's result, by tool call id. */
function toolResults(prompt: Prompt): Map<string, unknown> {
  const results = new Map<string, unknown>();
  for (const message of prompt) {
    if (message.role !== 'tool') continue;
    for (const part of message.content) if (part.type === 'tool-result') results.set(part.toolCallId, part.output);
  }
  return results;
}

const refund = (account_id: string, amount: number) => ({ account_id, amount, currency: 'USD' });

function setup(approver: () => Promise<ApprovalResolution>) {
  const fixture = localFixture();
  const airlock = connect({ policy: fixture.policy, audit: fixture.audit, approver });
  onTestFinished(() => airlock.close());
  return { fixture, airlock, backend: recordingBackend(), model: supportModel() };
}

const editTo50 = async (): Promise<ApprovalResolution> => ({ approved: true, by: 'lead-1', args: refund('A-2', 50) });

describe('Vercel AI SDK example', () => {
  for (const [mode, run, steps] of [
    ['approvals wait inside execute', runSupportAgent, 2],
    // Native: the first generateText stopped on the approval request; the result is the second
    // one's, which ran the approved call and then the model once.
    ["ai's native approval flow", runSupportAgentWithApprovals, 1],
  ] as const) {
    it(`${mode}: runs the allowed and the approved (edited) calls only, and the model reads every refusal`, async () => {
      const { fixture, airlock, backend, model } = setup(editTo50);
      const result = await run(airlock, model, backend, 'Sort out the refunds for A-1, A-2 and A-3.');
      expect(result.text).toBe('Done.');
      expect(result.steps).toHaveLength(steps);

      expect(backend.getAccount.mock.calls).toEqual([['A-1']]);
      expect(backend.issueRefund.mock.calls).toEqual([[refund('A-1', 20)], [refund('A-2', 50)]]);
      expect(backend.exportCustomers).not.toHaveBeenCalled();

      expect(model.doGenerateCalls).toHaveLength(2);
      const seen = toolResults((model.doGenerateCalls[1] as { prompt: Prompt }).prompt);
      expect(seen.get('call-refund-20')).toEqual({ type: 'json', value: { refunded: 20, currency: 'USD', account: 'A-1' } });
      expect(seen.get('call-refund-75')).toEqual({
        type: 'json',
        value: { airlock: 'approved_with_changes', args: refund('A-2', 50), result: { refunded: 50, currency: 'USD', account: 'A-2' } },
      });
      expect(seen.get('call-refund-900')).toMatchObject({ type: 'json', value: { airlock: 'blocked', rule: 'refund-large', reason: 'Refunds over $500 are never automated' } });
      expect(seen.get('call-export')).toMatchObject({ type: 'json', value: { airlock: 'blocked', reason: 'Exporting customer lists is not allowed for agents' } });

      // Each call decided once, however often the adapter asked.
      expect(fixture.decisions().sort()).toEqual([
        'export_customers block',
        'get_account allow',
        'issue_refund allow',
        'issue_refund block',
        'issue_refund require_approval',
      ]);
      expect(fixture.records().filter((r) => r.event === 'approval.redeemed')).toHaveLength(1);
    });
  }

  it("native flow: a denial in Airlock reaches the model as ai's execution-denied with the approver's reason", async () => {
    const { backend, airlock, model } = setup(async () => ({ approved: false, by: 'lead-1', reason: 'A-2 was refunded yesterday' }));
    await runSupportAgentWithApprovals(airlock, model, backend, 'Refund A-2.');
    expect(backend.issueRefund.mock.calls).toEqual([[refund('A-1', 20)]]);
    const seen = toolResults((model.doGenerateCalls[1] as { prompt: Prompt }).prompt);
    expect(seen.get('call-refund-75')).toEqual({ type: 'execution-denied', reason: 'lead-1 denied issue_refund: A-2 was refunded yesterday' });
  });
});
