import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from 'recharts';
import { EFFECTS, type Effect, type EffectCounts, type SeriesBucket, type ValueCount } from '../api/types';
import { EFFECT_LABEL, formatBucket, formatClock, formatDateTime, formatPercent } from '../format';
import { Link, navigate } from '../router';
import { EFFECT_COLOR } from './effect';

/** Where a click on a bar leads: the records behind it. */
type BucketLink = (effect: Effect, bucket: { start: string; end: string }) => string;

/** Decisions per time bucket, stacked by effect, with the numbers in a table for screen readers and keyboards. */
export function DecisionsChart({ series, bucketMs, height = 280, title, linkFor }: { series: SeriesBucket[]; bucketMs: number; height?: number; title: string; linkFor?: BucketLink }) {
  const span = series.length * bucketMs;
  const data = series.map((bucket) => ({ ...bucket, label: formatBucket(bucket.start, bucketMs, span) }));
  const end = (start: string): string => new Date(Date.parse(start) + bucketMs).toISOString();
  return (
    <figure className="chart" aria-label={title}>
      <BarChart responsive style={{ width: '100%', height }} data={data} margin={{ top: 8, right: 8, bottom: 0, left: -8 }} barCategoryGap={1}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="label" minTickGap={24} tick={{ fontSize: 12 }} />
        <YAxis allowDecimals={false} tick={{ fontSize: 12 }} width={48} />
        <Tooltip labelFormatter={(_, payload) => (payload[0]?.payload as SeriesBucket | undefined)?.start ? formatDateTime((payload[0]?.payload as SeriesBucket).start) : ''} />
        <Legend itemSorter={null} />
        {EFFECTS.map((effect) => (
          <Bar
            key={effect}
            dataKey={effect}
            name={EFFECT_LABEL[effect]}
            stackId="effects"
            fill={EFFECT_COLOR[effect]}
            isAnimationActive={false}
            className={linkFor ? `clickable bar-${effect}` : `bar-${effect}`}
            onClick={linkFor ? (item) => navigate(linkFor(effect, { start: (item.payload as SeriesBucket).start, end: end((item.payload as SeriesBucket).start) })) : undefined}
          />
        ))}
      </BarChart>
      {linkFor ? <p className="chart-hint muted small">Click a bar for its decisions in the feed.</p> : null}
      <details className="chart-data">
        <summary>Data table</summary>
        <table className="compact" data-testid="series-table">
          <thead>
            <tr>
              <th scope="col">From</th>
              {EFFECTS.map((effect) => (
                <th key={effect} scope="col" className="num">
                  {EFFECT_LABEL[effect]}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {series
              .filter((bucket) => bucket.allow + bucket.require_approval + bucket.block > 0)
              .map((bucket) => (
                <tr key={bucket.start}>
                  <td>{formatDateTime(bucket.start)}</td>
                  {EFFECTS.map((effect) => (
                    <td key={effect} className="num">
                      {linkFor && bucket[effect] > 0 ? <Link to={linkFor(effect, { start: bucket.start, end: end(bucket.start) })}>{bucket[effect]}</Link> : bucket[effect]}
                    </td>
                  ))}
                </tr>
              ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}

/** A ranked list as horizontal bars (top blocked tools, rules). */
export function TopBars<T extends ValueCount>({
  data,
  color,
  title,
  empty,
  measure = 'blocked',
  name = (row) => row.value ?? '(none)',
  linkFor,
}: {
  data: T[];
  color: string;
  title: string;
  empty: string;
  measure?: string;
  /** How a row reads (default: its value). */
  name?: (row: T) => string;
  /** The records behind a row. */
  linkFor?: (row: T) => string;
}) {
  if (data.length === 0) return <p className="state empty">{empty}</p>;
  const rows = data.map((row) => ({ name: name(row), count: row.count, href: linkFor?.(row) }));
  return (
    <figure className="chart" aria-label={title}>
      <BarChart responsive layout="vertical" style={{ width: '100%', height: 32 + rows.length * 30 }} data={rows} margin={{ top: 0, right: 24, bottom: 0, left: 8 }}>
        <XAxis type="number" allowDecimals={false} tick={{ fontSize: 12 }} />
        <YAxis type="category" dataKey="name" width={170} tick={{ fontSize: 12 }} />
        <Tooltip />
        <Bar
          dataKey="count"
          name={measure}
          fill={color}
          isAnimationActive={false}
          label={{ position: 'right', fontSize: 12 }}
          className={linkFor ? 'clickable' : undefined}
          onClick={linkFor ? (item) => navigate((item.payload as { href: string }).href) : undefined}
        />
      </BarChart>
      {linkFor ? (
        <figcaption className="visually-hidden">
          <ul>
            {rows.map((row) => (
              <li key={row.name}>
                <Link to={row.href as string}>
                  {row.name}: {row.count}
                </Link>
              </li>
            ))}
          </ul>
        </figcaption>
      ) : null}
    </figure>
  );
}

/** Decisions per environment, stacked by effect. */
export function EnvironmentChart({ data, linkFor }: { data: ({ environment: string } & EffectCounts)[]; linkFor?: (environment: string, effect: Effect) => string }) {
  if (data.length === 0) return <p className="state empty">No decisions in this range.</p>;
  return (
    <figure className="chart" aria-label="Decisions per environment">
      <BarChart responsive layout="vertical" style={{ width: '100%', height: 60 + data.length * 36 }} data={data} margin={{ top: 0, right: 24, bottom: 0, left: 8 }}>
        <XAxis type="number" allowDecimals={false} tick={{ fontSize: 12 }} />
        <YAxis type="category" dataKey="environment" width={100} tick={{ fontSize: 12 }} />
        <Tooltip />
        <Legend itemSorter={null} />
        {EFFECTS.map((effect) => (
          <Bar
            key={effect}
            dataKey={effect}
            name={EFFECT_LABEL[effect]}
            stackId="env"
            fill={EFFECT_COLOR[effect]}
            isAnimationActive={false}
            className={linkFor ? 'clickable' : undefined}
            onClick={linkFor ? (item) => navigate(linkFor((item.payload as { environment: string }).environment, effect)) : undefined}
          />
        ))}
      </BarChart>
    </figure>
  );
}

/**
 * Blocked share per hour over the last 24 hours: one column per hour, its height the blocked share,
 * a grey tick for an hour without decisions; hover (or the accessible name) gives each hour's counts.
 */
export function BlockedTrend({ trend, label }: { trend: { start: string; total: number; blocked: number }[]; label: string }) {
  const latest = [...trend].reverse().find((point) => point.total > 0);
  const first = trend[0];
  return (
    <span className="trend" role="img" aria-label={`${label}: latest hourly blocked rate ${formatPercent(latest ? latest.blocked / latest.total : null)}`} data-testid="blocked-trend">
      <span className="trend-bars">
        {trend.map((point) => {
          const rate = point.total === 0 ? null : point.blocked / point.total;
          return (
            <span
              key={point.start}
              className={rate === null ? 'trend-hour empty' : rate === 0 ? 'trend-hour zero' : 'trend-hour'}
              title={`${formatClock(point.start)}: ${rate === null ? 'no decisions' : `${point.blocked} of ${point.total} blocked (${formatPercent(rate)})`}`}
            >
              <span className="trend-fill" style={{ height: rate === null ? undefined : `${Math.max(10, rate * 100)}%` }} />
            </span>
          );
        })}
      </span>
      <span className="trend-axis" aria-hidden="true">
        <span title={first ? formatDateTime(first.start) : undefined}>{trend.length} h ago</span>
        <span>now</span>
      </span>
    </span>
  );
}

/** Effect mix as one proportional bar. */
export function MixBar({ mix }: { mix: EffectCounts }) {
  const total = mix.allow + mix.require_approval + mix.block;
  if (total === 0) return <span className="muted">no decisions</span>;
  return (
    <span className="mix" role="img" aria-label={EFFECTS.map((e) => `${EFFECT_LABEL[e]} ${mix[e]}`).join(', ')}>
      {EFFECTS.filter((effect) => mix[effect] > 0).map((effect) => (
        <span key={effect} className={`mix-part effect-bg-${effect}`} style={{ flexGrow: mix[effect] }} title={`${EFFECT_LABEL[effect]}: ${mix[effect]}`}>
          {mix[effect]}
        </span>
      ))}
    </span>
  );
}
