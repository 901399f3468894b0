import type { UserRole } from './services/auth.js';

/** A caller kind: an agent key, or a person's role. */
export type Caller = 'agent' | UserRole;
export type Access = 'public' | readonly Caller[];

const VIEW: readonly Caller[] = ['viewer', 'approver', 'policy-author', 'admin'];
const APPROVE: readonly Caller[] = ['approver', 'admin'];
const AUTHOR: readonly Caller[] = ['policy-author', 'admin'];
const ADMIN: readonly Caller[] = ['admin'];

/**
 * Who may call what: the single table every route is checked against before its body is read.
 * A registered route missing here fails the server at start (fail closed).
 * Agents decide, read and wait for their own approvals, redeem them, read which of their own
 * tools can be reached, and in edge mode follow their policy and pauses and report the allows
 * they answered; nothing else.
 */
export const ROUTE_ACCESS: Readonly<Record<string, Access>> = {
  'GET /': 'public',
  'GET /assets/*': 'public',
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'GET /metrics': 'public',
  'GET /openapi.json': 'public',
  'POST /v1/auth/login': 'public',
  'GET /v1/auth/methods': 'public',
  // Single sign-on: the browser arrives without a session; the callback checks the stored sign-in.
  'GET /v1/auth/oidc/start': 'public',
  'GET /v1/auth/oidc/callback': 'public',
  'POST /v1/auth/logout': VIEW,
  'GET /v1/auth/session': VIEW,

  'POST /v1/decide': ['agent'],
  'GET /v1/agent/tools': ['agent'],
  'GET /v1/edge/stream': ['agent'],
  'POST /v1/edge/decisions': ['agent'],
  'POST /v1/outcomes': ['agent'],
  'GET /v1/outcomes/orphans': VIEW,
  'GET /v1/outcomes/failure-rates': VIEW,
  'GET /v1/outcomes/:decisionId': VIEW,
  'GET /v1/approvals/:id/outcome': VIEW,

  'GET /v1/approvals': VIEW,
  'GET /v1/approvals/stats': VIEW,
  'GET /v1/approvals/:id/deliveries': VIEW,
  'GET /v1/approvals/:id': ['agent', ...VIEW],
  'GET /v1/approvals/:id/wait': ['agent', ...VIEW],
  'POST /v1/approvals/:id/approve': APPROVE,
  'POST /v1/approvals/:id/deny': APPROVE,
  'POST /v1/approvals/:id/redeem': ['agent'],
  // Approve/deny links: the page is public (it shows nothing until signed in, or for a one-click
  // token); acting needs a session, or a one-click token that names its user.
  'GET /v1/approval-links': 'public',
  'POST /v1/approval-links': APPROVE,
  'POST /v1/approval-links/one-click': 'public',

  'GET /v1/anomalies': VIEW,
  'GET /v1/pauses': VIEW,
  'POST /v1/pauses': ADMIN,
  'POST /v1/pauses/:id/resume': ADMIN,
  'GET /v1/audit': VIEW,
  'GET /v1/audit/export': VIEW,
  'GET /v1/audit/types': VIEW,
  'GET /v1/audit/verify': VIEW,
  'GET /v1/audit/stream': VIEW,

  'GET /v1/policies': VIEW,
  'GET /v1/policies/diff': VIEW,
  'GET /v1/policies/:version': VIEW,
  'POST /v1/policies': AUTHOR,
  'POST /v1/policies/validate': AUTHOR,
  'POST /v1/policies/simulate': AUTHOR,
  'GET /v1/policies/suggestions': VIEW,
  'POST /v1/policies/:version/activate': AUTHOR,
  'POST /v1/policies/rollback': AUTHOR,
  'POST /v1/policies/:version/shadow': AUTHOR,
  'GET /v1/policies/shadow': VIEW,
  'DELETE /v1/policies/shadow': AUTHOR,
  'POST /v1/policies/shadow/promote': AUTHOR,
  'GET /v1/policy/stream': VIEW,

  'GET /v1/events': VIEW,

  'GET /v1/stats/overview': VIEW,
  'GET /v1/fleet': VIEW,
  'GET /v1/fleet/:id': VIEW,
  'GET /v1/approvals/:id/context': VIEW,

  'GET /v1/agents': VIEW,
  'POST /v1/agents': ADMIN,
  'GET /v1/agents/:id/keys': VIEW,
  'POST /v1/agents/:id/keys': ADMIN,
  'DELETE /v1/keys/:id': ADMIN,
  'POST /v1/keys/:id/rotate': ADMIN,

  // People's API tokens: each person manages their own (an admin may list and revoke anyone's).
  'GET /v1/tokens': VIEW,
  'POST /v1/tokens': VIEW,
  'DELETE /v1/tokens/:id': VIEW,

  'GET /v1/users': ADMIN,
  'POST /v1/users': ADMIN,
  'POST /v1/users/:username/groups': ADMIN,
  'POST /v1/users/:username/role': ADMIN,
  'POST /v1/users/:username/disable': ADMIN,
  'POST /v1/users/:username/enable': ADMIN,
};

export function routeKey(method: string, url: string): string {
  return `${method} ${url}`;
}

export function allows(access: Access, caller: Caller): boolean {
  return access === 'public' || access.includes(caller);
}
