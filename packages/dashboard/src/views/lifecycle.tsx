import { useState } from 'react';
import { api, can } from '../api/client';
import type { PolicySource, PolicyVersion, ReplayReport, Simulation } from '../api/types';
import { DiffView } from '../components/diff-view';
import { ErrorNotice, Loading, OutcomeNotice } from '../components/states';
import { formatDateTime } from '../format';
import { useLiveReload } from '../live';
import { useSession } from '../session';
import { useAction } from '../use-action';
import { useResource } from '../use-resource';
import { ReportTables } from './simulation';

interface ShadowReport extends ReplayReport {
  version: number;
  since: string;
}

/**
 * Shadow mode: an inactive version decides every live call beside the active one and enforces
 * nothing; this panel starts and stops it, shows its disagreements by rule, and promotes it.
 */
export function ShadowPanel({ versions, active, onChanged }: { versions: PolicyVersion[]; active: number | null; onChanged: () => void }) {
  const { user } = useSession();
  const author = can.author(user.role);
  const shadow = useResource(async () => (await api.get<{ shadow: ShadowReport | null }>('/v1/policies/shadow')).shadow, 'shadow');
  const candidates = versions.filter((v) => v.version !== active);
  const [chosen, setChosen] = useState<number | undefined>(undefined);
  const { busy, outcome, run } = useAction();
  const pick = chosen ?? candidates[0]?.version;
  // The shadow decides every live call as well, so its counts move with the decision stream
  // (fetched again at most every 1.5 s while calls come in; "Refresh" stays for the impatient).
  const shadowing = shadow.data != null;
  useLiveReload((event) => shadowing && event.type === 'decision', shadow.reload);

  const act = (work: () => Promise<string>): Promise<unknown> =>
    run(async () => {
      const done = await work();
      shadow.reload();
      onChanged();
      return done;
    });

  const report = shadow.data;
  return (
    <div className="card" data-testid="shadow-panel">
      <h2>Shadow mode</h2>
      <p className="muted">A candidate version decides every live call beside the active one, enforcing nothing. Disagreements are recorded in the audit trail (shadow.flip).</p>
      {shadow.error ? <ErrorNotice error={shadow.error} /> : null}
      {shadow.loading ? <Loading what="Loading shadow mode" /> : null}
      <OutcomeNotice outcome={outcome} />
      {!shadow.loading && !report ? (
        author && candidates.length > 0 ? (
          <form
            className="toolbar"
            onSubmit={(e) => {
              e.preventDefault();
              if (pick !== undefined) void act(async () => (await api.post<ShadowReport>(`/v1/policies/${pick}/shadow`), `Version ${pick} is shadowing live traffic.`));
            }}
          >
            <label>
              Version{' '}
              <select value={pick} onChange={(e) => setChosen(Number(e.target.value))} aria-label="Version to shadow">
                {candidates.map((v) => (
                  <option key={v.version} value={v.version}>
                    {v.version} ({formatDateTime(v.createdAt)})
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" disabled={busy}>
              {busy ? 'Starting…' : 'Start shadow'}
            </button>
          </form>
        ) : (
          <p className="muted">No version is shadowing.{candidates.length === 0 ? ' Upload a candidate version first.' : ''}</p>
        )
      ) : null}
      {report ? (
        <>
          <p>
            Version <strong>{report.version}</strong> shadowing since {formatDateTime(report.since)}: <strong>{report.calls.toLocaleString()}</strong> live calls,{' '}
            <strong data-testid="shadow-flips">{report.flipped.toLocaleString()}</strong> decided differently.{' '}
            <button type="button" className="link" onClick={shadow.reload}>
              Refresh
            </button>
          </p>
          <ReportTables report={report} candidate={`Version ${report.version}`} />
          {author ? (
            <div className="toolbar">
              <button
                type="button"
                className="primary"
                disabled={busy}
                onClick={() => void act(async () => (await api.post<PolicyVersion>('/v1/policies/shadow/promote'), `Version ${report.version} is now active.`))}
              >
                Promote version {report.version}
              </button>
              <button type="button" disabled={busy} onClick={() => void act(async () => (await api.delete('/v1/policies/shadow'), 'Shadow mode stopped.'))}>
                Stop shadow
              </button>
            </div>
          ) : null}
        </>
      ) : null}
    </div>
  );
}

interface Suggestion {
  id: string;
  tool: string;
  argument: string;
  allowRule: string;
  approvalRule: string;
  from: number;
  to: number;
  evidence: { approved: number; edited: number; denied: number; undecided: number; lowest: number; highest: number; wouldAllow: number };
  message: string;
  review: string[];
  patch: string;
  file: string;
  candidate: { name: string; files: PolicySource[] };
}

interface Suggestions {
  from: string;
  to: string;
  version: number | null;
  approvals: number;
  suggestions: Suggestion[];
}

/** Progressive trust: loosenings the approval history supports, to backtest and upload; never applied by themselves. */
export function SuggestionsPanel({ onUploaded }: { onUploaded: () => void }) {
  const { user } = useSession();
  const author = can.author(user.role);
  const data = useResource(() => api.get<Suggestions>('/v1/policies/suggestions', { since: '30d' }), 'suggestions');
  return (
    <div className="card" data-testid="suggestions">
      <h2>Suggestions from approval history</h2>
      {data.error ? <ErrorNotice error={data.error} /> : null}
      {data.loading ? <Loading what="Looking for suggestions" /> : null}
      {data.data ? (
        <p className="muted">
          From {data.data.approvals.toLocaleString()} approvals in the last 30 days. A threshold is suggested when at least 20 decided approvals above it were granted as asked 95 % of the time or more
          (also in the upper half of the range, and the last ten without exception). Nothing is applied: backtest, upload, then activate.
        </p>
      ) : null}
      {data.data && data.data.suggestions.length === 0 ? <p className="state empty">No suggestion: the history does not support loosening any threshold.</p> : null}
      {data.data?.suggestions.map((suggestion) => <SuggestionCard key={suggestion.id} suggestion={suggestion} author={author} onUploaded={onUploaded} />)}
    </div>
  );
}

function SuggestionCard({ suggestion, author, onUploaded }: { suggestion: Suggestion; author: boolean; onUploaded: () => void }) {
  const [backtest, setBacktest] = useState<ReplayReport | undefined>(undefined);
  const action = useAction<'backtest' | 'upload'>();
  const { evidence } = suggestion;
  return (
    <section className="suggestion" aria-label={`Suggestion for ${suggestion.allowRule}`} data-suggestion={suggestion.id}>
      <h3>
        Raise <span className="mono">{suggestion.allowRule}</span> from {suggestion.from} to {suggestion.to}
      </h3>
      <p>{suggestion.message}</p>
      <p className="small muted">
        Evidence: {evidence.approved} approved as asked, {evidence.edited} approved with edits, {evidence.denied} denied, {evidence.undecided} unanswered; {suggestion.argument} from {evidence.lowest} to{' '}
        {evidence.highest}. The edited policy allows {evidence.wouldAllow} of these calls.
      </p>
      {suggestion.review.length > 0 ? (
        <ul className="notice warn small">
          {suggestion.review.map((line) => (
            <li key={line}>Review before uploading: {line}</li>
          ))}
        </ul>
      ) : null}
      <DiffView files={[{ file: suggestion.file, status: 'modified', patch: suggestion.patch }]} />
      {author ? (
        <div className="toolbar">
          <button
            type="button"
            disabled={action.busy}
            onClick={() =>
              void action.run(async () => {
                const result = await api.post<Simulation>('/v1/policies/simulate', { ...suggestion.candidate, last: 10_000 });
                if (result.mode === 'recorded') setBacktest(result.report);
              }, 'backtest')
            }
          >
            {action.running === 'backtest' ? 'Backtesting…' : 'Backtest on the last 10,000 calls'}
          </button>
          <button
            type="button"
            disabled={action.busy}
            onClick={() =>
              void action.run(async () => {
                const uploaded = await api.post<PolicyVersion>('/v1/policies', suggestion.candidate);
                onUploaded();
                return `Uploaded as version ${uploaded.version} (inactive): activate it or shadow it from the list above.`;
              }, 'upload')
            }
          >
            {action.running === 'upload' ? 'Uploading…' : 'Upload as a new version'}
          </button>
        </div>
      ) : null}
      <OutcomeNotice outcome={action.outcome} />
      {backtest ? (
        <div data-testid="suggestion-backtest">
          <p>
            Replayed {backtest.calls.toLocaleString()} recorded calls: <strong>{backtest.flipped.toLocaleString()}</strong> would be decided differently.
          </p>
          <ReportTables report={backtest} candidate="Suggested" />
        </div>
      ) : null}
    </section>
  );
}
