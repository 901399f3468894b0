import type { Airlock } from '@airlock/sdk';

/**
 * Session context: the application, not the model, says whom the conversation is about. Wrap the
 * agent's run for one request in `airlock.session(…)`; every tool call governed inside it (guards,
 * framework adapters) carries the attributes, which policies read as `session.<name>`, and the
 * intent, which approvers see and no policy can read.
 */
export function handleChat<T>(airlock: Airlock, signedIn: { customerId: string; conversationId: string }, userMessage: string, runAgent: () => Promise<T>): Promise<T> {
  return airlock.session(
    {
      id: signedIn.conversationId,
      attributes: { customer_id: signedIn.customerId, channel: 'chat' },
      intent: userMessage, // or (call) => the model's stated reason for that call
    },
    runAgent,
  );
}
