import { Fragment, useState, type FormEvent } from 'react';
import { api, withQuery, type Query } from '../api/client';
import { ArgFilterInput, argFilters } from '../components/arg-filter';
import { EFFECTS, type AuditRecord, type VerifyResult } from '../api/types';
import { Field } from '../components/field';
import { ApprovalOutcome, CauseText, EffectBadge, RiskBadge } from '../components/effect';
import { CallContextFacts } from '../components/call-context';
import { JsonBlock } from '../components/json-block';
import { Empty, ErrorNotice, Loading } from '../components/states';
import { localInput } from '../components/time-range';
import { CAUSE_LABEL, EFFECT_LABEL, formatDateTime, formatWhen, plural } from '../format';
import { useLocation } from '../router';
import { useResource } from '../use-resource';

const PAGE = 50;

/** One page of GET /v1/audit. */
interface AuditPage {
  records: AuditRecord[];
  nextCursor: string | null;
  searchedTo?: number;
}
/** Shown until the server's list arrives (GET /v1/audit/types names every type it writes). */
const COMMON_TYPES = ['decision'];

interface Filters {
  type: string;
  agent: string;
  tool: string;
  effect: string;
  rule: string;
  cause: string;
  role: string;
  environment: string;
  from: string;
  to: string;
  /** Argument search as typed (filters separated by spaces). */
  args: string;
}

const NO_FILTERS: Filters = { type: '', agent: '', tool: '', effect: '', rule: '', cause: '', role: '', environment: '', from: '', to: '', args: '' };

function toQuery(filters: Filters): Query {
  return {
    arg: argFilters(filters.args),
    type: filters.type || undefined,
    agent: filters.agent.trim() || undefined,
    tool: filters.tool.trim() || undefined,
    effect: filters.effect || undefined,
    rule: filters.rule.trim() || undefined,
    cause: filters.cause || undefined,
    role: filters.role.trim() || undefined,
    environment: filters.environment.trim() || undefined,
    from: filters.from ? new Date(filters.from).toISOString() : undefined,
    to: filters.to ? new Date(filters.to).toISOString() : undefined,
  };
}

export function AuditView() {
  const { search } = useLocation();
  const initial: Filters = {
    ...NO_FILTERS,
    ...Object.fromEntries(
      Object.keys(NO_FILTERS).flatMap((key) => {
        const value = search.get(key);
        if (!value) return [];
        // Links carry ISO times; the inputs take local ones.
        if ((key === 'from' || key === 'to') && Number.isFinite(Date.parse(value))) return [[key, localInput(Date.parse(value))]];
        return [[key, value]];
      }),
    ),
  };
  const [draft, setDraft] = useState<Filters>(initial);
  const [filters, setFilters] = useState<Filters>(initial);
  const focusSeq = search.get('seq');
  // `searchedTo`: the last page stopped its search there without filling up (the server examines a
  // bounded number of records a page when no single index serves the filters): older records
  // may still match, and "Search older records" continues below it.
  const [pages, setPages] = useState<{ records: AuditRecord[]; next: string | null; searchedTo?: number | undefined }>({ records: [], next: null });
  const [open, setOpen] = useState<number | undefined>(focusSeq ? Number(focusSeq) : undefined);
  const key = JSON.stringify(filters);
  const first = useResource(async () => {
    const page = await api.get<AuditPage>('/v1/audit', { ...toQuery(filters), limit: PAGE });
    setPages({ records: page.records, next: page.nextCursor, searchedTo: page.searchedTo });
    return page;
  }, key);
  const focused = useResource(
    async () => (focusSeq ? (await api.get<{ records: AuditRecord[] }>('/v1/audit', { cursor: Number(focusSeq) + 1, limit: 1 })).records[0] : undefined),
    `focus-${focusSeq ?? ''}`,
  );
  const [more, setMore] = useState<{ busy: boolean; error?: Error }>({ busy: false });
  const types = useResource(async () => (await api.get<{ types: string[] }>('/v1/audit/types')).types, 'audit-types');

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    setFilters(draft);
  };
  const clear = (): void => {
    setDraft(NO_FILTERS);
    setFilters(NO_FILTERS);
  };
  const loadMore = async (): Promise<void> => {
    if (!pages.next) return;
    setMore({ busy: true });
    try {
      const page = await api.get<AuditPage>('/v1/audit', { ...toQuery(filters), limit: PAGE, cursor: pages.next });
      setPages((current) => ({ records: [...current.records, ...page.records], next: page.nextCursor, searchedTo: page.searchedTo }));
      setMore({ busy: false });
    } catch (error) {
      setMore({ busy: false, error: error as Error });
    }
  };
  const field = (name: keyof Filters) => ({ value: draft[name], onChange: (e: { target: { value: string } }) => setDraft({ ...draft, [name]: e.target.value }) });
  const exportQuery = toQuery(filters);

  return (
    <section aria-labelledby="audit-title">
      <div className="page-head">
        <h1 id="audit-title">Audit explorer</h1>
        <ChainStatus />
      </div>
      <form className="filters" role="search" aria-label="Filter audit records" onSubmit={submit}>
        <Field label="Type">
          {(id) => (
            <select id={id} {...field('type')}>
              <option value="">all</option>
              {(types.data ?? COMMON_TYPES).map((type) => (
                <option key={type}>{type}</option>
              ))}
            </select>
          )}
        </Field>
        <label>
          Agent
          <input {...field('agent')} placeholder="support-bot-1" size={14} />
        </label>
        <label>
          Tool
          <input {...field('tool')} placeholder="issue_refund" size={14} />
        </label>
        <Field label="Effect">
          {(id) => (
            <select id={id} {...field('effect')}>
              <option value="">all</option>
              {EFFECTS.map((effect) => (
                <option key={effect} value={effect}>
                  {EFFECT_LABEL[effect]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <label>
          Rule
          <input {...field('rule')} placeholder="refund-medium" size={14} />
        </label>
        <Field label="Cause">
          {(id) => (
            <select id={id} {...field('cause')}>
              <option value="">all</option>
              {Object.entries(CAUSE_LABEL).map(([cause, label]) => (
                <option key={cause} value={cause}>
                  {label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <label>
          Role
          <input {...field('role')} placeholder="support" size={10} />
        </label>
        <label>
          Environment
          <input {...field('environment')} placeholder="production" size={10} />
        </label>
        <ArgFilterInput
          value={draft.args}
          onApply={(text) => {
            // Enter in the box searches at once, with the other filters as typed.
            const next = { ...draft, args: text };
            setDraft(next);
            setFilters(next);
          }}
        />
        <label>
          From
          <input type="datetime-local" {...field('from')} />
        </label>
        <label>
          To
          <input type="datetime-local" {...field('to')} />
        </label>
        <div className="button-row">
          <button type="submit" className="primary">
            Search
          </button>
          <button type="button" onClick={clear}>
            Clear
          </button>
        </div>
      </form>
      <p className="export">
        Export the matching records (oldest first):{' '}
        <a href={withQuery('/v1/audit/export', { ...exportQuery, format: 'jsonl' })} download>
          JSON lines
        </a>{' '}
        ·{' '}
        <a href={withQuery('/v1/audit/export', { ...exportQuery, format: 'csv' })} download>
          CSV
        </a>
      </p>
      {focusSeq && focused.data ? (
        <div className="card">
          <h2>Record #{focused.data.seq}</h2>
          <RecordDetail record={focused.data} />
        </div>
      ) : null}
      {first.error ? <ErrorNotice error={first.error} action={<button onClick={first.reload}>Try again</button>} /> : null}
      {first.loading ? <Loading what="Searching the audit trail" /> : null}
      {!first.loading && !first.error ? (
        <>
          <AuditTable
            records={pages.records}
            open={open}
            onToggle={(seq) => setOpen(open === seq ? undefined : seq)}
            empty={pages.searchedTo === undefined ? 'No record matches these filters.' : 'No record matches these filters in the newest records searched.'}
          />
          {more.error ? <ErrorNotice error={more.error} /> : null}
          <p className="muted small" data-testid="audit-paging">
            {plural(pages.records.length, 'record')} shown.{' '}
            {pages.searchedTo !== undefined ? <>Searched back to record #{pages.searchedTo}; older records may match. </> : null}
            {pages.next ? (
              <button type="button" onClick={() => void loadMore()} disabled={more.busy}>
                {more.busy ? 'Loading…' : pages.searchedTo !== undefined ? 'Search older records' : 'Older records'}
              </button>
            ) : null}
          </p>
        </>
      ) : null}
    </section>
  );
}

/** Audit records, newest first; a row opens to the full record. */
export function AuditTable({ records, empty, open, onToggle }: { records: AuditRecord[]; empty: string; open?: number | undefined; onToggle?: (seq: number) => void }) {
  const [localOpen, setLocalOpen] = useState<number | undefined>(undefined);
  const opened = onToggle ? open : localOpen;
  const toggle = onToggle ?? ((seq: number) => setLocalOpen(localOpen === seq ? undefined : seq));
  if (records.length === 0) return <Empty>{empty}</Empty>;
  return (
    <div className="table-wrap">
      <table className="audit" data-testid="audit-table">
        <thead>
          <tr>
            <th scope="col" className="num">#</th>
            <th scope="col">Time</th>
            <th scope="col">Type</th>
            <th scope="col">Actor</th>
            <th scope="col">Agent</th>
            <th scope="col">Tool</th>
            <th scope="col">Effect</th>
            <th scope="col">Rule or cause</th>
            <th scope="col">Risk</th>
          </tr>
        </thead>
        <tbody>
          {records.map((record) => (
            <Fragment key={record.seq}>
              <tr data-seq={record.seq}>
                <td className="num">
                  <button type="button" className="link-button" aria-expanded={opened === record.seq} onClick={() => toggle(record.seq)} title="Show the whole record">
                    {record.seq}
                  </button>
                </td>
                <td className="nowrap" title={formatDateTime(record.at)}>
                  {formatWhen(record.at)}
                </td>
                <td className="mono">{record.type}</td>
                <td className="mono small">{record.actor}</td>
                <td>{record.agent ?? <span className="muted">—</span>}</td>
                <td className="mono">{record.tool ?? <span className="muted">—</span>}</td>
                <td>
                  {record.effect ? <EffectBadge effect={record.effect} /> : <span className="muted">—</span>}
                  {record.approval ? (
                    <div>
                      <ApprovalOutcome id={record.approval.id} status={record.approval.status} />
                    </div>
                  ) : null}
                </td>
                <td>{record.rule ? <span className="mono">{record.rule}</span> : record.type === 'decision' ? <CauseText cause={record.cause} /> : <span className="muted">—</span>}</td>
                <td>{record.type === 'decision' ? <RiskBadge risk={riskOf(record)} /> : <span className="muted">—</span>}</td>
              </tr>
              {opened === record.seq ? (
                <tr className="detail-row">
                  <td colSpan={9}>
                    <RecordDetail record={record} />
                  </td>
                </tr>
              ) : null}
            </Fragment>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The risk of a decision record (`data.decision.risk`). */
function riskOf(record: AuditRecord): { score: number; level: string } | undefined {
  return (record.data as { decision?: { risk?: { score: number; level: string } } } | null)?.decision?.risk;
}

interface DecisionData {
  id?: string;
  request?: { tool?: string; args?: Record<string, unknown>; session?: string | null; intent?: string; sessionAttributes?: Record<string, unknown> };
  identity?: { agent?: string; role?: string; environment?: string; keyId?: string };
  decision?: { effect?: string; rule?: string | null; reason?: string; decidedBy?: string; policy?: { version?: number }; matched?: unknown[]; error?: { code?: string; message?: string } };
  approval?: string;
}

/** One value as text: scalars as they are, structures as compact JSON. */
function valueText(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

/**
 * A record read as a person reads it: what happened (its fields), then the call it concerns (tool,
 * arguments one per line, the decision), then where it sits in the hash chain. The raw JSON stays
 * one click away.
 */
function RecordDetail({ record }: { record: AuditRecord }) {
  const data = (record.data ?? {}) as DecisionData & Record<string, unknown>;
  const request = record.type === 'decision' ? data.request : undefined;
  const decision = record.type === 'decision' ? data.decision : undefined;
  // Fields of other record types: the data's own scalar fields, in order.
  const otherFields = record.type === 'decision' ? [] : Object.entries(data).filter(([, value]) => value === null || typeof value !== 'object' || Array.isArray(value));
  const nested = record.type === 'decision' ? [] : Object.entries(data).filter(([, value]) => value !== null && typeof value === 'object' && !Array.isArray(value));
  return (
    <div className="record-detail" data-testid="record-detail">
      <h3>Record</h3>
      <dl className="facts two-col" data-testid="record-fields">
        <dt>Time</dt>
        <dd>{formatDateTime(record.at)}</dd>
        <dt>Type</dt>
        <dd className="mono">{record.type}</dd>
        <dt>Actor</dt>
        <dd className="mono">{record.actor}</dd>
        {record.agent ? (
          <>
            <dt>Agent</dt>
            <dd>{record.agent}</dd>
          </>
        ) : null}
        {record.effect ? (
          <>
            <dt>Effect</dt>
            <dd>
              <EffectBadge effect={record.effect} />
              {record.approval ? (
                <>
                  {' '}
                  <ApprovalOutcome id={record.approval.id} status={record.approval.status} />
                </>
              ) : null}
            </dd>
          </>
        ) : null}
        {record.rule || record.type === 'decision' ? (
          <>
            <dt>Rule or cause</dt>
            <dd>{record.rule ? <span className="mono">{record.rule}</span> : <CauseText cause={record.cause} />}</dd>
          </>
        ) : null}
        {otherFields.map(([key, value]) => (
          <Fragment key={key}>
            <dt>{key}</dt>
            <dd className="mono">{valueText(value)}</dd>
          </Fragment>
        ))}
      </dl>
      {nested.map(([key, value]) => (
        <Fragment key={key}>
          <h3>{key}</h3>
          <dl className="facts two-col">
            {Object.entries(value as Record<string, unknown>).map(([k, v]) => (
              <Fragment key={k}>
                <dt>{k}</dt>
                <dd className="mono">{valueText(v)}</dd>
              </Fragment>
            ))}
          </dl>
        </Fragment>
      ))}
      {request ? (
        <>
          <h3>The call</h3>
          <dl className="facts two-col" data-testid="record-call">
            <dt>Tool</dt>
            <dd className="mono">{request.tool ?? record.tool}</dd>
            {Object.entries(request.args ?? {}).map(([key, value]) => (
              <Fragment key={key}>
                <dt className="mono">{key}</dt>
                <dd className="mono">{valueText(value)}</dd>
              </Fragment>
            ))}
            {data.identity ? (
              <>
                <dt>Identity</dt>
                <dd>
                  {data.identity.agent} · {data.identity.role} · {data.identity.environment} <span className="muted small mono">key {data.identity.keyId}</span>
                </dd>
              </>
            ) : null}
            {request.session ? (
              <>
                <dt>Session</dt>
                <dd className="mono">{request.session}</dd>
              </>
            ) : null}
            <CallContextFacts intent={request.intent} sessionAttributes={request.sessionAttributes} />
            {decision ? (
              <>
                <dt>Decision</dt>
                <dd>
                  {decision.reason} <span className="muted small">(decided by {decision.decidedBy ?? '—'}{decision.policy?.version !== undefined ? `, policy v${decision.policy.version}` : ''})</span>
                </dd>
                <dt>Risk</dt>
                <dd>
                  <RiskBadge risk={riskOf(record)} />
                </dd>
                {decision.error ? (
                  <>
                    <dt>Error</dt>
                    <dd className="mono">
                      {decision.error.code}: {decision.error.message}
                    </dd>
                  </>
                ) : null}
                <dt>Decision id</dt>
                <dd className="mono">{data.id}</dd>
              </>
            ) : null}
          </dl>
        </>
      ) : null}
      <h3>Chain position</h3>
      <dl className="facts two-col" data-testid="record-chain">
        <dt>Sequence</dt>
        <dd>#{record.seq}</dd>
        <dt>Previous hash</dt>
        <dd className="mono hash">{record.prevHash}</dd>
        <dt>Hash</dt>
        <dd className="mono hash">{record.hash}</dd>
      </dl>
      <details>
        <summary>Raw record data (JSON)</summary>
        <JsonBlock value={record.data} label={`Record ${record.seq} data`} />
      </details>
    </div>
  );
}

/** Walks the hash chain on the server and says whether it is intact. */
function ChainStatus() {
  const [run, setRun] = useState(0);
  const verify = useResource(() => api.get<VerifyResult>('/v1/audit/verify'), String(run));
  let body;
  if (verify.loading) body = <span>Verifying the hash chain…</span>;
  else if (verify.error) body = <span className="bad">Could not verify: {verify.error.message}</span>;
  else if (verify.data?.ok)
    body = (
      <span className="good">
        ✓ Chain intact: {verify.data.records.toLocaleString()} records{verify.data.head ? <span className="mono small"> head {verify.data.head.slice(0, 12)}…</span> : null}
        {verify.data.base ? (
          <span className="muted small" data-testid="chain-base">
            {' '}
            · records up to #{verify.data.base.seq.toLocaleString()} archived{verify.data.base.file ? ` to ${verify.data.base.file}` : ''}
            {verify.data.base.attestedBy !== null ? ` (record #${verify.data.base.attestedBy.toLocaleString()} says so)` : ''}
          </span>
        ) : null}
      </span>
    );
  else if (verify.data)
    body = (
      <span className="bad">
        ✗ Chain broken at record #{verify.data.seq}: {verify.data.reason}
      </span>
    );
  return (
    <div className="chain-status" role="status" aria-live="polite" data-testid="chain-status">
      {body}{' '}
      <button type="button" onClick={() => setRun((n) => n + 1)} disabled={verify.loading}>
        Verify again
      </button>
    </div>
  );
}
