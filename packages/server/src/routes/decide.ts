import { MAX_INTENT_LENGTH, sessionAttributesSchema } from '@airlock/core';
import { z } from 'zod';
import { agentOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import * as V from '../http/views.js';
import type { Services } from '../services/services.js';
import { allFinite, toolArgs } from './schemas.js';

/**
 * The call an agent attempts. Identity (agent, role, environment) comes from the API key and the
 * time from the server clock: any such field in the body is dropped here, never read.
 */
export const decideBody = z.object({
  tool: z.string().min(1).max(256),
  args: toolArgs.optional(),
  session: z.string().max(256).optional(),
  sessionAttributes: sessionAttributesSchema.optional().describe('attributes the application bound to the session (never the model): visible to policy as session.<name>'),
  intent: z.string().max(MAX_INTENT_LENGTH).optional().describe("the agent's stated reason for the call: recorded and shown to approvers, never used to decide"),
});

type DecideBody = z.infer<typeof decideBody>;
type DecideHeaders = z.infer<typeof decideHeaders>;

/**
 * The common decide body, `{"tool": …, "args": {…}}` and nothing else, checked without zod (its
 * object and record parsers were ~2 % of the route's CPU in a profile): what decideBody would
 * answer, or undefined for anything else (other fields, a wrong type, a non-finite number), which
 * decideBody then judges and names. Tested to agree with decideBody (test/decide-fast-path.test.ts).
 */
export function decideBodyFast(value: unknown): DecideBody | undefined {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  for (const key in value) if (key !== 'tool' && key !== 'args') return undefined;
  const { tool, args } = value as { tool?: unknown; args?: unknown };
  if (typeof tool !== 'string' || tool.length < 1 || tool.length > 256) return undefined;
  if (args === undefined) return { tool };
  if (typeof args !== 'object' || args === null || Array.isArray(args) || Object.getPrototypeOf(args) !== Object.prototype) return undefined;
  if (!allFinite(args)) return undefined;
  return { tool, args: args as Record<string, unknown> };
}

/** Headers without any of decideHeaders' fields parse to {}: answered without zod. */
export function decideHeadersFast(headers: Record<string, unknown>): DecideHeaders | undefined {
  return headers['idempotency-key'] === undefined && headers['airlock-claim'] === undefined && headers['airlock-repeat'] === undefined ? {} : undefined;
}

export const decideHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe(
      'retry a lost answer: the same key (per agent, 24 h) answers the stored decision, marked replay: true and replayOf, without deciding, auditing or counting again. It is not a way to run a call twice: a decision authorizes one run (Airlock-Claim)',
    ),
  'airlock-claim': z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe(
      "the caller starts the call if the answer allows it; the id of this attempt. Claims a fresh allow, or a replayed one no attempt claimed (audited call.started); a decision that already ran is refused 409 already_ran (audited call.refused). The same id again gets the same answer",
    ),
  'airlock-repeat': z
    .enum(['decide', 'refuse'])
    .optional()
    .describe('with Idempotency-Key, when the key\'s decision already ran: decide = a new call with a repeated id, decided afresh (audited, counted) under the key; refuse (default) = answer the stored decision, a claim is refused'),
});

export function decideRoutes(services: Services) {
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/decide',
      response: V.DecisionResponse,
      tag: 'decisions',
      summary: 'Decide a tool call: allow, require_approval or block. Durable (audited) before it answers.',
      body: decideBody,
      headers: decideHeaders,
      fast: { body: decideBodyFast, headers: decideHeadersFast },
      async handler({ body, headers, principal, reply }) {
        const outcome = await services.decisions.decide(
          agentOf(principal),
          { tool: body.tool, args: body.args ?? {}, session: body.session, sessionAttributes: body.sessionAttributes, intent: body.intent },
          headers['idempotency-key'],
          { claim: headers['airlock-claim'], repeat: headers['airlock-repeat'] === 'decide' ? 'decide' : undefined },
        );
        if (outcome.replayed) reply.header('idempotent-replayed', 'true');
        reply.code(outcome.durable ? 200 : 503);
        return outcome.response;
      },
    }),
  ];
}
