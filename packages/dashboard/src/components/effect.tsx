import type { ApprovalStatus, Cause, Effect } from '../api/types';
import { CAUSE_LABEL, EFFECT_LABEL } from '../format';
import { Link } from '../router';

/** Effect colours, shared by badges and charts. */
export const EFFECT_COLOR: Record<Effect, string> = { allow: '#2f855a', require_approval: '#b7791f', block: '#c53030' };

export function EffectBadge({ effect }: { effect: Effect | string | null }) {
  if (effect === null) return <span className="muted">—</span>;
  const known = effect === 'allow' || effect === 'require_approval' || effect === 'block';
  return <span className={`badge effect-${known ? effect : 'other'}`}>{known ? EFFECT_LABEL[effect] : effect}</span>;
}

/** The decision's risk level (the engine's: never lower than its outcome) and, when there is one, its raw score. */
export function RiskBadge({ risk }: { risk: { score: number; level: string } | undefined }) {
  if (!risk) return <span className="muted">—</span>;
  return (
    <span className={`risk risk-${risk.level}`} data-testid="risk" title={`level ${risk.level}: the stricter of the risk score's tier and the outcome (allow low, approval high, block critical); risk score ${risk.score}`}>
      {risk.level} {risk.score > 0 ? `(${risk.score})` : ''}
    </span>
  );
}

const OUTCOME_TEXT: Record<ApprovalStatus, string> = { pending: 'waiting', approved: 'approved', denied: 'denied', expired: 'expired', redeemed: 'approved, ran' };

/** How the approval a decision opened ended (or that it is still waiting), linking to it. */
export function ApprovalOutcome({ id, status }: { id: string; status: ApprovalStatus | string | undefined }) {
  return (
    <Link to={`/approvals/${id}`} className={`outcome outcome-${status ?? 'unknown'}`} data-testid="approval-outcome" data-status={status ?? ''} title="The approval this decision opened">
      approval: {status ? ((OUTCOME_TEXT as Record<string, string>)[status] ?? status) : 'open'}
    </Link>
  );
}

/** Why a call was refused, for blocks no rule or limit decided. */
export function CauseText({ cause }: { cause: Cause | undefined }) {
  if (!cause) return <span className="muted">—</span>;
  return (
    <span className={`cause cause-${cause}`} data-testid="cause">
      {CAUSE_LABEL[cause]}
    </span>
  );
}
