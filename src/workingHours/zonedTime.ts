/**
 * Wall-clock time in an IANA time zone, from the platform's Intl data only: the zone's rules
 * (offsets, daylight-saving dates) are never written here, they are read from
 * `Intl.DateTimeFormat` for each instant asked about. Pure: no clock, no I/O.
 */

/** Local calendar date and time of an instant in a zone. `weekday` 0 is Monday … 6 Sunday. */
export interface WallTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly weekday: number;
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether the platform knows the zone (`Europe/Berlin` yes, `Mars/Olympus` no). */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall time of `instant` in `timeZone` (throws a RangeError for an unknown zone). */
export function wallTime(instant: number, timeZone: string): WallTime {
  const parts: Record<string, string> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instant))) parts[part.type] = part.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS.indexOf(parts.weekday ?? ''),
  };
}

/** The wall time's fields read as if they were UTC: a label to compare and step calendars with, not an instant. */
function wallLabel(w: Pick<WallTime, 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second'>): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/** How far the zone's wall clock is ahead of UTC at `instant`, as Intl reports it. */
function zoneLead(instant: number, timeZone: string): number {
  const whole = Math.floor(instant / 1000) * 1000;
  return wallLabel(wallTime(whole, timeZone)) - whole;
}

export interface LocalDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
}

/**
 * Every instant whose wall time in the zone is `local` (seconds 0): one on an ordinary day, none
 * when it falls in the hour skipped when clocks go forward, two in the hour repeated when they
 * go back. Candidates come from the zone's lead a day either side (a zone changes it at most
 * once a day) and are kept only if Intl shows `local` for them.
 */
export function instantsOf(local: LocalDateTime, timeZone: string): number[] {
  const label = wallLabel({ ...local, second: 0 });
  const found = new Set<number>();
  for (const probe of [label - 86_400_000, label, label + 86_400_000]) {
    const candidate = label - zoneLead(probe, timeZone);
    if (wallLabel(wallTime(candidate, timeZone)) === label) found.add(candidate);
  }
  return [...found].sort((a, b) => a - b);
}

/**
 * Instants in (from, to] where the zone's lead changes (daylight saving starts or ends), found by
 * bisection on Intl's answers to the millisecond. Assumes at most one change per `stepMs`.
 */
export function leadChanges(from: number, to: number, timeZone: string, stepMs = 6 * 3_600_000): number[] {
  const out: number[] = [];
  for (let start = from; start < to; start += stepMs) {
    const end = Math.min(to, start + stepMs);
    const before = zoneLead(start, timeZone);
    if (zoneLead(end, timeZone) === before) continue;
    let lo = start;
    let hi = end;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (zoneLead(mid, timeZone) === before) lo = mid;
      else hi = mid;
    }
    out.push(hi);
  }
  return out;
}

/** The calendar date `days` after the given one (proleptic Gregorian; no time zone involved). */
export function addDays(date: { readonly year: number; readonly month: number; readonly day: number }, days: number): { year: number; month: number; day: number } {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}
