import { useState } from 'react';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const PRESETS = [
  { id: '15m', label: '15 min', ms: 15 * MINUTE },
  { id: '1h', label: '1 hour', ms: HOUR },
  { id: '6h', label: '6 hours', ms: 6 * HOUR },
  { id: '24h', label: '24 hours', ms: 24 * HOUR },
  { id: '7d', label: '7 days', ms: 7 * 24 * HOUR },
] as const;

/** A preset ending now (live), or a fixed custom range. */
export type TimeRange = { kind: 'preset'; id: (typeof PRESETS)[number]['id'] } | { kind: 'custom'; from: string; to: string };

/** Every view opens on the last 24 hours. */
export const DEFAULT_RANGE = { kind: 'preset', id: '24h' } as const satisfies TimeRange;

/** The range in a page URL: `range=<preset>`, or `from` and `to` (ISO 8601) for a custom one. */
export function rangeFromSearch(search: URLSearchParams): TimeRange {
  const from = search.get('from');
  const to = search.get('to');
  if (from && to && Number.isFinite(Date.parse(from)) && Number.isFinite(Date.parse(to))) return { kind: 'custom', from: localInput(Date.parse(from)), to: localInput(Date.parse(to)) };
  const preset = PRESETS.find((p) => p.id === search.get('range'));
  return preset ? { kind: 'preset', id: preset.id } : DEFAULT_RANGE;
}

export function rangeToSearch(range: TimeRange): Record<string, string | undefined> {
  if (range.kind === 'custom') return { range: undefined, from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString() };
  return { range: range.id === DEFAULT_RANGE.id ? undefined : range.id, from: undefined, to: undefined };
}

/** The range as API query parameters; presets end at the moment they are asked. */
export function rangeQuery(range: TimeRange, now = Date.now()): { from: string; to: string } {
  if (range.kind === 'custom') return { from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString() };
  const preset = PRESETS.find((p) => p.id === range.id) ?? PRESETS[1];
  return { from: new Date(now - preset.ms).toISOString(), to: new Date(now).toISOString() };
}

export function rangeKey(range: TimeRange): string {
  return range.kind === 'preset' ? range.id : `${range.from}/${range.to}`;
}

/** `datetime-local` value of a time, in local time. */
export function localInput(ms: number): string {
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * MINUTE);
  return date.toISOString().slice(0, 16);
}

export function TimeRangePicker({ value, onChange }: { value: TimeRange; onChange(range: TimeRange): void }) {
  const [customOpen, setCustomOpen] = useState(value.kind === 'custom');
  const [from, setFrom] = useState(() => (value.kind === 'custom' ? value.from : localInput(Date.now() - HOUR)));
  const [to, setTo] = useState(() => (value.kind === 'custom' ? value.to : localInput(Date.now())));
  const invalid = !from || !to || new Date(from).getTime() >= new Date(to).getTime();
  return (
    <div className="range-picker" role="group" aria-label="Time range">
      {PRESETS.map((preset) => (
        <button
          key={preset.id}
          type="button"
          className={value.kind === 'preset' && value.id === preset.id ? 'chip selected' : 'chip'}
          aria-pressed={value.kind === 'preset' && value.id === preset.id}
          onClick={() => {
            setCustomOpen(false);
            onChange({ kind: 'preset', id: preset.id });
          }}
        >
          {preset.label}
        </button>
      ))}
      <button type="button" className={value.kind === 'custom' ? 'chip selected' : 'chip'} aria-pressed={value.kind === 'custom'} aria-expanded={customOpen} onClick={() => setCustomOpen((open) => !open)}>
        Custom…
      </button>
      {customOpen ? (
        <form
          className="custom-range"
          onSubmit={(event) => {
            event.preventDefault();
            if (!invalid) onChange({ kind: 'custom', from, to });
          }}
        >
          <label>
            From <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} required />
          </label>
          <label>
            To <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} required />
          </label>
          <button type="submit" disabled={invalid}>
            Apply
          </button>
        </form>
      ) : null}
    </div>
  );
}
