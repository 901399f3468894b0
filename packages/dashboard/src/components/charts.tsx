import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from 'recharts';
import { EFFECTS, type EffectCounts, type SeriesBucket, type ValueCount } from '../api/types';
import { EFFECT_LABEL, formatBucket, formatDateTime, formatPercent } from '../format';
import { EFFECT_COLOR } from './effect';

/** Decisions per time bucket, stacked by effect, with the numbers in a table for screen readers and keyboards. */
export function DecisionsChart({ series, bucketMs, height = 280, title }: { series: SeriesBucket[]; bucketMs: number; height?: number; title: string }) {
  const span = series.length * bucketMs;
  const data = series.map((bucket) => ({ ...bucket, label: formatBucket(bucket.start, bucketMs, span) }));
  return (
    <figure className="chart" aria-label={title}>
      <BarChart responsive style={{ width: '100%', height }} data={data} margin={{ top: 8, right: 8, bottom: 0, left: -8 }} barCategoryGap={1}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="label" minTickGap={24} tick={{ fontSize: 12 }} />
        <YAxis allowDecimals={false} tick={{ fontSize: 12 }} width={48} />
        <Tooltip labelFormatter={(_, payload) => (payload[0]?.payload as SeriesBucket | undefined)?.start ? formatDateTime((payload[0]?.payload as SeriesBucket).start) : ''} />
        <Legend itemSorter={null} />
        {EFFECTS.map((effect) => (
          <Bar key={effect} dataKey={effect} name={EFFECT_LABEL[effect]} stackId="effects" fill={EFFECT_COLOR[effect]} isAnimationActive={false} />
        ))}
      </BarChart>
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
                      {bucket[effect]}
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
export function TopBars({ data, color, title, empty, measure = 'blocked' }: { data: ValueCount[]; color: string; title: string; empty: string; measure?: string }) {
  if (data.length === 0) return <p className="state empty">{empty}</p>;
  const rows = data.map((row) => ({ name: row.value ?? '(default / error)', count: row.count }));
  return (
    <figure className="chart" aria-label={title}>
      <BarChart responsive layout="vertical" style={{ width: '100%', height: 32 + rows.length * 30 }} data={rows} margin={{ top: 0, right: 24, bottom: 0, left: 8 }}>
        <XAxis type="number" allowDecimals={false} tick={{ fontSize: 12 }} />
        <YAxis type="category" dataKey="name" width={170} tick={{ fontSize: 12 }} />
        <Tooltip />
        <Bar dataKey="count" name={measure} fill={color} isAnimationActive={false} label={{ position: 'right', fontSize: 12 }} />
      </BarChart>
    </figure>
  );
}

/** Decisions per environment, stacked by effect. */
export function EnvironmentChart({ data }: { data: ({ environment: string } & EffectCounts)[] }) {
  if (data.length === 0) return <p className="state empty">No decisions in this range.</p>;
  return (
    <figure className="chart" aria-label="Decisions per environment">
      <BarChart responsive layout="vertical" style={{ width: '100%', height: 60 + data.length * 36 }} data={data} margin={{ top: 0, right: 24, bottom: 0, left: 8 }}>
        <XAxis type="number" allowDecimals={false} tick={{ fontSize: 12 }} />
        <YAxis type="category" dataKey="environment" width={100} tick={{ fontSize: 12 }} />
        <Tooltip />
        <Legend itemSorter={null} />
        {EFFECTS.map((effect) => (
          <Bar key={effect} dataKey={effect} name={EFFECT_LABEL[effect]} stackId="env" fill={EFFECT_COLOR[effect]} isAnimationActive={false} />
        ))}
      </BarChart>
    </figure>
  );
}

/** Blocked share per hour as small bars; grey slots are hours without decisions. */
export function BlockedTrend({ trend, label }: { trend: { start: string; total: number; blocked: number }[]; label: string }) {
  const data = trend.map((point) => ({ start: point.start, rate: point.total === 0 ? 0 : point.blocked / point.total }));
  const latest = [...trend].reverse().find((point) => point.total > 0);
  return (
    <span className="sparkline" role="img" aria-label={`${label}: latest hourly blocked rate ${formatPercent(latest ? latest.blocked / latest.total : null)}`}>
      <BarChart width={144} height={28} data={data} margin={{ top: 2, right: 0, bottom: 2, left: 0 }} barCategoryGap={1}>
        <YAxis hide domain={[0, 1]} />
        <Bar dataKey="rate" fill={EFFECT_COLOR.block} background={{ fill: '#edf2f7' }} isAnimationActive={false} />
      </BarChart>
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
