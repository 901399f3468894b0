import { useEffect, useRef, useState } from 'react';
import { api, can, type ApiError } from '../api/client';
import type { Approval, ApprovalContext, Outcome } from '../api/types';
import { RouteFacts, RouteLine } from '../components/approval-route';
import { ArgFilterInput, argFilters, argsMatch } from '../components/arg-filter';
import { ArgsEditor, argsDraft, parseArgs } from '../components/args-editor';
import { ApprovalOutcome, EffectBadge, RiskBadge } from '../components/effect';
import { CallContextFacts } from '../components/call-context';
import { JsonBlock } from '../components/json-block';
import { Empty, ErrorNotice, Loading } from '../components/states';
import { formatDateTime, formatRelative, formatTime, summarizeArgs } from '../format';
import { useLiveEvents } from '../live';
import { Link } from '../router';
import { useSession } from '../session';
import { useAction } from '../use-action';
import { useNow } from '../use-now';
import { useResource } from '../use-resource';

type InboxTab = 'pending' | 'resolved';
type InboxSort = 'deadline' | 'newest' | 'oldest';
const SORT_LABEL: Record<InboxSort, string> = { deadline: 'deadline (soonest first)', newest: 'age (newest first)', oldest: 'age (oldest first)' };
const INBOX_PAGE = 100;

/** Whether a live approval belongs on the tab (its status), and where it sorts. */
function onTab(approval: Approval, tab: InboxTab): boolean {
  return tab === 'pending' ? approval.status === 'pending' : approval.status !== 'pending';
}

function sortKey(approval: Approval, sort: InboxSort): number {
  if (sort === 'deadline') return Date.parse(approval.deadlineAt ?? approval.expiresAt);
  return sort === 'oldest' ? Date.parse(approval.createdAt) : -Date.parse(approval.createdAt);
}

export function ApprovalsView({ selected }: { selected: string | undefined }) {
  const [tab, setTab] = useState<InboxTab>('pending');
  const [sort, setSort] = useState<InboxSort>('deadline');
  const [args, setArgs] = useState('');
  const [pages, setPages] = useState<{ next: string | null; more: Approval[]; busy: boolean; error?: Error }>({ next: null, more: [], busy: false });
  const effectiveSort: InboxSort = tab === 'resolved' && sort === 'deadline' ? 'newest' : sort;
  const query = { status: tab, sort: effectiveSort, limit: INBOX_PAGE, arg: argFilters(args) };
  const pending = useResource(async () => {
    const page = await api.get<{ approvals: Approval[]; nextCursor: string | null }>('/v1/approvals', query);
    setPages({ next: page.nextCursor, more: [], busy: false });
    return page.approvals;
  }, JSON.stringify(query));
  const now = useNow(10_000);

  useLiveEvents((event) => {
    if (event.type !== 'approval') return;
    const approval = event.data;
    pending.setData((list) => {
      const rest = (list ?? []).filter((a) => a.id !== approval.id);
      if (!onTab(approval, tab) || !argsMatch(approval.args, argFilters(args))) return rest;
      return [approval, ...rest].sort((a, b) => sortKey(a, effectiveSort) - sortKey(b, effectiveSort));
    });
  });

  const loadMore = async (): Promise<void> => {
    if (!pages.next) return;
    setPages((p) => ({ ...p, busy: true }));
    try {
      const page = await api.get<{ approvals: Approval[]; nextCursor: string | null }>('/v1/approvals', { ...query, cursor: pages.next });
      setPages((p) => ({ next: page.nextCursor, more: [...p.more, ...page.approvals], busy: false }));
    } catch (error) {
      setPages((p) => ({ ...p, busy: false, error: error as Error }));
    }
  };

  const all = [...(pending.data ?? []), ...pages.more];
  const list = tab === 'pending' ? all.filter((a) => Date.parse(a.expiresAt) > now) : all;
  return (
    <section aria-labelledby="approvals-title">
      <div className="page-head">
        <h1 id="approvals-title">
          Approvals inbox{' '}
          {tab === 'pending' ? (
            <span className="count-pill" data-testid="pending-count">
              {list.length} pending
            </span>
          ) : null}
        </h1>
      </div>
      <div className="tabs" role="tablist" aria-label="Approvals">
        {(['pending', 'resolved'] as const).map((name) => (
          <button key={name} type="button" role="tab" aria-selected={tab === name} className={tab === name ? 'tab selected' : 'tab'} onClick={() => setTab(name)}>
            {name === 'pending' ? 'Pending' : 'Resolved'}
          </button>
        ))}
      </div>
      <form className="filters" role="search" aria-label="Filter approvals" onSubmit={(e) => e.preventDefault()}>
        <label>
          Sort by
          <select value={effectiveSort} onChange={(e) => setSort(e.target.value as InboxSort)}>
            {(tab === 'pending' ? (['deadline', 'newest', 'oldest'] as const) : (['newest', 'oldest'] as const)).map((value) => (
              <option key={value} value={value}>
                {SORT_LABEL[value]}
              </option>
            ))}
          </select>
        </label>
        <ArgFilterInput value={args} onApply={setArgs} />
      </form>
      <div className="inbox">
        <div className="inbox-list card" aria-label={tab === 'pending' ? 'Pending approvals' : 'Resolved approvals'}>
          {pending.error ? <ErrorNotice error={pending.error} action={<button onClick={pending.reload}>Try again</button>} /> : null}
          {pending.loading ? <Loading what={tab === 'pending' ? 'Loading pending approvals' : 'Loading resolved approvals'} /> : null}
          {!pending.loading && list.length === 0 && !pending.error ? (
            <Empty>{args ? 'No approval matches this search.' : tab === 'pending' ? 'Nothing waits for a decision. New requests appear here as they arrive.' : 'No approval has been resolved yet.'}</Empty>
          ) : null}
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
                    {approval.agent} · {approval.rule ?? 'no rule'} ·{' '}
                    {approval.status === 'pending' ? (
                      <>
                        {approval.deadlineAt ? `escalates ${formatRelative(approval.deadlineAt, now)} · ` : ''}expires {formatRelative(approval.expiresAt, now)}
                      </>
                    ) : (
                      <span className={`outcome outcome-${approval.status}`} data-status={approval.status}>
                        {approval.status}
                        {approval.resolvedBy ? ` by ${approval.resolvedBy}` : ''}
                      </span>
                    )}
                  </span>
                  <RouteLine approval={approval} />
                </Link>
              </li>
            ))}
          </ul>
          {pages.error ? <ErrorNotice error={pages.error} /> : null}
          {pages.next ? (
            <button type="button" onClick={() => void loadMore()} disabled={pages.busy}>
              {pages.busy ? 'Loading…' : 'More'}
            </button>
          ) : null}
        </div>
        <div className="inbox-detail">
          {selected ? <ApprovalDetail key={selected} id={selected} next={list.find((a) => a.id !== selected && a.status === 'pending')?.id} /> : <Empty>Select a request to see the full call, its rule, the agent's history and budgets.</Empty>}
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
  const { approval, decision, budgets, history, historyCut } = context.data;
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
        <CallContextFacts intent={approval.intent} sessionAttributes={approval.sessionAttributes} />
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
              <RiskBadge risk={decision.risk} />
            </dd>
          </>
        ) : null}
      </dl>
      <h3>Approval route</h3>
      <RouteFacts approval={approval} now={now} />
      <h3>The call</h3>
      {approval.edited ? (
        <div className="edited-args" data-testid="edited-args">
          <p className="notice info">An approver changed the arguments: the agent asked for the first call and will run the second.</p>
          <div className="two-blocks">
            <div>
              <h4>Requested</h4>
              <JsonBlock value={approval.requestedArgs} label="Requested arguments" />
            </div>
            <div>
              <h4>Approved</h4>
              <JsonBlock value={approval.args} label="Approved arguments" />
            </div>
          </div>
        </div>
      ) : null}
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
              <th scope="col">Risk</th>
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
                  {entry.approval && entry.id !== approval.decisionId ? (
                    <div>
                      <ApprovalOutcome id={entry.approval.id} status={entry.approval.status} />
                    </div>
                  ) : null}
                </td>
                <td className="mono">{entry.rule ?? '—'}</td>
                <td>
                  <RiskBadge risk={entry.risk} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {historyCut ? (
        <p className="muted" data-testid="history-cut">
          Older decisions are left out: these hold large arguments.{' '}
          <Link to={`/audit?agent=${encodeURIComponent(approval.agent)}&type=decision`}>All of {approval.agent}'s decisions</Link>
        </p>
      ) : null}
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
      {approval.resolvedByKind === 'bot' ? ' (bot)' : ''}
      {approval.resolvedAt ? ` at ${formatTime(approval.resolvedAt)}` : ''}: “{approval.resolutionReason}”{approval.status === 'redeemed' ? ' — the agent has run the call.' : ''}
      {approval.status === 'redeemed' ? <Execution approval={approval} /> : null}
    </p>
  );
}

/** What ran on the approval, as its agent reported it: "approved 14:02, ran 14:03, succeeded in 210 ms". */
function Execution({ approval }: { approval: Approval }) {
  // null while nothing was reported: a 200, so the console logs no failed request for it.
  const outcome = useResource(() => api.get<{ outcome: Outcome | null }>(`/v1/approvals/${encodeURIComponent(approval.id)}/outcome`), `outcome:${approval.id}`);
  const approved = approval.resolvedAt ? `approved ${formatTime(approval.resolvedAt)}` : 'approved';
  if (outcome.loading && !outcome.data) return null;
  const found = outcome.data?.outcome;
  if (!found) return <span className="execution" data-testid="execution"><br />{approved}; no outcome reported.</span>;
  const ran = found.startedAt ?? found.finishedAt;
  const took = found.durationMs === null ? '' : ` in ${Math.round(found.durationMs)} ms`;
  const result = found.status === 'failed' ? `failed${took}${found.error ? `: ${found.error.class ?? 'Error'}: ${found.error.message ?? ''}` : ''}` : found.status === 'started' ? 'still running' : `succeeded${took}`;
  return (
    <span className="execution" data-testid="execution">
      <br />
      {approved}, ran {ran ? formatTime(ran) : '?'}, {result}
    </span>
  );
}

/** The server's refusal of an approve, in plain words; the request stays as it was. */
function Refusal({ error }: { error: ApiError }) {
  const rule = typeof error.details.rule === 'string' ? error.details.rule : null;
  const plain: Record<string, string> = {
    edit_blocked: `The policy would block the edited call${rule ? ` (rule ${rule})` : ''}, so it was not approved. The request is still pending as it was.`,
    not_entitled: 'You are not in the approver groups of this tier (or of the tier the edited call needs), so your approval was not recorded.',
    already_approved: 'You have already approved this call; it needs approvals from other people too.',
    call_changed: 'Another approver edited this call after you opened it, so your approval was not recorded. Review the call as it is now.',
  };
  const text = plain[error.code];
  if (!text) return <ErrorNotice error={error} />;
  return (
    <div className="notice error" role="alert" data-testid="refusal" data-code={error.code}>
      <strong>{text}</strong>
      <div className="small">
        {error.message} <code className="muted">{error.code}</code>
      </div>
    </div>
  );
}

/**
 * How a person resolves a request: approve, deny, or edit the arguments and approve those. Each
 * action posts the reason (and the edited arguments) to its endpoint.
 */
function ApprovalActions({ approval, onResolved }: { approval: Approval; onResolved(approval: Approval): void }) {
  const [reason, setReason] = useState('');
  const { busy, running, error, run } = useAction<'approve' | 'deny' | 'edit'>();
  const [tried, setTried] = useState(false);
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<Record<string, string>>(() => argsDraft(approval.args));
  const [argErrors, setArgErrors] = useState<Record<string, string>>({});
  const editorRef = useRef<HTMLDivElement>(null);
  const missing = reason.trim() === '';

  useEffect(() => {
    if (editing) editorRef.current?.querySelector<HTMLElement>('input, select')?.focus();
  }, [editing]);

  const act = async (action: 'approve' | 'deny' | 'edit'): Promise<void> => {
    setTried(true);
    // The call as shown: refused (call_changed) if another approver's edit replaced it since.
    let body: { reason: string; args?: Record<string, unknown>; callHash?: string } = { reason: reason.trim(), ...(action === 'deny' ? {} : { callHash: approval.callHash }) };
    if (action === 'edit') {
      const parsed = parseArgs(approval.args, draft);
      setArgErrors(parsed.ok ? {} : parsed.errors);
      if (!parsed.ok) return;
      body = { ...body, args: parsed.args };
    }
    if (missing) return;
    await run(async () => {
      const path = `/v1/approvals/${encodeURIComponent(approval.id)}/${action === 'deny' ? 'deny' : 'approve'}`;
      onResolved(await api.post<Approval>(path, body));
      setEditing(false);
    }, action);
  };

  const cancelEdit = (): void => {
    setEditing(false);
    setDraft(argsDraft(approval.args));
    setArgErrors({});
  };

  return (
    <form className="actions" aria-label="Resolve this request" onSubmit={(e) => e.preventDefault()}>
      {editing ? (
        <div ref={editorRef}>
          <ArgsEditor original={approval.args} draft={draft} errors={argErrors} onChange={(key, text) => setDraft((current) => ({ ...current, [key]: text }))} />
          <p className="muted small">The server checks the edited call against the active policy before it approves it; the agent then runs these arguments.</p>
        </div>
      ) : null}
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
      {error ? <Refusal error={error} /> : null}
      <div className="button-row">
        {editing ? (
          <>
            <button type="button" className="primary" disabled={busy} onClick={() => void act('edit')}>
              {running === 'edit' ? 'Approve with changes…' : 'Approve with changes'}
            </button>
            <button type="button" disabled={busy} onClick={cancelEdit}>
              Cancel edit
            </button>
          </>
        ) : (
          <>
            <button type="button" className="primary" disabled={busy} onClick={() => void act('approve')}>
              {running === 'approve' ? 'Approve…' : 'Approve'}
            </button>
            <button type="button" disabled={busy} onClick={() => setEditing(true)}>
              Edit and approve
            </button>
            <button type="button" className="danger" disabled={busy} onClick={() => void act('deny')}>
              {running === 'deny' ? 'Deny…' : 'Deny'}
            </button>
          </>
        )}
      </div>
    </form>
  );
}
