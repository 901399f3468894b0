import { MAX_INTENT_LENGTH, sessionAttributesSchema } from '@airlock/core';
import { z } from 'zod';
import { agentOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import { openEventStream } from '../http/sse.js';
import type { Services } from '../services/services.js';
import { toolArgs } from './schemas.js';

/**
 * Edge mode (SDK `createAirlock({ url, apiKey, edge: true })`): the SDK keeps the active policy and
 * the pauses that concern its agent from this stream and answers stateless allows in-process; the
 * rest still goes to POST /v1/decide. The stream beats every EDGE_HEARTBEAT_MS so the SDK can tell
 * a live stream from a dead one and stop answering locally within a second or two.
 */
export const EDGE_HEARTBEAT_MS = 500;
export const MAX_EDGE_BATCH = 500;

const edgeReport = z.object({
  id: z.string().min(1).max(64),
  at: z.number().int().nonnegative(),
  version: z.number().int().positive(),
  rule: z.string().max(256).nullable(),
  call: z.object({
    tool: z.string().min(1).max(256),
    args: toolArgs,
    session: z.string().max(256).optional(),
    sessionAttributes: sessionAttributesSchema.optional(),
    intent: z.string().max(MAX_INTENT_LENGTH).optional(),
  }),
  refused: z
    .object({ code: z.literal('already_ran'), decision: z.string().min(1).max(64), firstRunAt: z.string().max(64) })
    .optional()
    .describe('a second run of a local allow the SDK refused (one decision, one run): audited as call.refused, not as a decision'),
});

export function edgeRoutes(services: Services, options: { open: Set<() => void> }) {
  const { policies, events, pauses, agents } = services;
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/edge/stream',
      tag: 'decisions',
      summary:
        "Edge mode, Server-Sent Events for one agent key: `hello` (the key's identity), `policy` (the active version's sources, now and on every activation), `pauses` (the pauses that concern the agent, now and on every change); a comment line every 500 ms.",
      produces: 'text/event-stream',
      handler({ reply, principal }) {
        const identity = agentOf(principal);
        const stream = openEventStream(reply, EDGE_HEARTBEAT_MS, options.open);
        // A revoked key ends its stream at the next beat: the SDK then stops answering locally.
        stream.keepWhile(() => agents.keyActive(identity.keyId));
        stream.send('hello', { agent: identity.agent, role: identity.role, environment: identity.environment, heartbeatMs: EDGE_HEARTBEAT_MS });
        const current = policies.activeEvent();
        if (current) stream.send('policy', current);
        stream.send('pauses', { pauses: pauses.activeFor(identity) });
        stream.onClose(events.subscribe(['policy'], (event) => stream.send(event.type, event.data)));
        stream.onClose(pauses.onChange(() => stream.send('pauses', { pauses: pauses.activeFor(identity) })));
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/edge/decisions',
      tag: 'decisions',
      summary:
        'Edge mode: the allows an SDK answered in-process, in a batch (at most 500). Each is re-checked with the server\'s copy of the version used and audited as a `decision` record with `edge` (whether the server agreed); answers the verdicts. A report already recorded (same id, same agent: a batch resent because its answer was lost) is not recorded again; its first verdict is answered, and `recorded` counts only the new ones.',
      body: z.object({ decisions: z.array(edgeReport).min(1).max(MAX_EDGE_BATCH) }),
      async handler({ body, principal }) {
        return services.decisions.recordEdge(agentOf(principal), body.decisions);
      },
    }),
  ];
}
