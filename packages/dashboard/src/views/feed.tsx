import { Fragment, useMemo, useState } from 'react';
import { api } from '../api/client';
import { EFFECTS, type ApprovalStatus, type AuditRecord, type Cause, type Decision, type DecisionEvent, type Effect } from '../api/types';
import { ArgFilterInput, argFilters, argsMatch } from '../components/arg-filter';
import { Field } from '../components/field';
import { ApprovalOutcome, CauseText, EffectBadge, RiskBadge } from '../components/effect';
import { JsonBlock } from '../components/json-block';
import { href, ScopeFilters, setSearch, useScope } from '../components/scope';
import { Empty, ErrorNotice, Loading } from '../components/states';
import { CAUSE_LABEL, EFFECT_LABEL, formatDateTime, formatTime, summarizeArgs } from '../format';
import { useLiveEvents } from '../live';
import { Link, useLocation } from '../router';
import { useResource } from '../use-resource';

/** Decisions kept on screen; older ones are in the audit explorer. */
const KEEP = 500;
const INITIAL = 100;

interface DecisionRecordData {
  id: string;
  request: { tool: string; args: Record<string, unknown> };
  identity: { agent: string; role: string; environment: string };
  decision: Decision;
  approval?: string;
}

/** The feed's row for a recorded decision, so the page starts with recent history. */
function fromAudit(record: AuditRecord): DecisionEvent {
  const data = record.data as unknown as DecisionRecordData;
  return {
    id: data.id,
    seq: record.seq,
    at: record.at,
    agent: data.identity.agent,
    role: data.identity.role,
    environment: data.identity.environment,
    tool: data.request.tool,
    args: data.request.args,
    effect: data.decision.effect,
    rule: data.decision.rule,
    reason: data.decision.reason,
    risk: data.decision.risk,
    ...(record.cause ? { cause: record.cause } : {}),
    policyVersion: data.decision.policy.version,
    ...(data.approval ? { approvalId: data.approval } : {}),
    ...(record.approval ? { approvalStatus: record.approval.status } : {}),
  };
}

/** What the feed shows, from its URL: the filters of a chart click or a link from another view. */
interface FeedFilter {
  effect?: Effect;
  cause?: Cause;
  rule?: string;
  agent?: string;
  role?: string;
  tool?: string;
  environment?: string;
  from?: string;
  to?: string;
  /** Argument search as typed (filters separated by spaces). */
  args?: string;
}

function filterFromSearch(search: URLSearchParams): FeedFilter {
  const filter: FeedFilter = {};
  const effect = search.get('effect');
  if (effect && (EFFECTS as readonly string[]).includes(effect)) filter.effect = effect as Effect;
  const cause = search.get('cause');
  if (cause && cause in CAUSE_LABEL) filter.cause = cause as Cause;
  for (const key of ['rule', 'agent', 'role', 'tool', 'environment', 'args'] as const) {
    const value = search.get(key);
    if (value) filter[key] = value;
  }
  for (const key of ['from', 'to'] as const) {
    const value = search.get(key);
    if (value && Number.isFinite(Date.parse(value))) filter[key] = new Date(value).toISOString();
  }
  return filter;
}

function matches(row: DecisionEvent, filter: FeedFilter): boolean {
  const at = Date.parse(row.at);
  return (
    (filter.effect === undefined || row.effect === filter.effect) &&
    (filter.cause === undefined || row.cause === filter.cause) &&
    (filter.rule === undefined || row.rule === filter.rule) &&
    (filter.agent === undefined || row.agent === filter.agent) &&
    (filter.role === undefined || row.role === filter.role) &&
    (filter.tool === undefined || row.tool === filter.tool) &&
    (filter.environment === undefined || row.environment === filter.environment) &&
    (filter.from === undefined || at >= Date.parse(filter.from)) &&
    (filter.to === undefined || at < Date.parse(filter.to)) &&
    argsMatch(row.args, argFilters(filter.args))
  );
}

export function FeedView() {
  const { search: params } = useLocation();
  const query = params.toString();
  // eslint-disable-next-line react-hooks/exhaustive-deps -- the query string is the identity
  const filter = useMemo(() => filterFromSearch(params), [query]);
  const [scope, setScope] = useScope();
  const key = JSON.stringify(filter);
  const recent = useResource(
    async () => {
      const { args, ...rest } = filter;
      return (await api.get<{ records: AuditRecord[] }>('/v1/audit', { type: 'decision', limit: INITIAL, ...rest, arg: argFilters(args) })).records.map(fromAudit);
    },
    `feed-${key}`,
  );
  const [paused, setPaused] = useState(false);
  const [held, setHeld] = useState<DecisionEvent[]>([]);
  const [search, setSearchText] = useState('');
  const [open, setOpen] = useState<string | undefined>(undefined);

  useLiveEvents((event) => {
    if (event.type === 'approval') {
      // An approval moved on: its decision's row says so.
      const status: ApprovalStatus = event.data.status;
      const update = (list: DecisionEvent[]) => list.map((row) => (row.approvalId === event.data.id ? { ...row, approvalStatus: status } : row));
      recent.setData((list) => (list ? update(list) : list));
      setHeld(update);
      return;
    }
    if (event.type !== 'decision' || !matches(event.data, filter)) return;
    const row = event.data.approvalId && !event.data.approvalStatus ? { ...event.data, approvalStatus: 'pending' as const } : event.data;
    if (paused) setHeld((list) => [row, ...list].slice(0, KEEP));
    else recent.setData((list) => [row, ...(list ?? []).filter((d) => d.id !== row.id)].slice(0, KEEP));
  });

  const resume = (): void => {
    recent.setData((list) => [...held, ...(list ?? [])].slice(0, KEEP));
    setHeld([]);
    setPaused(false);
  };

  const rows = useMemo(() => recent.data ?? [], [recent.data]);
  const needle = search.trim().toLowerCase();
  const shown = rows.filter((row) => needle === '' || [row.tool, row.rule ?? '', row.reason, JSON.stringify(row.args)].some((text) => text.toLowerCase().includes(needle)));
  const tools = useMemo(() => [...new Set(rows.map((row) => row.tool))], [rows]);
  const chips: [string, string][] = [];
  if (filter.rule) chips.push(['rule', `rule ${filter.rule}`]);
  if (filter.args) chips.push(['args', `arguments ${filter.args}`]);
  if (filter.cause) chips.push(['cause', `cause: ${CAUSE_LABEL[filter.cause]}`]);
  if (filter.from || filter.to) chips.push(['from,to', `${filter.from ? formatDateTime(filter.from) : '…'} – ${filter.to ? formatDateTime(filter.to) : 'now'}`]);

  return (
    <section aria-labelledby="feed-title">
      <div className="page-head">
        <h1 id="feed-title">Live feed</h1>
        <div className="toolbar" role="group" aria-label="Feed controls">
          {paused ? (
            <button type="button" className="primary" onClick={resume}>
              Resume{held.length ? ` (${held.length} new)` : ''}
            </button>
          ) : (
            <button type="button" onClick={() => setPaused(true)}>
              Pause
            </button>
          )}
        </div>
      </div>
      <form className="filters" role="search" aria-label="Filter the feed" onSubmit={(e) => e.preventDefault()}>
        <Field label="Effect">
          {(id) => (
            <select id={id} value={filter.effect ?? ''} onChange={(e) => setSearch({ effect: e.target.value || undefined })}>
              <option value="">all</option>
              {EFFECTS.map((value) => (
                <option key={value} value={value}>
                  {EFFECT_LABEL[value]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Cause">
          {(id) => (
            <select id={id} value={filter.cause ?? ''} onChange={(e) => setSearch({ cause: e.target.value || undefined })}>
              <option value="">all</option>
              {(Object.keys(CAUSE_LABEL) as Cause[]).map((value) => (
                <option key={value} value={value}>
                  {CAUSE_LABEL[value]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <ScopeFilters scope={scope} onChange={setScope} tools={tools} />
        <ArgFilterInput value={filter.args ?? ''} onApply={(text) => setSearch({ args: text || undefined })} />
        <label className="grow">
          Search shown
          <input type="search" placeholder="tool, rule, reason or argument" value={search} onChange={(e) => setSearchText(e.target.value)} />
        </label>
        <span className="muted" aria-live="polite">
          {paused ? 'Paused — new decisions are held. ' : ''}
          {shown.length} of {rows.length} shown
        </span>
      </form>
      {chips.length > 0 || query ? (
        <p className="filter-chips" data-testid="feed-filters">
          {chips.map(([keys, text]) => (
            <span key={keys} className="chip-filter">
              {text}{' '}
              <button type="button" className="link-button" aria-label={`Remove filter ${text}`} onClick={() => setSearch(Object.fromEntries(keys.split(',').map((k) => [k, undefined])))}>
                ×
              </button>
            </span>
          ))}
          <Link to="/feed">Clear all filters</Link>
          <Link to={href('/audit', { type: 'decision', ...filter })}>Open in the audit explorer</Link>
        </p>
      ) : null}
      {recent.error ? <ErrorNotice error={recent.error} action={<button onClick={recent.reload}>Try again</button>} /> : null}
      {recent.loading ? <Loading what="Loading recent decisions" /> : null}
      {!recent.loading && rows.length === 0 && !recent.error ? (
        <Empty>{query ? 'No decision matches these filters.' : 'No decisions yet. They appear here the moment an agent asks.'}</Empty>
      ) : null}
      {rows.length > 0 && shown.length === 0 ? <Empty>No decision matches this search.</Empty> : null}
      {shown.length > 0 ? (
        <div className="table-wrap">
          <table className="feed" data-testid="feed-table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Agent</th>
                <th scope="col">Tool</th>
                <th scope="col">Key arguments</th>
                <th scope="col">Effect</th>
                <th scope="col">Rule or cause</th>
                <th scope="col">Reason</th>
                <th scope="col">Risk</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((row) => (
                <Fragment key={row.id}>
                  <tr className={`effect-row-${row.effect}`} data-decision={row.id} data-effect={row.effect}>
                    <td className="nowrap">
                      <button type="button" className="link-button" aria-expanded={open === row.id} onClick={() => setOpen(open === row.id ? undefined : row.id)} title="Show the whole call">
                        {formatTime(row.at)}
                      </button>
                    </td>
                    <td>
                      <Link to={`/fleet/${encodeURIComponent(row.agent)}`} className="nowrap">
                        {row.agent}
                      </Link>
                      <div className="muted small">
                        {row.role} · {row.environment}
                      </div>
                    </td>
                    <td className="mono">{row.tool}</td>
                    <td className="mono args">{summarizeArgs(row.args)}</td>
                    <td>
                      <EffectBadge effect={row.effect} />
                      {row.approvalId ? (
                        <div>
                          <ApprovalOutcome id={row.approvalId} status={row.approvalStatus} />
                        </div>
                      ) : null}
                    </td>
                    <td>
                      {row.rule ? <span className="mono">{row.rule}</span> : null}
                      {row.rule && row.cause === 'limit' ? <span className="cause"> (limit)</span> : null}
                      {!row.rule ? <CauseText cause={row.cause} /> : null}
                    </td>
                    <td className="reason">{row.reason}</td>
                    <td>
                      <RiskBadge risk={row.risk} />
                    </td>
                  </tr>
                  {open === row.id ? (
                    <tr className="detail-row">
                      <td colSpan={8}>
                        <div className="split">
                          <div>
                            <h3>Arguments</h3>
                            <JsonBlock value={row.args} label="Arguments" />
                          </div>
                          <div>
                            <dl className="facts">
                              <dt>Decision</dt>
                              <dd className="mono">{row.id}</dd>
                              <dt>Audit record</dt>
                              <dd>
                                <Link to={`/audit?agent=${encodeURIComponent(row.agent)}&seq=${row.seq}`}>#{row.seq}</Link>
                              </dd>
                              <dt>Policy version</dt>
                              <dd>{String(row.policyVersion)}</dd>
                            </dl>
                          </div>
                        </div>
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
