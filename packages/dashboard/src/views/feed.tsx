import { Fragment, useMemo, useState } from 'react';
import { api } from '../api/client';
import { EFFECTS, type AuditRecord, type Decision, type DecisionEvent, type Effect } from '../api/types';
import { Field } from '../components/field';
import { EffectBadge, RiskBadge } from '../components/effect';
import { JsonBlock } from '../components/json-block';
import { Empty, ErrorNotice, Loading } from '../components/states';
import { EFFECT_LABEL, formatTime, summarizeArgs } from '../format';
import { useLiveEvents } from '../live';
import { Link } from '../router';
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
    policyVersion: data.decision.policy.version,
    ...(data.approval ? { approvalId: data.approval } : {}),
  };
}

export function FeedView() {
  const recent = useResource(async () => (await api.get<{ records: AuditRecord[] }>('/v1/audit', { type: 'decision', limit: INITIAL })).records.map(fromAudit), 'feed');
  const [paused, setPaused] = useState(false);
  const [held, setHeld] = useState<DecisionEvent[]>([]);
  const [effect, setEffect] = useState<Effect | ''>('');
  const [agent, setAgent] = useState('');
  const [search, setSearch] = useState('');
  const [open, setOpen] = useState<string | undefined>(undefined);

  useLiveEvents((event) => {
    if (event.type !== 'decision') return;
    if (paused) setHeld((list) => [event.data, ...list].slice(0, KEEP));
    else recent.setData((list) => [event.data, ...(list ?? []).filter((d) => d.id !== event.data.id)].slice(0, KEEP));
  });

  const resume = (): void => {
    recent.setData((list) => [...held, ...(list ?? [])].slice(0, KEEP));
    setHeld([]);
    setPaused(false);
  };

  const rows = useMemo(() => recent.data ?? [], [recent.data]);
  const agents = useMemo(() => [...new Set(rows.map((row) => row.agent))].sort(), [rows]);
  const needle = search.trim().toLowerCase();
  const shown = rows.filter(
    (row) =>
      (effect === '' || row.effect === effect) &&
      (agent === '' || row.agent === agent) &&
      (needle === '' || [row.tool, row.rule ?? '', row.reason, JSON.stringify(row.args)].some((text) => text.toLowerCase().includes(needle))),
  );

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
            <select id={id} value={effect} onChange={(e) => setEffect(e.target.value as Effect | '')}>
              <option value="">all</option>
              {EFFECTS.map((value) => (
                <option key={value} value={value}>
                  {EFFECT_LABEL[value]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Agent">
          {(id) => (
            <select id={id} value={agent} onChange={(e) => setAgent(e.target.value)}>
              <option value="">all</option>
              {agents.map((value) => (
                <option key={value}>{value}</option>
              ))}
            </select>
          )}
        </Field>
        <label className="grow">
          Search
          <input type="search" placeholder="tool, rule, reason or argument" value={search} onChange={(e) => setSearch(e.target.value)} />
        </label>
        <span className="muted" aria-live="polite">
          {paused ? 'Paused — new decisions are held. ' : ''}
          {shown.length} of {rows.length} shown
        </span>
      </form>
      {recent.error ? <ErrorNotice error={recent.error} action={<button onClick={recent.reload}>Try again</button>} /> : null}
      {recent.loading ? <Loading what="Loading recent decisions" /> : null}
      {!recent.loading && rows.length === 0 && !recent.error ? <Empty>No decisions yet. They appear here the moment an agent asks.</Empty> : null}
      {rows.length > 0 && shown.length === 0 ? <Empty>No decision matches these filters.</Empty> : null}
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
                <th scope="col">Rule</th>
                <th scope="col">Reason</th>
                <th scope="col">Risk</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((row) => (
                <Fragment key={row.id}>
                  <tr className={`effect-row-${row.effect}`} data-decision={row.id}>
                    <td className="nowrap">
                      <button type="button" className="link-button" aria-expanded={open === row.id} onClick={() => setOpen(open === row.id ? undefined : row.id)} title="Show the whole call">
                        {formatTime(row.at)}
                      </button>
                    </td>
                    <td>
                      <Link to={`/fleet/${encodeURIComponent(row.agent)}`}>{row.agent}</Link>
                      <div className="muted small">
                        {row.role} · {row.environment}
                      </div>
                    </td>
                    <td className="mono">{row.tool}</td>
                    <td className="mono args">{summarizeArgs(row.args)}</td>
                    <td>
                      <EffectBadge effect={row.effect} />
                      {row.approvalId ? (
                        <div className="small">
                          <Link to={`/approvals/${row.approvalId}`}>approval</Link>
                        </div>
                      ) : null}
                    </td>
                    <td className="mono">{row.rule ?? <span className="muted">—</span>}</td>
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
