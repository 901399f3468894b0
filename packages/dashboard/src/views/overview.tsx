import { useEffect, type ReactNode } from 'react';
import { api } from '../api/client';
import { isEffect, type AnomalyBaseline, type DecisionEvent, type Effect, type Overview, type Pause } from '../api/types';
import { DecisionsChart, EnvironmentChart, TopBars } from '../components/charts';
import { EFFECT_COLOR } from '../components/effect';
import { href, ScopeFilters, setSearch, useScope, type Scope } from '../components/scope';
import { ErrorNotice, Loading } from '../components/states';
import { rangeFromSearch, rangeKey, rangeQuery, rangeToSearch, TimeRangePicker } from '../components/time-range';
import { CAUSE_LABEL, formatCount, formatDateTime, formatDuration, formatPercent, formatRelative, plural } from '../format';
import { useLiveEvents, useLiveReload } from '../live';
import { Link, useLocation } from '../router';
import { useNow } from '../use-now';
import { useResource } from '../use-resource';
import { describeScope, useActivePauses } from './pauses';

/** Sliding presets are fetched again this often, so the window moves and live counts are reconciled. */
const REFRESH_MS = 60_000;
/** Approval changes refresh the approval figures at most this often. */
const APPROVAL_REFRESH_MS = 1500;

interface AnomalyAlert {
  id: string;
  agent: string;
  bucketStart: string;
  anomalies: { code: string; tool: string | null; message: string }[];
}

export function OverviewView() {
  const { search } = useLocation();
  const range = rangeFromSearch(search);
  const [scope, setScope] = useScope();
  const scopeKey = JSON.stringify(scope);
  const overview = useResource(() => api.get<Overview>('/v1/stats/overview', { ...rangeQuery(range), ...scope }), `${rangeKey(range)}|${scopeKey}`);
  const live = range.kind === 'preset';
  const reload = overview.reload;

  useEffect(() => {
    if (!live) return;
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [live, reload]);

  useLiveEvents((event) => {
    if (live && event.type === 'decision' && inScope(event.data, scope)) overview.setData((current) => (current ? countDecision(current, event.data) : current));
  });
  // Outcomes are not among its figures.
  useLiveReload((event) => live && (event.type === 'approval' || event.type === 'pause'), reload, APPROVAL_REFRESH_MS);

  const data = overview.data;
  const total = data ? data.totals.allow + data.totals.require_approval + data.totals.block : 0;
  // The records behind a figure: the feed, filtered to this range and scope (and more).
  const span = data ? { from: data.from, to: data.to } : rangeQuery(range);
  const feed = (extra: Record<string, string | undefined>) => href('/feed', { ...scope, ...span, ...extra });
  return (
    <section aria-labelledby="overview-title">
      <div className="page-head">
        <h1 id="overview-title">Overview</h1>
        <TimeRangePicker value={range} onChange={(next) => setSearch(rangeToSearch(next))} />
      </div>
      <form className="filters" role="search" aria-label="Scope of the overview" onSubmit={(e) => e.preventDefault()}>
        <ScopeFilters scope={scope} onChange={setScope} tools={data?.topBlockedTools.flatMap((t) => (t.value ? [t.value] : [])) ?? []} />
        {Object.keys(scope).length > 0 ? (
          <button type="button" onClick={() => setScope({ agent: undefined, role: undefined, tool: undefined, environment: undefined })}>
            Whole fleet
          </button>
        ) : null}
      </form>
      <Attention overview={data} scope={scope} />
      {overview.error ? <ErrorNotice error={overview.error} action={<button onClick={reload}>Try again</button>} /> : null}
      {overview.loading ? <Loading what="Loading decisions" /> : null}
      {data ? (
        <>
          <div className="tiles">
            <Tile label="Decisions" value={formatCount(total)} to={feed({})} testId="tile-decisions" />
            <Tile label="Blocked" value={formatPercent(total ? data.totals.block / total : null)} detail={plural(data.totals.block, 'call')} tone="block" to={feed({ effect: 'block' })} testId="tile-blocked" />
            <Tile label="Needed approval" value={formatCount(data.totals.require_approval)} tone="require_approval" to={feed({ effect: 'require_approval' })} testId="tile-approval" />
            <Tile label="Approval queue" value={formatCount(data.approvals.pending)} detail={<Link to="/approvals">open the inbox</Link>} testId="tile-pending" />
            <Tile
              label="Median time for people to decide"
              value={data.approvals.medianMs === null ? '—' : formatDuration(data.approvals.medianMs)}
              detail={`${plural(data.approvals.resolved, 'approval')} decided by people${botsDetail(data.approvals.bots)}${data.approvals.automatic ? `; ${data.approvals.automatic} by timeout, not counted` : ''}`}
              testId="tile-median"
            />
          </div>
          <div className="card">
            <h2>Decisions over time {live ? <span className="live-tag">live</span> : null}</h2>
            {total === 0 ? <p className="state empty">No decisions in this range yet. Decisions appear here as agents call POST /v1/decide.</p> : null}
            <DecisionsChart
              series={data.series}
              bucketMs={data.bucketMs}
              title="Decisions over time, stacked by effect"
              linkFor={(effect: Effect, bucket) => href('/feed', { ...scope, effect, from: bucket.start, to: bucket.end })}
            />
          </div>
          <div className="grid-3">
            <div className="card">
              <h2>Top blocked tools</h2>
              <TopBars data={data.topBlockedTools} color={EFFECT_COLOR.block} title="Top blocked tools" empty="Nothing was blocked." linkFor={(row) => feed({ effect: 'block', tool: row.value ?? undefined })} />
            </div>
            <div className="card">
              <h2>Why calls were blocked</h2>
              <TopBars
                data={data.topBlockedRules}
                color="#9b2c2c"
                title="Why calls were blocked"
                empty="Nothing was blocked."
                name={(row) => (row.value ? `${row.value}${row.cause === 'limit' ? ' (limit)' : ''}` : CAUSE_LABEL[row.cause])}
                linkFor={(row) => feed({ effect: 'block', ...(row.value ? { rule: row.value } : { cause: row.cause }) })}
              />
            </div>
            <div className="card">
              <h2>Per environment</h2>
              <EnvironmentChart data={data.environments} linkFor={(environment, effect) => feed({ environment, effect })} />
            </div>
          </div>
        </>
      ) : null}
    </section>
  );
}

/**
 * What needs a person now, each linking to its page: pauses and quarantines in force, anomaly
 * alerts of the last 24 hours (or that the baselines are still being learned), and the approval
 * waiting longest with the time its tier runs out.
 */
function Attention({ overview, scope }: { overview: Overview | undefined; scope: Scope }) {
  const pauses = useActivePauses();
  const anomalies = useResource(
    () => api.get<{ alerts: AnomalyAlert[]; baseline: AnomalyBaseline }>('/v1/anomalies', { since: '24h', agent: scope.agent }),
    `overview-anomalies-${scope.agent ?? ''}`,
  );
  const now = useNow(30_000);
  const active = (pauses.data ?? []).filter((p) => pauseConcerns(p, scope));
  const alerts = anomalies.data?.alerts ?? [];
  const baseline = anomalies.data?.baseline;
  const oldest = overview?.approvals.oldestPending ?? null;
  return (
    <div className="attention" aria-label="Needs attention">
      <div className={`attention-card ${active.length ? 'alert' : 'ok'}`} data-testid="attention-pauses">
        <h2>Paused and quarantined</h2>
        {pauses.loading ? <p className="muted">Loading…</p> : null}
        {!pauses.loading && active.length === 0 ? <p className="muted">Nothing is paused: every agent's calls are decided by policy.</p> : null}
        {active.length > 0 ? (
          <ul>
            {active.map((pause) => (
              <li key={pause.id}>
                <Link to={pausePage(pause)} data-testid="attention-pause-link" data-pause={pause.id}>
                  {pause.kind === 'quarantine' ? 'Quarantined' : 'Paused'}: {describeScope(pause)}
                </Link>{' '}
                <span className="muted small">
                  {formatRelative(pause.createdAt, now)} by {pause.createdBy}
                </span>{' '}
                <Link to={href('/feed', { ...pauseFeedScope(pause), cause: 'paused' })} className="small">
                  refused calls
                </Link>
              </li>
            ))}
          </ul>
        ) : null}
      </div>
      <div className={`attention-card ${alerts.length ? 'alert' : baseline && learning(baseline, scope.agent) ? 'warn' : 'ok'}`} data-testid="attention-anomalies">
        <h2>Anomalies, last 24 hours</h2>
        {anomalies.error ? <ErrorNotice error={anomalies.error} /> : null}
        {anomalies.data ? <AnomalySummary alerts={alerts} baseline={anomalies.data.baseline} agent={scope.agent} /> : null}
      </div>
      <div className={`attention-card ${oldest ? 'warn' : 'ok'}`} data-testid="attention-oldest-approval">
        <h2>Oldest waiting approval</h2>
        {!overview ? <p className="muted">Loading…</p> : null}
        {overview && !oldest ? <p className="muted">No approval is waiting.</p> : null}
        {oldest ? (
          <>
            <p>
              <Link to={`/approvals/${oldest.id}`} className="big" data-testid="oldest-approval-link">
                {oldest.tool}
              </Link>{' '}
              by {oldest.agent}, waiting {formatDuration(Math.max(0, now - Date.parse(oldest.createdAt)))}
            </p>
            <p className="small">
              {oldest.deadlineAt
                ? `${oldest.onTimeout === 'escalate' ? `Escalates to ${oldest.escalatesTo ?? 'the next tier'}` : oldest.onTimeout === 'allow' ? 'Allowed' : 'Blocked'} ${formatRelative(oldest.deadlineAt, now)} (${formatDateTime(oldest.deadlineAt)})`
                : `Expires ${formatRelative(oldest.expiresAt, now)}`}
              {overview && overview.approvals.pending > 1 ? (
                <>
                  {' '}
                  · <Link to="/approvals">{overview.approvals.pending - 1} more waiting</Link>
                </>
              ) : null}
            </p>
          </>
        ) : null}
      </div>
    </div>
  );
}

function AnomalySummary({ alerts, baseline, agent }: { alerts: AnomalyAlert[]; baseline: AnomalyBaseline; agent: string | undefined }) {
  if (alerts.length > 0) {
    return (
      <ul>
        {alerts.slice(0, 3).map((alert) => (
          <li key={alert.id}>
            <Link to={`/fleet/${encodeURIComponent(alert.agent)}`}>{alert.agent}</Link>: {alert.anomalies[0]?.message ?? ''}
          </li>
        ))}
        {alerts.length > 3 ? (
          <li>
            <Link to="/fleet">{alerts.length - 3} more on the fleet page</Link>
          </li>
        ) : null}
      </ul>
    );
  }
  return <p className={learning(baseline, agent) ? '' : 'muted'}>{baselineText(baseline, agent)}</p>;
}

/** Whether the baseline of the agent (or of any agent seen) is still being learned. */
function learning(baseline: AnomalyBaseline, agent: string | undefined): boolean {
  return baseline.starting || baseline.agents.length === 0 || baseline.agents.some((a) => (agent === undefined || a.agent === agent) && a.learning);
}

/** "No anomaly" only where there is a baseline to compare with; otherwise how far it has come. */
export function baselineText(baseline: AnomalyBaseline, agent: string | undefined): string {
  const need = Math.round(baseline.warmupMs / 60_000);
  const relevant = baseline.agents.filter((a) => agent === undefined || a.agent === agent);
  if (baseline.starting || relevant.length === 0) return `Learning: no history yet. Anomalies are flagged once an agent has ${need} min of history.`;
  const still = relevant.filter((a) => a.learning);
  if (still.length === 0) return 'No anomaly: every agent is within its own baseline.';
  const least = Math.min(...still.map((a) => Math.floor(a.historyMs / 60_000)));
  if (agent !== undefined || relevant.length === 1) return `Learning, ${least} min of history: anomalies are flagged from ${need} min on.`;
  return `Learning: ${still.length} of ${relevant.length} agents have under ${need} min of history (least ${least} min); no anomaly among the others.`;
}

function pauseConcerns(pause: Pause, scope: Scope): boolean {
  if (pause.scope === 'fleet') return true;
  if (pause.scope === 'agent') return scope.agent === undefined || pause.target === scope.agent;
  if (pause.scope === 'role') return scope.role === undefined || pause.target === scope.role;
  return scope.tool === undefined || pause.target === scope.tool;
}

/**
 * Where a pause is shown with its Resume button: an agent's pause on the agent's page, any other
 * on the fleet page (which lists every pause in force).
 */
function pausePage(pause: Pause): string {
  if (pause.scope === 'agent' && pause.target) return `/fleet/${encodeURIComponent(pause.target)}`;
  if (pause.scope === 'role' && pause.target) return href('/fleet', { role: pause.target });
  return '/fleet';
}

function pauseFeedScope(pause: Pause): Scope {
  if (pause.scope === 'agent' && pause.target) return { agent: pause.target };
  if (pause.scope === 'role' && pause.target) return { role: pause.target };
  if (pause.scope === 'tool' && pause.target) return { tool: pause.target };
  return {};
}

function inScope(event: DecisionEvent, scope: Scope): boolean {
  return (
    (scope.agent === undefined || event.agent === scope.agent) &&
    (scope.role === undefined || event.role === scope.role) &&
    (scope.tool === undefined || event.tool === scope.tool) &&
    (scope.environment === undefined || event.environment === scope.environment)
  );
}

function Tile({ label, value, detail, tone, testId, to }: { label: string; value: string; detail?: ReactNode; tone?: string; testId?: string; to?: string }) {
  return (
    <div className={`tile${tone ? ` tone-${tone}` : ''}`} data-testid={testId}>
      <span className="tile-label">{label}</span>
      {to ? (
        <Link to={to} className="tile-value" title="Show these decisions in the feed">
          {value}
        </Link>
      ) : (
        <span className="tile-value">{value}</span>
      )}
      {detail ? <span className="tile-detail">{detail}</span> : null}
    </div>
  );
}

/** Adds one live decision to the figures (the next fetch reconciles them with the server). */
function countDecision(overview: Overview, event: DecisionEvent): Overview {
  const effect = event.effect;
  if (!isEffect(effect)) return overview;
  const at = Date.parse(event.at);
  const from = Date.parse(overview.from);
  if (at < from) return overview;
  const index = Math.floor((at - from) / overview.bucketMs);
  const series = [...overview.series];
  while (series.length <= index) series.push({ start: new Date(from + series.length * overview.bucketMs).toISOString(), allow: 0, require_approval: 0, block: 0 });
  const bucket = series[index];
  if (bucket) series[index] = { ...bucket, [effect]: bucket[effect] + 1 };
  const next: Overview = { ...overview, series, totals: { ...overview.totals, [effect]: overview.totals[effect] + 1 } };
  const environments = [...overview.environments];
  const envIndex = environments.findIndex((e) => e.environment === event.environment);
  const env = envIndex >= 0 ? environments[envIndex] : { environment: event.environment, allow: 0, require_approval: 0, block: 0 };
  if (env) {
    const updated = { ...env, [effect]: env[effect] + 1 };
    if (envIndex >= 0) environments[envIndex] = updated;
    else environments.push(updated);
  }
  next.environments = environments;
  if (event.effect === 'block') {
    next.topBlockedTools = bump(overview.topBlockedTools, (row) => row.value === event.tool, { value: event.tool, count: 1 });
    const cause = event.cause ?? (event.rule ? 'rule' : 'evaluation_error');
    const value = cause === 'rule' || cause === 'limit' ? event.rule : null;
    next.topBlockedRules = bump(overview.topBlockedRules, (row) => row.value === value && row.cause === cause, { value, cause, count: 1 });
  }
  return next;
}

function bump<T extends { value: string | null; count: number }>(list: T[], same: (row: T) => boolean, fresh: T): T[] {
  const found = list.some(same);
  const next = found ? list.map((row) => (same(row) ? { ...row, count: row.count + 1 } : row)) : [...list, fresh];
  return next.sort((a, b) => b.count - a.count || String(a.value).localeCompare(String(b.value))).slice(0, 8);
}

/** Bot accounts decide at machine speed: counted apart, with their own median, never in people's. */
export function botsDetail(bots: Overview['approvals']['bots']): string {
  if (bots.resolved === 0) return '';
  return `; ${plural(bots.resolved, 'approval')} by bots${bots.medianMs === null ? '' : ` (median ${formatDuration(bots.medianMs)})`}, not counted`;
}
