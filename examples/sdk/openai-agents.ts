import { Agent, run, RunState, tool, type Model } from '@openai/agents';
import { z } from 'zod';
import type { Airlock } from '@airlock/sdk';
import { governTools } from '@airlock/sdk/openai-agents';
import type { SupportBackend } from './support-backend.js';

/** The support agent's tools, written for the OpenAI Agents SDK as usual. */
export function supportTools(backend: SupportBackend) {
  return [
    tool({
      name: 'get_account',
      description: 'Read one customer account.',
      parameters: z.object({ account_id: z.string() }),
      execute: ({ account_id }) => backend.getAccount(account_id),
    }),
    tool({
      name: 'issue_refund',
      description: 'Refund money to a customer account.',
      parameters: z.object({ account_id: z.string(), amount: z.number(), currency: z.enum(['USD', 'EUR', 'GBP']) }),
      execute: (refund) => backend.issueRefund(refund),
    }),
    tool({
      name: 'export_customers',
      description: 'Export the customer list.',
      parameters: z.object({}),
      execute: () => backend.exportCustomers(),
    }),
  ];
}

/** The agent with governed tools: same definitions for the model, every call decided by Airlock. */
export function supportAgent(airlock: Airlock, model: Model | string, backend: SupportBackend) {
  return new Agent({
    name: 'Support',
    instructions: 'Help customers with their accounts and refunds.',
    model,
    tools: governTools(airlock, supportTools(backend)),
  });
}

/**
 * A run stops with interruptions when Airlock sends a call for approval. Save the state (a
 * string) and return; a person decides in Airlock meanwhile.
 */
export async function startConversation(agent: Agent, prompt: string) {
  const result = await run(agent, prompt);
  return { result, saved: result.interruptions.length > 0 ? result.state.toString() : undefined };
}

/**
 * Later, in this process or another one: restore the run and resume it. Airlock stays the
 * authority: approving the interruption lets the run go on, and the call then runs only if it was
 * approved in Airlock, with the arguments the approver set; otherwise the model gets the refusal.
 */
export async function resumeConversation(agent: Agent, saved: string) {
  const state = await RunState.fromString(agent, saved);
  for (const interruption of state.getInterruptions()) state.approve(interruption);
  return run(agent, state);
}
