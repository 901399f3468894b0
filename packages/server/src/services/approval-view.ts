import type { ApprovalRow } from '../store/schema.js';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'redeemed';

/** An approval as the API returns it. */
export interface ApprovalView {
  id: string;
  decisionId: string;
  status: ApprovalStatus;
  agent: string;
  role: string;
  environment: string;
  tool: string;
  args: Record<string, unknown>;
  session: string | null;
  /** sha256 of the canonical call (agent, tool, args) the approval is bound to. */
  callHash: string;
  rule: string | null;
  reason: string;
  approvers: string[];
  policyVersion: number;
  createdAt: string;
  expiresAt: string;
  resolvedBy: string | null;
  resolvedAt: string | null;
  resolutionReason: string | null;
  redeemedAt: string | null;
}

export function approvalView(row: ApprovalRow): ApprovalView {
  return {
    id: row.id,
    decisionId: row.decision_id,
    status: row.status as ApprovalStatus,
    agent: row.agent,
    role: row.role,
    environment: row.environment,
    tool: row.tool,
    args: JSON.parse(row.args) as Record<string, unknown>,
    session: row.session,
    callHash: row.call_hash,
    rule: row.rule,
    reason: row.reason,
    approvers: JSON.parse(row.approvers) as string[],
    policyVersion: row.policy_version,
    createdAt: iso(row.created_at),
    expiresAt: iso(row.expires_at),
    resolvedBy: row.resolved_by,
    resolvedAt: row.resolved_at === null ? null : iso(row.resolved_at),
    resolutionReason: row.resolution_reason,
    redeemedAt: row.redeemed_at === null ? null : iso(row.redeemed_at),
  };
}

function iso(ms: number): string {
  return new Date(Number(ms)).toISOString();
}
