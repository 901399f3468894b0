import { useEffect, useRef, useState, type ReactNode } from 'react';
import { api } from '../api/client';
import type { DecisionEvent, Overview } from '../api/types';
import { DecisionsChart, EnvironmentChart, TopBars } from '../components/charts';
import { EFFECT_COLOR } from '../components/effect';
import { ErrorNotice, Loading } from '../components/states';
import { DEFAULT_RANGE, rangeKey, rangeQuery, TimeRangePicker, type TimeRange } from '../components/time-range';
import { formatCount, formatDuration, formatPercent, plural } from '../format';
import { useLiveEvents } from '../live';
import { Link } from '../router';
import { useResource } from '../use-resource';

/** Sliding presets are fetched again this often, so the window moves and live counts are reconciled. */
const REFRESH_MS = 60_000;
/** Approval changes refresh the approval figures at most this often. */
const APPROVAL_REFRESH_MS = 1500;

export function OverviewView() {
  const [range, setRange] = useState<TimeRange>(DEFAULT_RANGE);
  const overview = useResource(() => api.get<Overview>('/v1/stats/overview', rangeQuery(range)), rangeKey(range));
  const live = range.kind === 'preset';
  const reload = overview.reload;

  useEffect(() => {
    if (!live) return;
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [live, reload]);

  const pendingRefresh = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(pendingRefresh.current), []);

  useLiveEvents((event) => {
    if (!live) return;
    if (event.type === 'decision') overview.setData((current) => (current ? countDecision(current, event.data) : current));
    else pendingRefresh.current ??= setTimeout(() => {
      pendingRefresh.current = undefined;
      reload();
    }, APPROVAL_REFRESH_MS);
  });

  const data = overview.data;
  const total = data ? data.totals.allow + data.totals.require_approval + data.totals.block : 0;
  return (
    <section aria-labelledby="overview-title">
      <div className="page-head">
        <h1 id="overview-title">Overview</h1>
        <TimeRangePicker value={range} onChange={setRange} />
      </div>
      {overview.error ? <ErrorNotice error={overview.error} action={<button onClick={reload}>Try again</button>} /> : null}
      {overview.loading ? <Loading what="Loading decisions" /> : null}
      {data ? (
        <>
          <div className="tiles">
            <Tile label="Decisions" value={formatCount(total)} testId="tile-decisions" />
            <Tile label="Blocked" value={formatPercent(total ? data.totals.block / total : null)} detail={plural(data.totals.block, 'call')} tone="block" />
            <Tile label="Needed approval" value={formatCount(data.totals.require_approval)} tone="require_approval" />
            <Tile label="Approval queue" value={formatCount(data.approvals.pending)} detail={<Link to="/approvals">open the inbox</Link>} testId="tile-pending" />
            <Tile
              label="Median time to decision"
              value={data.approvals.medianMs === null ? '—' : formatDuration(data.approvals.medianMs)}
              detail={`${plural(data.approvals.resolved, 'approval')} resolved`}
            />
          </div>
          <div className="card">
            <h2>Decisions over time {live ? <span className="live-tag">live</span> : null}</h2>
            {total === 0 ? <p className="state empty">No decisions in this range yet. Decisions appear here as agents call POST /v1/decide.</p> : null}
            <DecisionsChart series={data.series} bucketMs={data.bucketMs} title="Decisions over time, stacked by effect" />
          </div>
          <div className="grid-3">
            <div className="card">
              <h2>Top blocked tools</h2>
              <TopBars data={data.topBlockedTools} color={EFFECT_COLOR.block} title="Top blocked tools" empty="Nothing was blocked." />
            </div>
            <div className="card">
              <h2>Top blocking rules</h2>
              <TopBars data={data.topBlockedRules} color="#9b2c2c" title="Top blocking rules" empty="Nothing was blocked." />
            </div>
            <div className="card">
              <h2>Per environment</h2>
              <EnvironmentChart data={data.environments} />
            </div>
          </div>
        </>
      ) : null}
    </section>
  );
}

function Tile({ label, value, detail, tone, testId }: { label: string; value: string; detail?: ReactNode; tone?: string; testId?: string }) {
  return (
    <div className={`tile${tone ? ` tone-${tone}` : ''}`} data-testid={testId}>
      <span className="tile-label">{label}</span>
      <span className="tile-value">{value}</span>
      {detail ? <span className="tile-detail">{detail}</span> : null}
    </div>
  );
}

/** Adds one live decision to the figures (the next fetch reconciles them with the server). */
function countDecision(overview: Overview, event: DecisionEvent): Overview {
  const at = Date.parse(event.at);
  const from = Date.parse(overview.from);
  if (at < from) return overview;
  const index = Math.floor((at - from) / overview.bucketMs);
  const series = [...overview.series];
  while (series.length <= index) series.push({ start: new Date(from + series.length * overview.bucketMs).toISOString(), allow: 0, require_approval: 0, block: 0 });
  const bucket = series[index];
  if (bucket) series[index] = { ...bucket, [event.effect]: bucket[event.effect] + 1 };
  const next: Overview = { ...overview, series, totals: { ...overview.totals, [event.effect]: overview.totals[event.effect] + 1 } };
  const environments = [...overview.environments];
  const envIndex = environments.findIndex((e) => e.environment === event.environment);
  const env = envIndex >= 0 ? environments[envIndex] : { environment: event.environment, allow: 0, require_approval: 0, block: 0 };
  if (env) {
    const updated = { ...env, [event.effect]: env[event.effect] + 1 };
    if (envIndex >= 0) environments[envIndex] = updated;
    else environments.push(updated);
  }
  next.environments = environments;
  if (event.effect === 'block') {
    next.topBlockedTools = bump(overview.topBlockedTools, event.tool);
    next.topBlockedRules = bump(overview.topBlockedRules, event.rule);
  }
  return next;
}

function bump(list: Overview['topBlockedTools'], value: string | null): Overview['topBlockedTools'] {
  const found = list.some((row) => row.value === value);
  const next = found ? list.map((row) => (row.value === value ? { ...row, count: row.count + 1 } : row)) : [...list, { value, count: 1 }];
  return next.sort((a, b) => b.count - a.count || String(a.value).localeCompare(String(b.value))).slice(0, 8);
}
