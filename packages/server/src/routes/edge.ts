import { MAX_INTENT_LENGTH, scopeSources, sessionAttributesSchema } from '@airlock/core';
import { z } from 'zod';
import { agentOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import * as V from '../http/views.js';
import { openEventStream, streamCaller } from '../http/sse.js';
import type { PolicyEvent } from '../services/events.js';
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
  rule: z.string().min(1).max(256).nullable().describe('the deciding rule or limit id; null for the policy default, a risk tier or an error'),
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

/** Scoped policy events kept, by version, role and environment (cleared when full). */
const SCOPED_CACHE_SIZE = 256;

export function edgeRoutes(services: Services, options: { open: Set<() => void> }) {
  const { policies, events, pauses, agents } = services;
  const scoped = new Map<string, PolicyEvent>();
  /**
   * Least privilege: a key receives the policies that apply to its own role, without other
   * environments' overrides (core scopeSources), never the whole bundle. A version that cannot be
   * separated is sent with no sources: the SDK then cannot load it and asks the server for every call.
   */
  const scopedFor = (event: PolicyEvent, identity: { role: string; environment: string }): PolicyEvent => {
    const key = `${event.version}\u0000${event.digest}\u0000${identity.role}\u0000${identity.environment}`;
    let found = scoped.get(key);
    if (!found) {
      let sources: PolicyEvent['sources'];
      try {
        sources = scopeSources(event.sources, identity.role, identity.environment);
      } catch {
        sources = [];
      }
      found = { ...event, sources };
      if (scoped.size >= SCOPED_CACHE_SIZE) scoped.clear();
      scoped.set(key, found);
    }
    return found;
  };
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/edge/stream',
      tag: 'decisions',
      summary:
        "Edge mode, Server-Sent Events for one agent key: `hello` (the key's identity), `policy` (of the active version, now and on every activation, the policies that apply to the key's role, without other environments' overrides), `pauses` (the pauses that concern the agent, now and on every change); a comment line every 500 ms.",
      produces: 'text/event-stream',
      handler({ reply, principal }) {
        const identity = agentOf(principal);
        const stream = openEventStream(reply, EDGE_HEARTBEAT_MS, options.open, streamCaller(principal));
        // A revoked key ends its stream at the next beat: the SDK then stops answering locally.
        stream.keepWhile(() => agents.keyActive(identity.keyId));
        stream.send('hello', { agent: identity.agent, role: identity.role, environment: identity.environment, heartbeatMs: EDGE_HEARTBEAT_MS });
        const current = policies.activeEvent();
        if (current) stream.send('policy', scopedFor(current, identity));
        stream.send('pauses', { pauses: pauses.activeFor(identity) });
        stream.onClose(
          events.subscribe(['policy'], (event) => {
            if (event.type === 'policy') stream.send('policy', scopedFor(event.data, identity));
          }),
        );
        stream.onClose(pauses.onChange(() => stream.send('pauses', { pauses: pauses.activeFor(identity) })));
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/v1/edge/decisions',
      response: V.EdgeVerdicts,
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
