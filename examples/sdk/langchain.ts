import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { HumanMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { tool, type StructuredToolInterface } from '@langchain/core/tools';
import { z } from 'zod';
import type { Airlock } from '@airlock/sdk';
import { governTools } from '@airlock/sdk/langchain';
import type { SupportBackend } from './support-backend.js';

/** The support agent's tools, written for LangChain.js as usual. */
export function supportTools(backend: SupportBackend) {
  return [
    tool(({ account_id }) => backend.getAccount(account_id), {
      name: 'get_account',
      description: 'Read one customer account.',
      schema: z.object({ account_id: z.string() }),
    }),
    tool((refund) => backend.issueRefund(refund), {
      name: 'issue_refund',
      description: 'Refund money to a customer account.',
      schema: z.object({ account_id: z.string(), amount: z.number(), currency: z.enum(['USD', 'EUR', 'GBP']) }),
    }),
    tool(() => backend.exportCustomers(), {
      name: 'export_customers',
      description: 'Export the customer list.',
      schema: z.object({}),
    }),
  ];
}

/**
 * The tool-calling loop with governed tools: `bindTools` shows the model the same tools; each
 * call is decided by Airlock before it runs (approvals wait for a person) and a refusal comes
 * back as the ToolMessage the model reads.
 */
export async function runSupportAgent(airlock: Airlock, model: BaseChatModel, backend: SupportBackend, prompt: string): Promise<BaseMessage[]> {
  const tools = governTools(airlock, supportTools(backend));
  const byName = new Map<string, StructuredToolInterface>(tools.map((t) => [t.name, t]));
  if (!model.bindTools) throw new Error('this chat model cannot call tools');
  const llm = model.bindTools(tools);
  const messages: BaseMessage[] = [new HumanMessage(prompt)];
  for (let step = 0; step < 5; step++) {
    const reply = await llm.invoke(messages);
    messages.push(reply);
    if (!reply.tool_calls?.length) break;
    for (const call of reply.tool_calls) {
      const tool = byName.get(call.name);
      messages.push(tool ? await tool.invoke(call) : new ToolMessage({ content: `There is no tool ${call.name}.`, tool_call_id: call.id ?? '', status: 'error' }));
    }
  }
  return messages;
}
