import { generateText, stepCountIs, tool, type LanguageModel, type ModelMessage } from 'ai';
import { z } from 'zod';
import type { Airlock } from '@airlock/sdk';
import { approvalResponses, governTools } from '@airlock/sdk/ai';
import type { SupportBackend } from './support-backend.js';

/** The support agent's tools, written for the Vercel AI SDK as usual. */
export function supportTools(backend: SupportBackend) {
  return {
    get_account: tool({
      description: 'Read one customer account.',
      inputSchema: z.object({ account_id: z.string() }),
      execute: ({ account_id }) => backend.getAccount(account_id),
    }),
    issue_refund: tool({
      description: 'Refund money to a customer account.',
      inputSchema: z.object({ account_id: z.string(), amount: z.number(), currency: z.enum(['USD', 'EUR', 'GBP']) }),
      execute: (refund) => backend.issueRefund(refund),
    }),
    export_customers: tool({
      description: 'Export the customer list.',
      inputSchema: z.object({}),
      execute: () => backend.exportCustomers(),
    }),
  };
}

/**
 * Governed: the same tools, so the model sees the same schemas, but every call is decided by
 * Airlock first. A call that needs approval waits for a person, then runs with the arguments
 * they approved; a blocked call returns the refusal for the model to explain.
 */
export function runSupportAgent(airlock: Airlock, model: LanguageModel, backend: SupportBackend, prompt: string) {
  const tools = governTools(airlock, supportTools(backend));
  return generateText({ model, tools, prompt, stopWhen: stepCountIs(5) });
}

/**
 * The same agent on ai's own approval flow: a call Airlock sends for approval stops the step with
 * a `tool-approval-request`. Once a person has decided in Airlock (dashboard, Slack, or the local
 * approver), `approvalResponses` answers the requests and the next `generateText` runs the
 * approved calls.
 */
export async function runSupportAgentWithApprovals(airlock: Airlock, model: LanguageModel, backend: SupportBackend, prompt: string) {
  const tools = governTools(airlock, supportTools(backend), { approval: 'native' });
  const messages: ModelMessage[] = [{ role: 'user', content: prompt }];
  const first = await generateText({ model, tools, messages, stopWhen: stepCountIs(5) });
  const responses = await approvalResponses(airlock, first.content);
  if (responses.length === 0) return first;
  messages.push(...first.response.messages, { role: 'tool', content: responses });
  return generateText({ model, tools, messages, stopWhen: stepCountIs(5) });
}
