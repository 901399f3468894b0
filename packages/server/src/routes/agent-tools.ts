import { agentOf } from '../http/principal.js';
import { defineRoute } from '../http/route.js';
import * as V from '../http/views.js';
import type { Services } from '../services/services.js';

/**
 * What the calling agent's active policy lets it reach, for gateways that hide tools (the MCP
 * gateway's `tools/list`). Identity comes from the API key, as for decisions. Only the agent's own
 * role and environment are analysed: it learns tool names and reasons it would see in decisions.
 */
export function agentToolRoutes(services: Services) {
  return [
    defineRoute({
      method: 'GET',
      url: '/v1/agent/tools',
      response: V.AgentTools,
      tag: 'decisions',
      summary:
        "The tools the calling agent's active policy declares, each with `reach`: `blocked` when every call is blocked whatever its arguments, else `open`. Tools not listed are unknown to the agent (blocked).",
      handler({ principal }) {
        const identity = agentOf(principal);
        const active = services.policies.active();
        return {
          agent: identity.agent,
          role: identity.role,
          environment: identity.environment,
          policy: active ? { bundle: active.engine.bundle, version: active.version } : null,
          tools: active ? active.engine.toolsFor(identity.role, identity.environment) : [],
        };
      },
    }),
  ];
}
