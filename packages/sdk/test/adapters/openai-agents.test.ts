import { Agent, run, RunContext, setTracingDisabled, tool } from '@openai/agents';
import { functionCall, assistantMessage, ScriptedModel } from '@openai/agents/testing';
import { beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { z } from 'zod';
import { createAirlock } from '../../src/index.js';
import { airlockApproval, governTool } from '../../src/adapters/openai-agents.js';
import { localFixture } from '../local-fixture.js';

beforeAll(() => setTracingDisabled(true));

function setup(needsApproval = false) {
  const fixture = localFixture();
  const airlock = createAirlock({ policy: fixture.policy, agent: 'support-bot-1', role: 'support', audit: fixture.audit, watch: false });
  onTestFinished(() => airlock.close());
  const getAccount = vi.fn(async ({ account_id }: { account_id: string }) => ({ id: account_id }));
  const original = tool({ name: 'get_account', description: 'Read one customer account.', parameters: z.object({ account_id: z.string() }), execute: getAccount, needsApproval });
  return { airlock, getAccount, original };
}

describe('governTool (OpenAI Agents JS)', () => {
  it('keeps the definition the model sees', () => {
    const { airlock, original } = setup();
    const governed = governTool(airlock, original);
    for (const key of ['type', 'name', 'description', 'parameters', 'strict'] as const) expect(governed[key]).toBe(original[key]);
  });

  it("keeps the tool's own needsApproval for calls Airlock allows; that interruption is not Airlock's", async () => {
    const { airlock, getAccount, original } = setup(true);
    const model = new ScriptedModel([[functionCall('get_account', { account_id: 'A-1' }, { callId: 'c-1' })], [assistantMessage('ok')]]);
    const agent = new Agent({ name: 'Support', model, tools: [governTool(airlock, original)] });
    const result = await run(agent, 'read A-1');
    const [interruption] = result.interruptions;
    expect(interruption?.rawItem).toMatchObject({ callId: 'c-1' });
    expect(await airlockApproval(airlock, interruption as NonNullable<typeof interruption>)).toBeUndefined();
    result.state.approve(interruption as NonNullable<typeof interruption>);
    await run(agent, result.state);
    expect(getAccount.mock.calls.map(([input]) => input)).toEqual([{ account_id: 'A-1' }]);
  });

  it("a tool with the Agents SDK's default errorFunction that throws: the model reads the SDK's message, the audit a failed call", async () => {
    const fixture = localFixture();
    const airlock = createAirlock({ policy: fixture.policy, agent: 'support-bot-1', role: 'support', audit: fixture.audit, watch: false });
    onTestFinished(() => airlock.close());
    const failing = tool({
      name: 'get_account',
      description: 'Read one customer account.',
      parameters: z.object({ account_id: z.string() }),
      execute: async (): Promise<string> => {
        throw new RangeError('account store is down');
      },
    });
    const reading = tool({ name: 'get_account', description: 'Read one customer account.', parameters: z.object({ account_id: z.string() }), execute: async ({ account_id }) => `account ${account_id}` });
    const failed = await governTool(airlock, failing).invoke(new RunContext(), JSON.stringify({ account_id: 'A-1' }), { toolCall: { type: 'function_call', callId: 'c-f', name: 'get_account', arguments: '{}' } });
    expect(failed).toBe('An error occurred while running the tool. Please try again.');
    expect(await governTool(airlock, reading).invoke(new RunContext(), JSON.stringify({ account_id: 'A-2' }), { toolCall: { type: 'function_call', callId: 'c-r', name: 'get_account', arguments: '{}' } })).toBe('account A-2');
    const outcomes = (fixture.records() as unknown as { event: string; error?: unknown }[]).filter((r) => r.event.startsWith('call.'));
    expect(outcomes).toMatchObject([
      { event: 'call.failed', error: { class: 'ToolError', message: 'An error occurred while running the tool. Please try again.' } },
      { event: 'call.executed' },
    ]);
  });

  it('refuses input that is not a JSON object without running the tool', async () => {
    const { airlock, getAccount, original } = setup();
    const output = await governTool(airlock, original).invoke(new RunContext(), 'not json');
    expect(output).toMatchObject({ airlock: 'blocked', code: 'invalid_arguments' });
    expect(getAccount).not.toHaveBeenCalled();
  });
});
