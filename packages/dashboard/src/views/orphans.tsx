import { useLayoutEffect, useState } from 'react';
import { api } from '../api/client';
import type { Orphans } from '../api/types';
import { ErrorNotice, Loading } from '../components/states';
import { formatDateTime, formatRelative, formatWhen, plural } from '../format';
import { agentOf, useLiveReload } from '../live';
import { Link } from '../router';
import { useResource } from '../use-resource';

/** How long a call may run before it counts as unreported (GET /v1/outcomes/orphans `grace`, seconds). */
const GRACES = [
  { seconds: 0, label: 'at once' },
  { seconds: 60, label: '1 min' },
  { seconds: 300, label: '5 min' },
  { seconds: 3600, label: '1 hour' },
] as const;
const DEFAULT_GRACE = 300;
const LIMIT = 100;
/**
 * Least time between two looks the answer's `nextDueAt` asks for: an agent that is busy always
 * has a call about to pass the grace period, and the card need not be current to the millisecond.
 */
const MIN_RECHECK_MS = 5_000;
/** Past the due instant by this much, so the server's clock has surely passed it too. */
const RECHECK_MARGIN_MS = 250;
/** setTimeout's longest delay (a grace period of a week is longer): it looks again then, and waits again. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How long after `answer` the card is to look again by itself; undefined when no call waits. */
function recheckDelay(answer: Orphans): number | undefined {
  if (answer.nextDueAt === null) return undefined;
  // Both instants are the server's: the delay does not depend on this browser's clock.
  const delay = Date.parse(answer.nextDueAt) - Date.parse(answer.checkedAt) + RECHECK_MARGIN_MS;
  return Math.min(MAX_TIMER_MS, Math.max(MIN_RECHECK_MS, delay));
}

/** The decision's audit record, found by its sequence number (the audit explorer opens it). */
function auditLink(agent: string, seq: number | null): string {
  return seq === null ? `/audit?agent=${encodeURIComponent(agent)}&type=decision` : `/audit?agent=${encodeURIComponent(agent)}&seq=${seq}`;
}

/**
 * One agent's calls the trail cannot account for (issue 21): approvals redeemed and allowed calls
 * with no outcome reported after the grace period, calls started and never finished, calls
 * reported twice. Judged only for an agent whose adapter reports outcomes (from its first report).
 */
export function OrphansPanel({ agent }: { agent: string }) {
  const [grace, setGrace] = useState<number>(DEFAULT_GRACE);
  const answer = useResource(() => api.get<Orphans>('/v1/outcomes/orphans', { agent, grace, limit: LIMIT }), `orphans-${agent}-${grace}`);
  // What changes the answer: a call allowed, an approval redeemed, an outcome reported, and a
  // call passing the grace period, which no event announces: the answer says when (nextDueAt).
  useLiveReload((event) => agentOf(event) === agent && (event.type !== 'decision' || event.data.effect === 'allow'), answer.reload);
  const data = answer.data;
  const { reload } = answer;
  // A layout effect: the timer is set in the same commit that shows when it fires, never after.
  useLayoutEffect(() => {
    const delay = data && recheckDelay(data);
    if (delay === undefined) return;
    const timer = setTimeout(reload, delay);
    return () => clearTimeout(timer);
  }, [data, reload]);
  const reporting = data?.agents.find((a) => a.agent === agent);
  const total = data ? data.redeemedUnreported.length + data.allowedUnreported.length + data.startedUnfinished.length + data.reportedTwice.length : 0;
  const graceLabel = GRACES.find((g) => g.seconds === grace)?.label ?? `${grace} s`;
  return (
    <div className="card" data-testid="orphans" aria-labelledby="orphans-title">
      <div className="page-head">
        <h2 id="orphans-title">Unaccounted calls</h2>
        <div className="range-picker" role="group" aria-label="Unreported after">
          <span className="muted small">Unreported after</span>
          {GRACES.map((g) => (
            <button key={g.seconds} type="button" className={grace === g.seconds ? 'chip selected' : 'chip'} aria-pressed={grace === g.seconds} onClick={() => setGrace(g.seconds)}>
              {g.label}
            </button>
          ))}
          <button type="button" className="chip" onClick={answer.reload}>
            Check again
          </button>
        </div>
      </div>
      <p className="muted">
        What the trail cannot account for: approvals redeemed and allowed calls whose run was never reported (after the grace period), calls started and never finished, and calls reported
        twice. Only agents whose adapter reports execution outcomes are judged, from their first report.
      </p>
      {answer.error ? <ErrorNotice error={answer.error} action={<button onClick={answer.reload}>Try again</button>} /> : null}
      {answer.loading ? <Loading what="Loading unaccounted calls" /> : null}
      {data && !reporting ? (
        <p className="state empty" data-testid="orphans-empty">
          {agent} has not reported the outcome of any call: its adapter does not report outcomes (or it has not run a call yet), so nothing can be judged unaccounted.
        </p>
      ) : null}
      {data && reporting && total === 0 ? (
        <p className="state empty" data-testid="orphans-empty">
          Every call is accounted for: since {formatDateTime(reporting.since)}, each approval {agent} redeemed and each call it was allowed reported its outcome
          {grace > 0 ? ` within ${graceLabel}` : ''}, and none was reported twice.
        </p>
      ) : null}
      {data && reporting && total > 0 ? (
        <>
          <p data-testid="orphans-summary">
            {plural(total, 'call')} not accounted for{total >= LIMIT ? ' (at least; the first of each kind are listed)' : ''}, since {formatDateTime(reporting.since)}.
          </p>
          <table className="compact" data-testid="orphans-table">
            <thead>
              <tr>
                <th scope="col">Kind</th>
                <th scope="col">Tool</th>
                <th scope="col">When</th>
                <th scope="col">Record</th>
              </tr>
            </thead>
            <tbody>
              {data.redeemedUnreported.map((row) => (
                <tr key={`r-${row.approvalId}`} data-orphan="redeemed_unreported" data-approval={row.approvalId}>
                  <td>Approval redeemed, run never reported</td>
                  <td>{row.tool}</td>
                  <td className="small" title={formatDateTime(row.redeemedAt)}>
                    redeemed {formatRelative(row.redeemedAt)}
                  </td>
                  <td>
                    <Link to={`/approvals/${row.approvalId}`}>approval {row.approvalId}</Link>
                  </td>
                </tr>
              ))}
              {data.allowedUnreported.map((row) => (
                <DecisionRow key={`a-${row.decisionId}`} kind="allowed_unreported" label="Allowed, run never reported" agent={agent} row={row} />
              ))}
              {data.startedUnfinished.map((row) => (
                <DecisionRow key={`s-${row.decisionId}`} kind="started_unfinished" label="Started, never finished" agent={agent} row={row} />
              ))}
              {data.reportedTwice.map((row) => (
                <tr key={`t-${row.decisionId}`} data-orphan="reported_twice" data-decision={row.decisionId}>
                  <td>Reported {plural(row.duplicates + 1, 'time')}</td>
                  <td>{row.tool}</td>
                  <td className="small" title={formatDateTime(row.reportedAt)}>
                    {row.status} {formatRelative(row.reportedAt)}
                  </td>
                  <td>
                    {row.approvalId === null ? null : (
                      <>
                        <Link to={`/approvals/${row.approvalId}`}>approval {row.approvalId}</Link>{' '}
                      </>
                    )}
                    <Link to={auditLink(agent, row.seq)}>{row.seq === null ? 'decision' : `record #${row.seq}`}</Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      {data?.nextDueAt && reporting ? (
        <p className="muted small" data-testid="orphans-next">
          A call not listed yet passes the grace period at {formatWhen(data.nextDueAt)}, unless it reports first: this card looks again then.
        </p>
      ) : null}
    </div>
  );
}

/** A decision that ran without its outcome (allowed and never reported, or started and never finished). */
function DecisionRow({ kind, label, agent, row }: { kind: string; label: string; agent: string; row: { decisionId: string; tool: string; decidedAt: string; seq: number | null } }) {
  return (
    <tr data-orphan={kind} data-decision={row.decisionId}>
      <td>{label}</td>
      <td>{row.tool}</td>
      <td className="small" title={formatDateTime(row.decidedAt)}>
        decided {formatRelative(row.decidedAt)}
      </td>
      <td>
        <Link to={auditLink(agent, row.seq)}>{row.seq === null ? 'decision' : `record #${row.seq}`}</Link>
      </td>
    </tr>
  );
}
