import { DEFAULT_ROUTE, type ApprovalRoute, type ApprovalTier, type Reservation, type TimeoutAction } from '@airlock/core';
import type { ApprovalRow } from '../store/schema.js';
import type { UserKind } from './auth.js';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'redeemed';

/** One person's approval of one call in one tier. */
export interface ApprovalVote {
  by: string;
  /** The kind of account that voted; absent on votes from before it was recorded (people). */
  kind?: UserKind;
  at: number;
  reason: string;
  /** Index of the tier the vote was cast in. */
  tier: number;
  /** The call (hash) the vote approved: after an edit, earlier votes no longer count. */
  callHash: string;
  /** True when this vote changed the arguments. */
  edited: boolean;
  /** What the edited call was charged to the limits (an edit only): the approval holds this from then on. */
  charged?: Reservation;
}

/** An approval as the API returns it. */
export interface ApprovalView {
  id: string;
  decisionId: string;
  status: ApprovalStatus;
  agent: string;
  role: string;
  environment: string;
  tool: string;
  /** The arguments that will run: the edited ones when an approver changed them. */
  args: Record<string, unknown>;
  /** The arguments the agent asked for. */
  requestedArgs: Record<string, unknown>;
  /** True when an approver changed the arguments. */
  edited: boolean;
  session: string | null;
  /** Attributes the application bound to the session; null: none. */
  sessionAttributes: Record<string, string | number | boolean> | null;
  /** The agent's stated reason for the call: shown to approvers, not verified, never used to decide. */
  intent: string | null;
  /** sha256 of the canonical call (agent, tool, args) the approval is bound to: the edited call when edited. */
  callHash: string;
  rule: string | null;
  reason: string;
  /** Approver groups of the current tier; empty: anyone allowed to approve. */
  approvers: string[];
  /** Name and index of the current tier, and how many tiers the route has. */
  tier: string;
  tierIndex: number;
  tierCount: number;
  /** Distinct approvals the current tier needs, how many it has, and how many are still missing. */
  requiredApprovals: number;
  approvalsRemaining: number;
  /** The approvals that count toward the current tier, oldest first. */
  approvals: { by: string; kind: UserKind; at: string; reason: string; edited: boolean }[];
  /** When the current tier times out, and what happens then; null: no timeout. */
  deadlineAt: string | null;
  onTimeout: TimeoutAction | null;
  /** The tier an escalation would move to. */
  escalatesTo: string | null;
  /** Times the approval has moved up a tier. */
  escalations: number;
  /** The whole route, for display. */
  route: ApprovalRoute;
  policyVersion: number;
  createdAt: string;
  expiresAt: string;
  resolvedBy: string | null;
  /** The kind of account that decided; null while pending or when the system resolved it. */
  resolvedByKind: UserKind | null;
  resolvedAt: string | null;
  resolutionReason: string | null;
  redeemedAt: string | null;
}

/** The approval a `require_approval` decision answers with: its route plus where the approval stands. */
export interface ApprovalTicket extends ApprovalRoute {
  id: string;
  status: ApprovalStatus;
  expiresAt: string;
  /** When the starting tier times out; null: no timeout. */
  deadlineAt: string | null;
}

export function ticketOf(view: ApprovalView): ApprovalTicket {
  return { ...view.route, id: view.id, status: view.status, expiresAt: view.expiresAt, deadlineAt: view.deadlineAt };
}

/** The route stored with an approval; approvals opened before routing get a one-tier route of their groups. */
export function routeOf(row: Pick<ApprovalRow, 'route' | 'approvers'>): ApprovalRoute {
  if (row.route !== '') return JSON.parse(row.route) as ApprovalRoute;
  const approvers = JSON.parse(row.approvers) as string[];
  const tier: ApprovalTier = { name: 'default', approvers, required: 1, timeout: null, onTimeout: 'block' };
  return { ...DEFAULT_ROUTE, approvers, tiers: [tier] };
}

export function tierOf(route: ApprovalRoute, index: number): ApprovalTier {
  const tier = route.tiers[index];
  if (!tier) throw new Error(`approval route has no tier ${index}`);
  return tier;
}

/** The call hash an approval is bound to now. */
export function boundHash(row: Pick<ApprovalRow, 'call_hash' | 'edited_call_hash'>): string {
  return row.edited_call_hash ?? row.call_hash;
}

/** The votes that count toward the current tier of the current call. */
export function countingVotes(row: Pick<ApprovalRow, 'votes' | 'tier' | 'call_hash' | 'edited_call_hash'>): ApprovalVote[] {
  const hash = boundHash(row);
  return (JSON.parse(row.votes) as ApprovalVote[]).filter((vote) => vote.tier === row.tier && vote.callHash === hash);
}

export function approvalView(row: ApprovalRow): ApprovalView {
  const route = routeOf(row);
  const tier = tierOf(route, row.tier);
  const votes = countingVotes(row);
  const requestedArgs = JSON.parse(row.args) as Record<string, unknown>;
  const pending = row.status === 'pending';
  const next = route.tiers[row.tier + 1];
  return {
    id: row.id,
    decisionId: row.decision_id,
    status: row.status as ApprovalStatus,
    agent: row.agent,
    role: row.role,
    environment: row.environment,
    tool: row.tool,
    args: row.edited_args === null ? requestedArgs : (JSON.parse(row.edited_args) as Record<string, unknown>),
    requestedArgs,
    edited: row.edited_args !== null,
    session: row.session,
    sessionAttributes: row.session_attributes === null ? null : (JSON.parse(row.session_attributes) as Record<string, string | number | boolean>),
    intent: row.intent,
    callHash: boundHash(row),
    rule: row.rule,
    reason: row.reason,
    approvers: tier.approvers,
    tier: tier.name,
    tierIndex: row.tier,
    tierCount: route.tiers.length,
    requiredApprovals: tier.required,
    approvalsRemaining: pending ? Math.max(0, tier.required - votes.length) : 0,
    approvals: votes.map((vote) => ({ by: vote.by, kind: vote.kind === 'bot' ? 'bot' : 'person', at: iso(vote.at), reason: vote.reason, edited: vote.edited })),
    deadlineAt: pending && row.deadline_at !== null ? iso(row.deadline_at) : null,
    onTimeout: pending && row.deadline_at !== null ? tier.onTimeout : null,
    escalatesTo: tier.onTimeout === 'escalate' && next ? next.name : null,
    escalations: row.tier - route.tierIndex,
    route,
    policyVersion: row.policy_version,
    createdAt: iso(row.created_at),
    expiresAt: iso(row.expires_at),
    resolvedBy: row.resolved_by,
    resolvedByKind: row.resolved_by_kind === 'bot' ? 'bot' : row.resolved_by_kind === 'person' ? 'person' : null,
    resolvedAt: row.resolved_at === null ? null : iso(row.resolved_at),
    resolutionReason: row.resolution_reason,
    redeemedAt: row.redeemed_at === null ? null : iso(row.redeemed_at),
  };
}

function iso(ms: number): string {
  return new Date(Number(ms)).toISOString();
}
