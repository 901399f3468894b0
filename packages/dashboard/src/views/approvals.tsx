import { useState } from 'react';
import { api, ApiError, can } from '../api/client';
import type { Approval, ApprovalContext } from '../api/types';
import { EffectBadge } from '../components/effect';
import { JsonBlock } from '../components/json-block';
import { Empty, ErrorNotice, Loading } from '../components/states';
import { formatDateTime, formatRelative, formatTime, summarizeArgs } from '../format';
import { useLiveEvents } from '../live';
import { Link } from '../router';
import { useSession } from '../session';
import { useNow } from '../use-now';
import { useResource } from '../use-resource';

export function ApprovalsView({ selected }: { selected: string | undefined }) {
  const pending = useResource(async () => (await api.get<{ approvals: Approval[] }>('/v1/approvals', { status: 'pending', limit: 200 })).approvals, 'pending');
  const now = useNow(10_000);

  useLiveEvents((event) => {
    if (event.type !== 'approval') return;
    const approval = event.data;
    pending.setData((list) => {
      const rest = (list ?? []).filter((a) => a.id !== approval.id);
      return approval.status === 'pending' ? [approval, ...rest] : rest;
    });
  });

  const list = (pending.data ?? []).filter((a) => Date.parse(a.expiresAt) > now);
  return (
    <section aria-labelledby="approvals-title">
      <div className="page-head">
        <h1 id="approvals-title">
          Approvals inbox <span className="count-pill" data-testid="pending-count">{list.length} pending</span>
        </h1>
      </div>
      <div className="inbox">
        <div className="inbox-list card" aria-label="Pending approvals">
          {pending.error ? <ErrorNotice error={pending.error} action={<button onClick={pending.reload}>Try again</button>} /> : null}
          {pending.loading ? <Loading what="Loading pending approvals" /> : null}
          {!pending.loading && list.length === 0 && !pending.error ? <Empty>Nothing waits for a decision. New requests appear here as they arrive.</Empty> : null}
          <ul className="approval-list">
            {list.map((approval) => (
              <li key={approval.id}>
                <Link to={`/approvals/${approval.id}`} className={approval.id === selected ? 'approval-item selected' : 'approval-item'} aria-current={approval.id === selected ? 'true' : undefined} data-approval={approval.id}>
                  <span className="approval-line">
                    <strong className="mono">{approval.tool}</strong>
                    <span className="muted small">{formatRelative(approval.createdAt, now)}</span>
                  </span>
                  <span className="mono small args">{summarizeArgs(approval.args)}</span>
                  <span className="small">
                    {approval.agent} · {approval.rule ?? 'no rule'} · expires {formatRelative(approval.expiresAt, now)}
                  </span>
                </Link>
              </li>
            ))}
          </ul>
        </div>
        <div className="inbox-detail">
          {selected ? <ApprovalDetail key={selected} id={selected} next={list.find((a) => a.id !== selected)?.id} /> : <Empty>Select a request to see the full call, its rule, the agent's history and budgets.</Empty>}
        </div>
      </div>
    </section>
  );
}

function ApprovalDetail({ id, next }: { id: string; next: string | undefined }) {
  const context = useResource(() => api.get<ApprovalContext>(`/v1/approvals/${encodeURIComponent(id)}/context`), id);
  const { user } = useSession();
  const now = useNow(1000);

  useLiveEvents((event) => {
    if (event.type === 'approval' && event.data.id === id) context.setData((current) => (current ? { ...current, approval: event.data } : current));
  });

  if (context.error) return <ErrorNotice error={context.error} action={<Link to="/approvals">Back to the inbox</Link>} />;
  if (!context.data) return <Loading what="Loading the request" />;
  const { approval, decision, budgets, history } = context.data;
  const expired = approval.status === 'pending' && Date.parse(approval.expiresAt) <= now;
  return (
    <article className="card approval-detail" aria-labelledby="approval-title" data-status={approval.status}>
      <header className="detail-head">
        <h2 id="approval-title">
          <span className="mono">{approval.tool}</span> by {approval.agent}
        </h2>
        <span className={`status status-${expired ? 'expired' : approval.status}`} data-testid="approval-status">
          {expired ? 'expired' : approval.status}
        </span>
      </header>
      {approval.status !== 'pending' || expired ? (
        <div className="resolution">
          <Resolution approval={approval} mine={approval.resolvedBy === user.username} expired={expired} />
          {next ? <Link to={`/approvals/${next}`}>Next pending request →</Link> : <Link to="/approvals">Back to the inbox</Link>}
        </div>
      ) : null}
      <dl className="facts two-col">
        <dt>Agent</dt>
        <dd>
          <Link to={`/fleet/${encodeURIComponent(approval.agent)}`}>{approval.agent}</Link> ({approval.role}, {approval.environment})
        </dd>
        <dt>Rule</dt>
        <dd className="mono">{approval.rule ?? '—'}</dd>
        <dt>Reason</dt>
        <dd>{approval.reason}</dd>
        <dt>Approvers</dt>
        <dd>{approval.approvers.length ? approval.approvers.join(', ') : '—'}</dd>
        <dt>Requested</dt>
        <dd>{formatDateTime(approval.createdAt)}</dd>
        <dt>Expires</dt>
        <dd>
          {formatDateTime(approval.expiresAt)} ({formatRelative(approval.expiresAt, now)})
        </dd>
        <dt>Policy version</dt>
        <dd>{approval.policyVersion}</dd>
        {decision ? (
          <>
            <dt>Risk</dt>
            <dd>
              {decision.risk.level} ({decision.risk.score})
            </dd>
          </>
        ) : null}
      </dl>
      <h3>The call</h3>
      <JsonBlock value={{ tool: approval.tool, args: approval.args, ...(approval.session ? { session: approval.session } : {}) }} label="The call" />
      <p className="muted small">
        Bound to call hash <code>{approval.callHash.slice(0, 16)}…</code>: the agent can only run exactly these arguments, once.
      </p>
      {approval.status === 'pending' && !expired ? (
        can.approve(user.role) ? (
          <ApprovalActions approval={approval} onResolved={(resolved) => context.setData((current) => (current ? { ...current, approval: resolved } : current))} />
        ) : (
          <p className="notice info" data-testid="cannot-approve">
            You are signed in as a <strong>{user.role}</strong>: you can read approvals, but only approvers and admins can approve or deny them.
          </p>
        )
      ) : null}
      <h3>Budgets and limits at the time of the request</h3>
      {budgets.length === 0 ? (
        <p className="muted">No limit applies to this call.</p>
      ) : (
        <table className="compact" data-testid="budgets">
          <thead>
            <tr>
              <th scope="col">Limit</th>
              <th scope="col">Kind</th>
              <th scope="col" className="num">Used before</th>
              <th scope="col" className="num">This call</th>
              <th scope="col" className="num">Max</th>
              <th scope="col" className="num">Left after</th>
              <th scope="col">Window</th>
            </tr>
          </thead>
          <tbody>
            {budgets.map((budget) => (
              <tr key={budget.key} className={budget.exceeded ? 'exceeded' : undefined}>
                <td className="mono">{budget.limit}</td>
                <td>{budget.kind.replace('_', ' ')}</td>
                <td className="num">{budget.used}</td>
                <td className="num">{budget.adding}</td>
                <td className="num">{budget.max}</td>
                <td className="num">{budget.remaining}</td>
                <td>{budget.window}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>{approval.agent}'s recent decisions</h3>
      {history.length === 0 ? (
        <p className="muted">No decisions recorded.</p>
      ) : (
        <table className="compact" data-testid="history">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Tool</th>
              <th scope="col">Arguments</th>
              <th scope="col">Effect</th>
              <th scope="col">Rule</th>
            </tr>
          </thead>
          <tbody>
            {history.map((entry) => (
              <tr key={entry.seq} className={entry.id === approval.decisionId ? 'current' : undefined}>
                <td className="nowrap">{formatTime(entry.at)}</td>
                <td className="mono">{entry.tool}</td>
                <td className="mono args">{summarizeArgs(entry.args)}</td>
                <td>
                  <EffectBadge effect={entry.effect} />
                </td>
                <td className="mono">{entry.rule ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </article>
  );
}

function Resolution({ approval, mine, expired }: { approval: Approval; mine: boolean; expired: boolean }) {
  if (approval.status === 'expired' || expired) return <p className="notice warn">This request expired before anyone decided.</p>;
  const by = mine ? 'you' : approval.resolvedBy;
  const verb = approval.status === 'denied' ? 'Denied' : 'Approved';
  return (
    <p className={`notice ${approval.status === 'denied' ? 'warn' : 'ok'}`} role="status" data-testid="resolution">
      {verb} by <strong>{by}</strong>
      {approval.resolvedAt ? ` at ${formatTime(approval.resolvedAt)}` : ''}: “{approval.resolutionReason}”{approval.status === 'redeemed' ? ' — the agent has run the call.' : ''}
    </p>
  );
}

/**
 * How a person resolves a request. Each action posts the reason to its endpoint; an action that
 * changes the call before approving it (edit-and-approve, with the routing work) is one more entry
 * here with its own fields.
 */
const ACTIONS = [
  { id: 'approve', label: 'Approve', className: 'primary' },
  { id: 'deny', label: 'Deny', className: 'danger' },
] as const;

function ApprovalActions({ approval, onResolved }: { approval: Approval; onResolved(approval: Approval): void }) {
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [tried, setTried] = useState(false);
  const missing = reason.trim() === '';

  const act = async (action: (typeof ACTIONS)[number]['id']): Promise<void> => {
    setTried(true);
    if (missing) return;
    setBusy(action);
    setError(undefined);
    try {
      onResolved(await api.post<Approval>(`/v1/approvals/${encodeURIComponent(approval.id)}/${action}`, { reason: reason.trim() }));
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'client_error', String(caught)));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <form className="actions" aria-label="Resolve this request" onSubmit={(e) => e.preventDefault()}>
      <label htmlFor="resolution-reason">Reason (recorded in the audit trail)</label>
      <textarea
        id="resolution-reason"
        rows={2}
        value={reason}
        onChange={(e) => setReason(e.target.value)}
        aria-invalid={tried && missing}
        aria-describedby={tried && missing ? 'reason-missing' : undefined}
        placeholder="e.g. verified with the customer's order history"
      />
      {tried && missing ? (
        <p id="reason-missing" className="field-error">
          Give a reason before approving or denying.
        </p>
      ) : null}
      {error ? <ErrorNotice error={error} /> : null}
      <div className="button-row">
        {ACTIONS.map((action) => (
          <button key={action.id} type="button" className={action.className} disabled={busy !== undefined} onClick={() => void act(action.id)}>
            {busy === action.id ? `${action.label}…` : action.label}
          </button>
        ))}
      </div>
    </form>
  );
}
