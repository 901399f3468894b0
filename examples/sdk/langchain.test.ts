import { AIMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { describe, expect, it, onTestFinished } from 'vitest';
import { localFixture } from '../../packages/sdk/test/local-fixture.js';
import { connect } from './connect.js';
import { runSupportAgent, supportTools } from './langchain.js';
import { recordingBackend } from './recording-backend.js';
import { ScriptedChatModel } from './scripted-chat-model.js';

const refund = (account_id: string, amount: number) => ({ account_id, amount, currency: 'USD' });
const toolCall = (id: string, name: string, args: Record<string, unknown>) => ({ id, name, args, type: 'tool_call' as const });

/** What the model was sent as each tool's result, by tool call id. */
function toolResults(messages: readonly BaseMessage[]): Map<string, unknown> {
  const results = new Map<string, unknown>();
  for (const message of messages) if (ToolMessage.isInstance(message)) results.set(message.tool_call_id, JSON.parse(message.content as string));
  return results;
}

describe('LangChain.js example', () => {
  it('runs the allowed and the approved (edited) calls only; the model reads every refusal; the bound tools are unchanged', async () => {
    const fixture = localFixture();
    const airlock = connect({ policy: fixture.policy, audit: fixture.audit, approver: async () => ({ approved: true, by: 'lead-1', args: refund('A-2', 50) }) });
    onTestFinished(() => airlock.close());
    const backend = recordingBackend();
    const model = new ScriptedChatModel([
      new AIMessage({
        content: '',
        tool_calls: [
          toolCall('call-account', 'get_account', { account_id: 'A-1' }),
          toolCall('call-refund-20', 'issue_refund', refund('A-1', 20)),
          toolCall('call-refund-75', 'issue_refund', refund('A-2', 75)),
          toolCall('call-refund-900', 'issue_refund', refund('A-3', 900)),
          toolCall('call-export', 'export_customers', {}),
        ],
      }),
      new AIMessage('Done.'),
    ]);

    const messages = await runSupportAgent(airlock, model, backend, 'Sort out the refunds for A-1, A-2 and A-3.');
    expect(messages.at(-1)?.content).toBe('Done.');

    // The model was shown exactly what the unwrapped tools declare.
    const plain = new ScriptedChatModel([]).bindTools(supportTools(recordingBackend())).boundTools;
    expect(model.boundTools).toEqual(plain);
    expect(model.boundTools.map((t) => t.function.name)).toEqual(['get_account', 'issue_refund', 'export_customers']);

    expect(backend.getAccount.mock.calls).toEqual([['A-1']]);
    expect(backend.issueRefund.mock.calls).toEqual([[refund('A-1', 20)], [refund('A-2', 50)]]);
    expect(backend.exportCustomers).not.toHaveBeenCalled();

    const seen = toolResults(model.calls[1] ?? []);
    expect(seen.get('call-refund-20')).toEqual({ refunded: 20, currency: 'USD', account: 'A-1' });
    expect(seen.get('call-refund-75')).toEqual({ airlock: 'approved_with_changes', args: refund('A-2', 50), result: '{"refunded":50,"currency":"USD","account":"A-2"}' });
    expect(seen.get('call-refund-900')).toMatchObject({ airlock: 'blocked', rule: 'refund-large', reason: 'Refunds over $500 are never automated' });
    expect(seen.get('call-export')).toMatchObject({ airlock: 'blocked', reason: 'Exporting customer lists is not allowed for agents' });

    expect(fixture.decisions().sort()).toEqual(['export_customers block', 'get_account allow', 'issue_refund allow', 'issue_refund block', 'issue_refund require_approval']);
  });
});
