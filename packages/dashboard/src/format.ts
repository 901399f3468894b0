/** Display formats: local times, relative times, durations, shares. */

const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const shortTime = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });
const dateTime = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const dayTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });

export function formatTime(value: string | number): string {
  return time.format(new Date(value));
}

export function formatDateTime(value: string | number): string {
  return dateTime.format(new Date(value));
}

/** Time of day for today, day and time otherwise. */
export function formatWhen(value: string | number, now = new Date()): string {
  const date = new Date(value);
  return date.toDateString() === now.toDateString() ? time.format(date) : dayTime.format(date);
}

/** Axis label of a bucket start: time of day for short buckets, day and time otherwise. */
export function formatBucket(value: string | number, bucketMs: number, spanMs: number): string {
  const date = new Date(value);
  if (spanMs <= 24 * 3_600_000 && bucketMs < 24 * 3_600_000) return shortTime.format(date);
  return dayTime.format(date);
}

/** Coarse durations for people: `45 s`, `14 min`, `3 h 20 min`, `2 d`. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60 ? `${minutes % 60} min` : ''}`.trim();
  return `${Math.floor(hours / 24)} d`;
}

export function formatRelative(value: string | number, now = Date.now()): string {
  const diff = now - new Date(value).getTime();
  if (Math.abs(diff) < 5000) return 'just now';
  return diff > 0 ? `${formatDuration(diff)} ago` : `in ${formatDuration(-diff)}`;
}

export function formatPercent(rate: number | null): string {
  if (rate === null || Number.isNaN(rate)) return '—';
  const percent = rate * 100;
  return `${percent > 0 && percent < 1 ? percent.toFixed(1) : Math.round(percent)} %`;
}

export function formatCount(value: number): string {
  return value.toLocaleString();
}

/** `1 call`, `2 calls`. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}

/** `require_approval` → `approval`: how effects read in tables. */
export const EFFECT_LABEL = { allow: 'allow', require_approval: 'approval', block: 'block' } as const;

/** The first arguments of a call as `key=value`, shortened, for one table cell. */
export function summarizeArgs(args: Record<string, unknown> | undefined, max = 3): string {
  if (!args) return '';
  const entries = Object.entries(args);
  const shown = entries.slice(0, max).map(([key, value]) => `${key}=${shorten(typeof value === 'string' ? value : JSON.stringify(value), 32)}`);
  if (entries.length > max) shown.push(`+${entries.length - max}`);
  return shown.join(' ');
}

export function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Hours and minutes: `10:42`. */
export function formatClock(value: string | number): string {
  return shortTime.format(new Date(value));
}

/** How each cause reads: what decided a call, or why it was refused. */
export const CAUSE_LABEL = {
  rule: 'rule',
  limit: 'limit',
  risk: 'risk tier',
  default: 'no matching rule (default)',
  paused: 'paused (kill switch)',
  invalid_arguments: 'invalid arguments',
  unknown_tool: 'unknown tool',
  no_policy: 'no policy for the role',
  evaluation_error: 'evaluation error',
} as const;
