import type { Approval } from '../api/types';
import { formatClock, formatRelative, formatTime } from '../format';

/** `lead — tier 1 of 2`. */
export function tierText(approval: Approval): string {
  return `${approval.tier} — tier ${approval.tierIndex + 1} of ${approval.tierCount}`;
}

function groupsOf(groups: string[]): string {
  return groups.length ? groups.join(' or ') : 'any approver';
}

/** `1 of 2 approvals — 1 more from finance-approvers`. */
export function approvalsText(approval: Approval): string {
  const collected = approval.approvals.length;
  const count = `${collected} of ${approval.requiredApprovals} approval${approval.requiredApprovals === 1 ? '' : 's'}`;
  if (approval.status !== 'pending' || approval.approvalsRemaining === 0) return count;
  return `${count} — ${approval.approvalsRemaining} more from ${groupsOf(approval.approvers)}`;
}

/** What happens at the tier's deadline: `escalates to manager (support-managers) at 10:42`; null without a deadline. */
export function deadlineText(approval: Approval): string | null {
  if (approval.deadlineAt === null || approval.onTimeout === null) return null;
  const at = formatClock(approval.deadlineAt);
  if (approval.onTimeout === 'escalate' && approval.escalatesTo !== null) {
    const next = approval.route.tiers.find((tier) => tier.name === approval.escalatesTo);
    return `escalates to ${approval.escalatesTo}${next ? ` (${groupsOf(next.approvers)})` : ''} at ${at}`;
  }
  if (approval.onTimeout === 'allow') return `is approved automatically at ${at}`;
  return `blocks at ${at}`;
}

/** The route of an approval in the inbox list: one short line. */
export function RouteLine({ approval }: { approval: Approval }) {
  const deadline = deadlineText(approval);
  return (
    <span className="small route-line" data-testid="route-line">
      <span className="tier-pill">{tierText(approval)}</span> {approvalsText(approval)}
      {deadline ? <span className={`deadline deadline-${approval.onTimeout ?? 'none'}`}> · {deadline}</span> : null}
    </span>
  );
}

/** The route facts of the detail: tier, approvals collected and missing, who approved, the deadline. */
export function RouteFacts({ approval, now }: { approval: Approval; now: number }) {
  const deadline = deadlineText(approval);
  return (
    <dl className="facts route-facts" data-testid="route">
      <dt>Tier</dt>
      <dd data-testid="route-tier">{tierText(approval)}</dd>
      <dt>Approvals</dt>
      <dd data-testid="route-approvals">{approvalsText(approval)}</dd>
      <dt>Approved by</dt>
      <dd data-testid="route-voters">
        {approval.approvals.length === 0 ? (
          'nobody yet'
        ) : (
          <ul className="plain">
            {approval.approvals.map((vote) => (
              <li key={`${vote.by}-${vote.at}`}>
                <strong>{vote.by}</strong>
                {vote.kind === 'bot' ? ' (bot)' : ''} at {formatTime(vote.at)}
                {vote.edited ? ' (with changes)' : ''}: “{vote.reason}”
              </li>
            ))}
          </ul>
        )}
      </dd>
      <dt>Deadline</dt>
      <dd data-testid="route-deadline">
        {deadline && approval.deadlineAt ? (
          <>
            {deadline[0]?.toUpperCase()}
            {deadline.slice(1)} ({formatRelative(approval.deadlineAt, now)})
          </>
        ) : approval.status === 'pending' ? (
          'none: waits until it expires'
        ) : (
          '— (no longer pending)'
        )}
      </dd>
      {approval.escalations > 0 ? (
        <>
          <dt>Escalated</dt>
          <dd>
            {approval.escalations} time{approval.escalations === 1 ? '' : 's'}
          </dd>
        </>
      ) : null}
    </dl>
  );
}
