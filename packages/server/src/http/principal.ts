import type { AgentIdentity } from '../services/agents.js';
import type { UserPrincipal } from '../services/auth.js';
import type { Approver, ApprovalViewer } from '../services/approvals.js';
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

/** A signed-in person as an approver: their approver groups entitle them to tiers. */
export function approverOf(principal: Principal): Approver {
  const user = userOf(principal);
  return { username: user.username, groups: user.groups, kind: user.kind };
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
