import { api } from '../api/client';
import type { AnomalyBaseline, FleetAgent, Pause } from '../api/types';
import { BlockedTrend, MixBar } from '../components/charts';
import { href, ScopeFilters, setSearch, useScope } from '../components/scope';
import { Empty, ErrorNotice, Loading } from '../components/states';
import { rangeFromSearch, rangeKey, rangeQuery, rangeToSearch, TimeRangePicker } from '../components/time-range';
import { formatCount, formatDateTime, formatPercent, formatRelative } from '../format';
import { Link, useLocation } from '../router';
import { useNow } from '../use-now';
import { useResource } from '../use-resource';
import { baselineText } from './overview';
import { KillSwitch, pauseOfAgent, useActivePauses } from './pauses';

const FLAG_LABEL: Record<string, string> = { blocked_rate_spike: 'Blocked-rate spike' };

export function FleetView() {
  const { search } = useLocation();
  const range = rangeFromSearch(search);
  const [scope, setScope] = useScope();
  const fleet = useResource(async () => (await api.get<{ agents: FleetAgent[] }>('/v1/fleet', { ...rangeQuery(range), ...scope })).agents, `${rangeKey(range)}|${JSON.stringify(scope)}`);
  const now = useNow(30_000);
  const agents = fleet.data ?? [];
  const flagged = agents.filter((a) => a.flags.length > 0).length;
  const pauses = useActivePauses();
  return (
    <section aria-labelledby="fleet-title">
      <div className="page-head">
        <h1 id="fleet-title">Fleet</h1>
        <TimeRangePicker value={range} onChange={(next) => setSearch(rangeToSearch(next))} />
      </div>
      <form className="filters" role="search" aria-label="Scope of the fleet" onSubmit={(e) => e.preventDefault()}>
        <ScopeFilters scope={scope} onChange={setScope} />
      </form>
      <p className="muted">
        {agents.length} agents{flagged ? `, ${flagged} flagged` : ''}. A <strong>blocked-rate spike</strong> flag means: in the last hour, at least 10 decisions, and a blocked share at least 30 points above and twice the agent's own baseline (its previous 7 days).
      </p>
      <KillSwitch pauses={pauses} shows={() => true} actions={[{ scope: 'fleet', label: 'Pause fleet' }]} />
      {fleet.error ? <ErrorNotice error={fleet.error} action={<button onClick={fleet.reload}>Try again</button>} /> : null}
      {fleet.loading ? <Loading what="Loading the fleet" /> : null}
      {!fleet.loading && agents.length === 0 && !fleet.error ? <Empty>No agents are registered. An admin registers them with POST /v1/agents.</Empty> : null}
      {agents.length > 0 ? (
        <div className="table-wrap">
          <table data-testid="fleet-table">
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">Role</th>
                <th scope="col">Environment</th>
                <th scope="col">Last seen</th>
                <th scope="col" className="num">Decisions</th>
                <th scope="col">Mix (allow · approval · block)</th>
                <th scope="col" className="num">Blocked</th>
                <th scope="col">Blocked rate per hour, last 24 h</th>
                <th scope="col">Flags</th>
              </tr>
            </thead>
            <tbody>
              {agents.map((agent) => (
                <tr key={agent.id} data-agent={agent.id} className={agent.flags.length ? 'flagged' : undefined}>
                  <th scope="row">
                    <Link to={`/fleet/${encodeURIComponent(agent.id)}`}>{agent.id}</Link>
                  </th>
                  <td>{agent.role}</td>
                  <td>{agent.environment}</td>
                  <td title={agent.lastSeen ? formatDateTime(agent.lastSeen) : undefined}>{agent.lastSeen ? formatRelative(agent.lastSeen, now) : <span className="muted">never</span>}</td>
                  <td className="num">
                    <Link to={href('/feed', { agent: agent.id, tool: scope.tool, ...rangeQuery(range) })}>{formatCount(agent.total)}</Link>
                  </td>
                  <td className="mix-cell">
                    <MixBar mix={agent.mix} />
                  </td>
                  <td className="num">{formatPercent(agent.blockedRate)}</td>
                  <td>
                    <BlockedTrend trend={agent.trend} label={`${agent.id} blocked rate per hour`} />
                  </td>
                  <td>
                    <PausedFlag pause={pauseOfAgent(pauses.data ?? [], agent)} />
                    <Flags agent={agent} paused={pauseOfAgent(pauses.data ?? [], agent) !== undefined} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <AnomalyAlerts />
    </section>
  );
}

interface AnomalyAlert {
  id: string;
  at: string;
  agent: string;
  bucketStart: string;
  bucketEnd: string;
  anomalies: { code: string; tool: string | null; metric: string; count: number; baseline: number; message: string }[];
}

/** Alerts of the anomaly detector (per agent and tool, against each agent's own baseline), newest first. */
export function AnomalyAlerts({ agent }: { agent?: string }) {
  const answer = useResource(() => api.get<{ alerts: AnomalyAlert[]; baseline: AnomalyBaseline }>('/v1/anomalies', { since: '7d', agent }), `anomalies-${agent ?? ''}`);
  const alerts = { ...answer, data: answer.data?.alerts };
  return (
    <div className="card" data-testid="anomaly-alerts">
      <h2>Anomaly alerts, last 7 days</h2>
      <p className="muted">
        Each agent's calls, blocks, approval requests and limit hits, per tool and in all, are compared every 5 minutes with that agent's own moving average; a count far in the tail is flagged,
        and so is a tool the agent never used before, and a tool whose reported calls suddenly fail far more often than they used to. Alerts also go to the notification channels.
      </p>
      {alerts.error ? <ErrorNotice error={alerts.error} /> : null}
      {alerts.loading ? <Loading what="Loading anomaly alerts" /> : null}
      {answer.data && answer.data.alerts.length === 0 ? (
        <p className="state empty" data-testid="anomaly-baseline">
          {baselineText(answer.data.baseline, agent).replace('No anomaly:', 'No anomaly in the last 7 days:')}
        </p>
      ) : null}
      {alerts.data && alerts.data.length > 0 ? (
        <table className="compact">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Agent</th>
              <th scope="col">What</th>
            </tr>
          </thead>
          <tbody>
            {alerts.data.map((alert) => (
              <tr key={alert.id} data-alert={alert.id}>
                <td className="small">{formatDateTime(alert.bucketStart)}</td>
                <td>
                  <Link to={`/fleet/${encodeURIComponent(alert.agent)}`}>{alert.agent}</Link>
                </td>
                <td>
                  <ul className="flags">
                    {alert.anomalies.map((anomaly, i) => (
                      <li key={i} className="flag">
                        <span aria-hidden="true">⚠</span> {anomaly.code === 'new_tool' ? 'New tool' : anomaly.code === 'failure_rate' ? 'Failures' : 'Spike'}: {anomaly.message}
                      </li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

/** Marks an agent whose calls are all refused by a pause (of the fleet, the agent or its role) or a quarantine. */
export function PausedFlag({ pause }: { pause: Pause | undefined }) {
  if (!pause) return null;
  return (
    <span className="badge paused-badge" data-testid="paused-flag" title={`${pause.reason} (by ${pause.createdBy})`}>
      {pause.kind === 'quarantine' ? 'Quarantined' : 'Paused'}
    </span>
  );
}

export function Flags({ agent, paused = false }: { agent: FleetAgent; paused?: boolean }) {
  if (agent.flags.length === 0) return <span className="muted">{paused ? '' : '—'}</span>;
  return (
    <ul className="flags">
      {agent.flags.map((flag) => (
        <li key={flag.code} className="flag" title={flag.message}>
          <span aria-hidden="true">⚠</span> {FLAG_LABEL[flag.code] ?? flag.code}
          <span className="visually-hidden">: {flag.message}</span>
        </li>
      ))}
    </ul>
  );
}
