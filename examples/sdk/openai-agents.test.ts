import { assistantMessage, functionCall, ScriptedModel } from '@openai/agents/testing';
import { RunState, setTracingDisabled } from '@openai/agents';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Airlock, LocalTransport, type ApprovalResolution, type LocalOptions } from '@airlock/sdk';
import { airlockApproval } from '@airlock/sdk/openai-agents';
import { localFixture } from '../../packages/sdk/test/local-fixture.js';
import { connect } from './connect.js';
import { resumeConversation, startConversation, supportAgent } from './openai-agents.js';
import { recordingBackend } from './recording-backend.js';

beforeAll(() => setTracingDisabled(true));

const refund = (account_id: string, amount: number) => ({ account_id, amount, currency: 'USD' });

/** The model's first turn: an allowed, an approval-needing and two blocked calls. */
const attempt = () => [
  functionCall('get_account', { account_id: 'A-1' }, { callId: 'call-account' }),
  functionCall('issue_refund', refund('A-1', 20), { callId: 'call-refund-20' }),
  functionCall('issue_refund', refund('A-2', 75), { callId: 'call-refund-75' }),
  functionCall('issue_refund', refund('A-3', 900), { callId: 'call-refund-900' }),
  functionCall('export_customers', {}, { callId: 'call-export' }),
];

/** What the model was sent as each tool's output, by call id. */
function toolOutputs(model: ScriptedModel, call: number): Map<string, unknown> {
  const input = model.calls[call]?.request.input;
  const outputs = new Map<string, unknown>();
  if (!Array.isArray(input)) return outputs;
  for (const item of input) {
    if (item.type !== 'function_call_result') continue;
    // Tool results reach the model as text: the JSON of what the tool (or Airlock) returned.
    const output = item.output as { type: string; text?: string };
    outputs.set(item.callId, output.type === 'text' ? JSON.parse(output.text as string) : output);
  }
  return outputs;
}

describe('OpenAI Agents JS example', () => {
  it('an approval is an interruption; resuming runs exactly the approved (edited) call, and the model reads every refusal', async () => {
    const fixture = localFixture();
    const airlock = connect({ policy: fixture.policy, audit: fixture.audit, approver: async (): Promise<ApprovalResolution> => ({ approved: true, by: 'lead-1', args: refund('A-2', 50) }) });
    onTestFinished(() => airlock.close());
    const backend = recordingBackend();
    const model = new ScriptedModel([attempt(), [assistantMessage('Done.')]]);
    const agent = supportAgent(airlock, model, backend);

    const { result, saved } = await startConversation(agent, 'Sort out the refunds for A-1, A-2 and A-3.');
    expect(result.interruptions.map((i) => i.rawItem)).toMatchObject([{ callId: 'call-refund-75' }]);
    expect(backend.issueRefund.mock.calls).toEqual([[refund('A-1', 20)]]);

    const resumed = await resumeConversation(agent, saved as string);
    expect(resumed.finalOutput).toBe('Done.');
    expect(backend.getAccount.mock.calls).toEqual([['A-1']]);
    expect(backend.issueRefund.mock.calls).toEqual([[refund('A-1', 20)], [refund('A-2', 50)]]);
    expect(backend.exportCustomers).not.toHaveBeenCalled();

    const seen = toolOutputs(model, 1);
    expect(seen.get('call-refund-20')).toEqual({ refunded: 20, currency: 'USD', account: 'A-1' });
    expect(seen.get('call-refund-75')).toEqual({ airlock: 'approved_with_changes', args: refund('A-2', 50), result: { refunded: 50, currency: 'USD', account: 'A-2' } });
    expect(seen.get('call-refund-900')).toMatchObject({ airlock: 'blocked', rule: 'refund-large', reason: 'Refunds over $500 are never automated' });
    expect(seen.get('call-export')).toMatchObject({ airlock: 'blocked', reason: 'Exporting customer lists is not allowed for agents' });

    expect(fixture.decisions().sort()).toEqual(['export_customers block', 'get_account allow', 'issue_refund allow', 'issue_refund block', 'issue_refund require_approval']);
  });

  it('survives a restart: the saved run is restored by a new client and agent, the approval found again, not decided anew', async () => {
    const fixture = localFixture();
    const options: LocalOptions = { policy: fixture.policy, agent: 'support-bot-1', role: 'support', audit: fixture.audit, watch: false };
    // One transport for both "processes": it stands for the Airlock server, which outlives them.
    const server = new LocalTransport(options);
    onTestFinished(() => server.close());
    const backend = recordingBackend();

    const before = new ScriptedModel([attempt()]);
    const { saved } = await startConversation(supportAgent(new Airlock(options, server), before, backend), 'Sort out the refunds.');
    expect(saved).toBeDefined();

    const after = new ScriptedModel([[assistantMessage('Done.')]]);
    const airlock = new Airlock(options, server);
    const agent = supportAgent(airlock, after, backend);
    const [interruption] = (await RunState.fromString(agent, saved as string)).getInterruptions();
    const pending = await airlockApproval(airlock, interruption as NonNullable<typeof interruption>);
    expect(pending).toMatchObject({ airlock: 'approval_pending', tool: 'issue_refund', approvers: ['support-leads'] });
    server.resolveApproval((pending as { approvalId: string }).approvalId, { approved: true, by: 'lead-1', args: refund('A-2', 50) });

    const resumed = await resumeConversation(agent, saved as string);
    expect(resumed.finalOutput).toBe('Done.');
    expect(backend.issueRefund.mock.calls).toEqual([[refund('A-1', 20)], [refund('A-2', 50)]]);
    expect(toolOutputs(after, 0).get('call-refund-75')).toMatchObject({ airlock: 'approved_with_changes', args: refund('A-2', 50) });
    // Five calls, five decisions: recovering the approval and resuming asked with the same keys.
    expect(fixture.decisions()).toHaveLength(5);
    expect(fixture.records().filter((r) => r.event === 'approval.redeemed')).toHaveLength(1);
  });

  it('a call denied in Airlock returns the refusal when the run resumes, and never runs', async () => {
    const fixture = localFixture();
    const airlock = connect({ policy: fixture.policy, audit: fixture.audit, approver: async () => ({ approved: false, by: 'lead-1', reason: 'A-2 was refunded yesterday' }) });
    onTestFinished(() => airlock.close());
    const backend = recordingBackend();
    const model = new ScriptedModel([[functionCall('issue_refund', refund('A-2', 75), { callId: 'call-refund-75' })], [assistantMessage('Sorry.')]]);
    const agent = supportAgent(airlock, model, backend);
    const { saved } = await startConversation(agent, 'Refund A-2.');
    await resumeConversation(agent, saved as string);
    expect(backend.issueRefund).not.toHaveBeenCalled();
    expect(toolOutputs(model, 1).get('call-refund-75')).toMatchObject({ airlock: 'blocked', code: 'approval_denied', reason: 'lead-1 denied issue_refund: A-2 was refunded yesterday' });
  });
});
