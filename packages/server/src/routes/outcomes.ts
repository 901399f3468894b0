import { z } from 'zod';
import { AirlockError } from '../errors.js';
import { agentOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import * as V from '../http/views.js';
import { MAX_ERROR_MESSAGE, MAX_OUTCOME_BATCH, MAX_RECORDED_RESULT } from '../services/outcomes.js';
import type { Services } from '../services/services.js';
import { sha256Hex } from './schemas.js';

const outcomeReport = z.object({
  decisionId: z.string().min(1).max(64),
  decidedAt: z.string().min(1).max(64).describe("the decision's `at`, as the decide answered it"),
  status: z.enum(['started', 'succeeded', 'failed']),
  at: z.number().int().nonnegative().describe('when it happened (epoch ms, the agent clock; kept between the decision and now)'),
  durationMs: z.number().nonnegative().max(7 * 24 * 3_600_000).optional(),
  error: z.object({ class: z.string().max(128), message: z.string().max(MAX_ERROR_MESSAGE) }).optional(),
  result: z
    .object({
      digest: sha256Hex.describe("SHA-256 (hex) of the result's JSON text"),
      size: z.number().int().nonnegative().describe('bytes of that text'),
      content: z.string().max(MAX_RECORDED_RESULT).optional().describe('the text itself (cut), kept only when the policy sets `recordResult: true` for the tool'),
      truncated: z.boolean().optional(),
    })
    .optional(),
});

/** Longest grace period an orphans query may ask for: a week. */
const MAX_GRACE_S = 7 * 24 * 3600;

export function outcomeRoutes(services: Services) {
  const { outcomes } = services;
  return [
    defineRoute({
      method: 'POST',
      url: '/v1/outcomes',
      tag: 'decisions',
      summary:
        "Execution outcomes: what ran after the agent's decisions, in a batch (at most 500): `started`, `succeeded` or `failed`, with duration, error class and message, and the result's SHA-256 and size. Recorded as `call.started` / `call.executed` / `call.failed` in the audit chain, linked to the decision and its approval. Each is answered `recorded`, or refused: `unknown_decision`, `decision_of_another_agent`, `decision_not_runnable`, `outcome_already_reported` (one outcome per decision).",
      body: z.object({ outcomes: z.array(outcomeReport).min(1).max(MAX_OUTCOME_BATCH) }),
      response: V.OutcomesRecorded,
      async handler({ body, principal }) {
        return outcomes.record(agentOf(principal), body.outcomes);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/outcomes/orphans',
      heavy: true,
      tag: 'audit',
      summary:
        'Calls the trail cannot account for, of the agents that report outcomes (from their first report): allowed calls and redeemed approvals with no outcome after the grace period, calls started and never finished, calls reported twice.',
      query: z.object({
        agent: z.string().max(256).optional(),
        grace: z.coerce.number().int().min(0).max(MAX_GRACE_S).default(300).describe('seconds a call may run before it counts as unreported'),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
      response: V.Orphans,
      handler: ({ query }) => outcomes.orphans({ agent: query.agent, graceMs: query.grace * 1000, limit: query.limit }),
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/outcomes/failure-rates',
      heavy: true,
      tag: 'audit',
      summary: 'Failure rate per agent and tool over the outcomes finished in the window.',
      query: z.object({
        agent: z.string().max(256).optional(),
        window: z.coerce.number().int().min(60).max(MAX_GRACE_S).default(3600).describe('seconds'),
      }),
      response: z.object({ rates: z.array(V.FailureRate) }),
      async handler({ query }) {
        return { rates: await outcomes.failureRates(query.window * 1000, query.agent === undefined ? {} : { agent: query.agent }) };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/outcomes/:decisionId',
      tag: 'audit',
      summary: 'The outcome of one decision (`approval=1`: the id is an approval\'s, the outcome of the call it allowed).',
      params: z.object({ decisionId: z.string().min(1).max(64) }),
      query: z.object({ approval: z.enum(['0', '1']).default('0') }),
      response: V.Outcome,
      async handler({ params, query }) {
        const found = await outcomes.outcomeOf(query.approval === '1' ? { approvalId: params.decisionId } : { decisionId: params.decisionId });
        if (!found) throw new AirlockError('not_found', 'no outcome reported for it');
        return found;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/v1/approvals/:id/outcome',
      tag: 'approvals',
      summary:
        "What ran on an approval, as its agent reported it: `outcome` null while nothing was reported (an approval not redeemed yet, or an agent whose adapter does not report). The approval detail's \"approved 14:02, ran 14:03, succeeded in 210 ms\".",
      params: z.object({ id: z.string().min(1).max(64) }),
      response: z.object({ outcome: V.Outcome.nullable() }),
      async handler({ params }) {
        return { outcome: (await outcomes.outcomeOf({ approvalId: params.id })) ?? null };
      },
    }),
  ];
}
