import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ToolMessage } from '@langchain/core/messages';
import { DynamicStructuredTool, DynamicTool, tool } from '@langchain/core/tools';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { z } from 'zod';
import { createAirlock } from '../../src/index.js';
import { governTool } from '../../src/adapters/langchain.js';
import { localFixture } from '../local-fixture.js';

/** `extraPolicy`: one more policy file (YAML lines) beside the seed policies. */
function setup(extraPolicy?: string[]) {
  const fixture = localFixture();
  if (extraPolicy) writeFileSync(join(fixture.policy, 'extra.yaml'), `${extraPolicy.join('\n')}\n`);
  const airlock = createAirlock({ policy: fixture.policy, agent: 'support-bot-1', role: 'support', audit: fixture.audit, watch: false });
  onTestFinished(() => airlock.close());
  return { airlock, fixture };
}

const refundTool = () => {
  const refund = vi.fn(async ({ amount }: { amount: number }) => `refunded ${amount}`);
  const original = tool(refund, {
    name: 'issue_refund',
    description: 'Refund money to a customer account.',
    schema: z.object({ account_id: z.string(), amount: z.number(), currency: z.enum(['USD', 'EUR', 'GBP']) }),
  });
  return { refund, original };
};

describe('governTool (LangChain.js)', () => {
  it('is the same tool to LangChain: class, name, description, schema', () => {
    const { original } = refundTool();
    const governed = governTool(setup().airlock, original);
    expect(governed).toBeInstanceOf(DynamicStructuredTool);
    expect([governed.name, governed.description, governed.schema]).toEqual([original.name, original.description, original.schema]);
    expect(governed.schema).toBe(original.schema);
  });

  it('invoked with plain arguments, answers the result, or the refusal object', async () => {
    const { original, refund } = refundTool();
    const governed = governTool(setup().airlock, original);
    expect(await governed.invoke({ account_id: 'A-1', amount: 20, currency: 'USD' })).toBe('refunded 20');
    expect(await governed.invoke({ account_id: 'A-1', amount: 900, currency: 'USD' })).toMatchObject({ airlock: 'blocked', rule: 'refund-large' });
    expect(refund).toHaveBeenCalledTimes(1);
  });

  it('return mode answers a tool call with a ToolMessage holding the pending approval', async () => {
    const { original, refund } = refundTool();
    const message = await governTool(setup().airlock, original, { approval: 'return' }).invoke({
      type: 'tool_call',
      id: 'c-75',
      name: 'issue_refund',
      args: { account_id: 'A-2', amount: 75, currency: 'USD' },
    });
    expect(ToolMessage.isInstance(message)).toBe(true);
    expect(message).toMatchObject({ tool_call_id: 'c-75', name: 'issue_refund' });
    expect(JSON.parse((message as ToolMessage).content as string)).toMatchObject({ airlock: 'approval_pending', approvers: ['support-leads'] });
    expect(refund).not.toHaveBeenCalled();
  });

  it('governs a string-input tool with `{ input }` as its arguments', async () => {
    const { airlock } = setup([
      'policy: search',
      'appliesTo: { roles: [support] }',
      'default: block',
      'tools:',
      '  search_docs:',
      '    args:',
      '      input: { type: string }',
      'rules:',
      '  - id: search-docs',
      '    tool: search_docs',
      '    when: "!args.input.contains(\'password\')"',
      '    effect: allow',
    ]);
    const search = vi.fn(async (query: string) => `results for ${query}`);
    const governed = governTool(airlock, new DynamicTool({ name: 'search_docs', description: 'Search the docs.', func: search }));
    expect(await governed.invoke('refund policy')).toBe('results for refund policy');
    expect(await governed.invoke('admin password')).toMatchObject({ airlock: 'blocked', code: 'policy' });
    expect(search).toHaveBeenCalledTimes(1);
  });
});
