import { useState } from 'react';
import { api } from '../api/client';
import type { AuditRecord, FleetAgentDetail } from '../api/types';
import { DecisionsChart, TopBars } from '../components/charts';
import { EFFECT_COLOR } from '../components/effect';
import { ErrorNotice, Loading } from '../components/states';
import { href } from '../components/scope';
import { DEFAULT_RANGE, rangeKey, rangeQuery, TimeRangePicker, type TimeRange } from '../components/time-range';
import { formatCount, formatDateTime, formatPercent, formatRelative, plural } from '../format';
import { agentOf, useLiveReload } from '../live';
import { Link } from '../router';
import { useResource } from '../use-resource';
import { AuditTable } from './audit';
import { AnomalyAlerts, Flags, PausedFlag } from './fleet';
import { OrphansPanel } from './orphans';
import { KillSwitch, pauseOfAgent, useActivePauses } from './pauses';

const PAGE = 50;

export function AgentView({ id }: { id: string }) {
  const [range, setRange] = useState<TimeRange>(DEFAULT_RANGE);
  const detail = useResource(() => api.get<FleetAgentDetail>(`/v1/fleet/${encodeURIComponent(id)}`, rangeQuery(range)), `${id}|${rangeKey(range)}`);
  const agent = detail.data;
  const pauses = useActivePauses();
  return (
    <section aria-labelledby="agent-title">
      <p className="breadcrumb">
        <Link to="/fleet">Fleet</Link> / {id}
      </p>
      <div className="page-head">
        <h1 id="agent-title">{id}</h1>
        <TimeRangePicker value={range} onChange={setRange} />
      </div>
      {detail.error ? <ErrorNotice error={detail.error} action={<Link to="/fleet">Back to the fleet</Link>} /> : null}
      {detail.loading ? <Loading what="Loading the agent" /> : null}
      {agent ? (
        <>
          <KillSwitch
            pauses={pauses}
            // The pauses that stop some or all of this agent's calls: the fleet, the agent, its role, any tool.
            shows={(p) => p.scope === 'fleet' || p.scope === 'tool' || (p.scope === 'agent' && p.target === agent.id) || (p.scope === 'role' && p.target === agent.role)}
            actions={[
              { scope: 'agent', target: agent.id, label: 'Pause agent' },
              { scope: 'role', target: agent.role, label: `Pause role ${agent.role}` },
              { scope: 'tool', label: 'Pause a tool…' },
            ]}
            tools={agent.topTools.flatMap((t) => (t.value === null ? [] : [t.value]))}
          />
          <div className="tiles">
            <div className="tile">
              <span className="tile-label">Role · environment</span>
              <span className="tile-value small-value">
                {agent.role} · {agent.environment}
              </span>
            </div>
            <div className="tile">
              <span className="tile-label">Last seen</span>
              <span className="tile-value small-value">{agent.lastSeen ? formatRelative(agent.lastSeen) : 'never'}</span>
              {agent.lastSeen ? <span className="tile-detail">{formatDateTime(agent.lastSeen)}</span> : null}
            </div>
            <div className="tile">
              <span className="tile-label">Decisions</span>
              <span className="tile-value">{formatCount(agent.total)}</span>
            </div>
            <div className="tile tone-block">
              <span className="tile-label">Blocked</span>
              <span className="tile-value">{formatPercent(agent.blockedRate)}</span>
            </div>
            <div className="tile">
              <span className="tile-label">Flags</span>
              <PausedFlag pause={pauseOfAgent(pauses.data ?? [], agent)} />
              <Flags agent={agent} paused={pauseOfAgent(pauses.data ?? [], agent) !== undefined} />
            </div>
          </div>
          <div className="card">
            <h2>Decisions over time</h2>
            <DecisionsChart
              series={agent.series}
              bucketMs={agent.bucketMs}
              height={220}
              title={`${id}: decisions over time`}
              linkFor={(effect, bucket) => href('/feed', { agent: id, effect, from: bucket.start, to: bucket.end })}
            />
          </div>
          <div className="grid-3">
            <div className="card">
              <h2>Tools used</h2>
              <TopBars data={agent.topTools} color="#2b6cb0" title="Tools used" empty="No calls in this range." measure="calls" linkFor={(row) => href('/feed', { agent: id, tool: row.value ?? undefined, ...rangeQuery(range) })} />
            </div>
            <div className="card">
              <h2>Blocked tools</h2>
              <TopBars
                data={agent.topBlockedTools}
                color={EFFECT_COLOR.block}
                title="Blocked tools"
                empty="Nothing was blocked."
                linkFor={(row) => href('/feed', { agent: id, effect: 'block', tool: row.value ?? undefined, ...rangeQuery(range) })}
              />
            </div>
            <div className="card">
              <h2>Deciding rules</h2>
              <TopBars
                data={agent.topRules}
                color="#4a5568"
                title="Deciding rules"
                empty="No decisions in this range."
                measure="decisions"
                name={(row) => row.value ?? 'no rule (default, risk, pause, error)'}
              />
            </div>
          </div>
        </>
      ) : null}
      <AnomalyAlerts agent={id} />
      <OrphansPanel agent={id} />
      <div className="card" data-testid="timeline">
        <h2>Timeline</h2>
        <Timeline key={id} agent={id} />
      </div>
    </section>
  );
}

interface AuditPage {
  records: AuditRecord[];
  nextCursor: string | null;
}

/** The records shown, newest first, the cursor of the next older page, and how many pages were loaded. */
interface TimelinePages {
  records: AuditRecord[];
  next: string | null;
  pages: number;
}

/**
 * The newest page, fetched again, over what is shown: the records it covers are replaced (an
 * approval's outcome moves on) and the older pages loaded stay. When more records arrived than a
 * page holds, the timeline starts again from the newest page.
 */
function withNewest(shown: TimelinePages, page: AuditPage): TimelinePages {
  const oldest = page.records.at(-1)?.seq;
  const older = oldest === undefined || (shown.records[0]?.seq ?? -1) < oldest ? [] : shown.records.filter((record) => record.seq < oldest);
  if (page.nextCursor === null || older.length === 0) return { records: page.records, next: page.nextCursor, pages: 1 };
  return { records: [...page.records, ...older], next: shown.next, pages: shown.pages };
}

/** Every audit record about the agent (decisions, approval steps, outcomes), newest first, a page at a time; live. */
function Timeline({ agent }: { agent: string }) {
  const [timeline, setTimeline] = useState<TimelinePages>({ records: [], next: null, pages: 1 });
  const first = useResource(async () => {
    const page = await api.get<AuditPage>('/v1/audit', { agent, limit: PAGE });
    setTimeline((shown) => withNewest(shown, page));
    return page;
  }, agent);
  // A decision, an approval moving on, an outcome: each is a new record about the agent.
  useLiveReload((event) => agentOf(event) === agent, first.reload);
  const [more, setMore] = useState<{ busy: boolean; error?: Error }>({ busy: false });
  const { records, next, pages } = timeline;

  const loadMore = async (): Promise<void> => {
    if (!next) return;
    setMore({ busy: true });
    try {
      const page = await api.get<AuditPage>('/v1/audit', { agent, limit: PAGE, cursor: next });
      // Dropped if the timeline started again meanwhile (the cursor is of the pages it left).
      setTimeline((shown) => (shown.next === next ? { records: [...shown.records, ...page.records], next: page.nextCursor, pages: shown.pages + 1 } : shown));
      setMore({ busy: false });
    } catch (error) {
      setMore({ busy: false, error: error as Error });
    }
  };

  if (first.error) return <ErrorNotice error={first.error} action={<button onClick={first.reload}>Try again</button>} />;
  if (first.loading) return <Loading what="Loading the timeline" />;
  return (
    <>
      <AuditTable records={records} empty="No records about this agent yet." />
      {more.error ? <ErrorNotice error={more.error} /> : null}
      <p className="muted small">
        {plural(records.length, 'record')}{pages > 1 ? ` (${pages} pages)` : ''}.{' '}
        {next ? (
          <button type="button" onClick={() => void loadMore()} disabled={more.busy}>
            {more.busy ? 'Loading…' : 'Older records'}
          </button>
        ) : (
          'That is the beginning.'
        )}
      </p>
    </>
  );
}
