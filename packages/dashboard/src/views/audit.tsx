import { Fragment, useState, type FormEvent } from 'react';
import { api, withQuery } from '../api/client';
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
const TYPES = [
  'decision',
  'approval.created',
  'approval.approved',
  'approval.denied',
  'approval.expired',
  'approval.redeemed',
  'call.started',
  'call.refused',
  'call.executed',
  'call.failed',
  'policy.uploaded',
  'policy.activated',
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'agent.created',
  'key.created',
  'key.revoked',
  'token.created',
  'token.revoked',
  'user.created',
];

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
}

const NO_FILTERS: Filters = { type: '', agent: '', tool: '', effect: '', rule: '', cause: '', role: '', environment: '', from: '', to: '' };

function toQuery(filters: Filters): Record<string, string | undefined> {
  return {
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
  const [pages, setPages] = useState<{ records: AuditRecord[]; next: string | null }>({ records: [], next: null });
  const [open, setOpen] = useState<number | undefined>(focusSeq ? Number(focusSeq) : undefined);
  const key = JSON.stringify(filters);
  const first = useResource(async () => {
    const page = await api.get<{ records: AuditRecord[]; nextCursor: string | null }>('/v1/audit', { ...toQuery(filters), limit: PAGE });
    setPages({ records: page.records, next: page.nextCursor });
    return page;
  }, key);
  const focused = useResource(
    async () => (focusSeq ? (await api.get<{ records: AuditRecord[] }>('/v1/audit', { cursor: Number(focusSeq) + 1, limit: 1 })).records[0] : undefined),
    `focus-${focusSeq ?? ''}`,
  );
  const [more, setMore] = useState<{ busy: boolean; error?: Error }>({ busy: false });

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
      const page = await api.get<{ records: AuditRecord[]; nextCursor: string | null }>('/v1/audit', { ...toQuery(filters), limit: PAGE, cursor: pages.next });
      setPages((current) => ({ records: [...current.records, ...page.records], next: page.nextCursor }));
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
              {TYPES.map((type) => (
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
          <AuditTable records={pages.records} open={open} onToggle={(seq) => setOpen(open === seq ? undefined : seq)} empty="No record matches these filters." />
          {more.error ? <ErrorNotice error={more.error} /> : null}
          <p className="muted small">
            {plural(pages.records.length, 'record')} shown.{' '}
            {pages.next ? (
              <button type="button" onClick={() => void loadMore()} disabled={more.busy}>
                {more.busy ? 'Loading…' : 'Older records'}
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

/** The call of a decision record (`data.request`), when the record is one. */
function requestOf(record: AuditRecord): { intent?: string; sessionAttributes?: Record<string, unknown> } | undefined {
  const request = (record.data as { request?: unknown } | null)?.request;
  return request !== null && typeof request === 'object' ? (request as { intent?: string; sessionAttributes?: Record<string, unknown> }) : undefined;
}

function RecordDetail({ record }: { record: AuditRecord }) {
  return (
    <div className="record-detail">
      <dl className="facts two-col">
        <dt>Sequence</dt>
        <dd>{record.seq}</dd>
        <dt>Time</dt>
        <dd>{formatDateTime(record.at)}</dd>
        <dt>Type</dt>
        <dd className="mono">{record.type}</dd>
        <dt>Actor</dt>
        <dd className="mono">{record.actor}</dd>
        <dt>Hash</dt>
        <dd className="mono hash">{record.hash}</dd>
        <dt>Previous hash</dt>
        <dd className="mono hash">{record.prevHash}</dd>
        <CallContextFacts intent={requestOf(record)?.intent} sessionAttributes={requestOf(record)?.sessionAttributes} />
      </dl>
      <JsonBlock value={record.data} label={`Record ${record.seq} data`} />
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
