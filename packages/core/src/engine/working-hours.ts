import type { HoursSignalDocument } from '../policy/document.js';

const WEEKDAY_INDEX: Readonly<Record<string, number>> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

/** One formatter per time zone: building an Intl.DateTimeFormat costs far more than using one. */
const FORMATTERS = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = FORMATTERS.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    FORMATTERS.set(timeZone, formatter);
  }
  return formatter;
}

function minutesOf(clock: string): number {
  return Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));
}

/**
 * A working-hours signal (`signals.hours` in a policy): whether a moment falls on one of the days,
 * between `from` (inclusive) and `to` (exclusive), as a wall clock in the signal's time zone reads
 * it. Daylight saving comes from the platform's time zone data (Intl), not from a fixed offset.
 */
export class WorkingHours {
  readonly id: string;
  private readonly timeZone: string;
  private readonly days: ReadonlySet<number>;
  private readonly from: number;
  private readonly to: number;

  constructor(signal: Pick<HoursSignalDocument, 'id' | 'timezone' | 'days' | 'from' | 'to'>) {
    this.id = signal.id;
    this.timeZone = signal.timezone;
    this.days = new Set(signal.days.map((day) => WEEKDAY_INDEX[day] as number));
    this.from = minutesOf(signal.from);
    this.to = minutesOf(signal.to);
  }

  /** The weekday (0 = Sunday) and minute of the day at `atMs`, in the signal's time zone. */
  localTime(atMs: number): { weekday: number; minute: number } {
    let weekday = 0;
    let hour = 0;
    let minute = 0;
    for (const part of formatterFor(this.timeZone).formatToParts(atMs)) {
      if (part.type === 'weekday') weekday = WEEKDAY_INDEX[part.value.toLowerCase()] ?? 0;
      else if (part.type === 'hour') hour = Number(part.value);
      else if (part.type === 'minute') minute = Number(part.value);
    }
    return { weekday, minute: hour * 60 + minute };
  }

  contains(atMs: number): boolean {
    const local = this.localTime(atMs);
    return this.days.has(local.weekday) && local.minute >= this.from && local.minute < this.to;
  }
}
