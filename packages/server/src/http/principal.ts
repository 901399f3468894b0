import type { AgentIdentity } from '../services/agents.js';
import type { UserPrincipal } from '../services/auth.js';
import type { ApprovalViewer } from '../services/approvals.js';
import { AirlockError } from '../errors.js';

/** Who is calling: an agent (API key), a person (session cookie), or nobody (public routes). */
export type Principal = { kind: 'agent'; identity: AgentIdentity } | { kind: 'user'; user: UserPrincipal } | { kind: 'anonymous' };

export function agentOf(principal: Principal): AgentIdentity {
  if (principal.kind !== 'agent') throw new AirlockError('forbidden', 'this route is for agents');
  return principal.identity;
}

export function userOf(principal: Principal): UserPrincipal {
  if (principal.kind !== 'user') throw new AirlockError('forbidden', 'this route is for people');
  return principal.user;
}

/** The audit actor string for a principal. */
export function actorOf(principal: Principal): string {
  if (principal.kind === 'agent') return `agent:${principal.identity.agent}`;
  if (principal.kind === 'user') return `user:${principal.user.username}`;
  return 'anonymous';
}

export function viewerOf(principal: Principal): ApprovalViewer {
  if (principal.kind === 'agent') return { agent: principal.identity.agent };
  return { user: userOf(principal).username };
}
