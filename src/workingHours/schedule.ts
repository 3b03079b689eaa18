import { addDays, instantsOf, leadChanges, wallTime } from './zonedTime.js';

/** Days as written in the config; index 0 is Monday, as in {@link wallTime}. */
export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];

export interface HoursWindow {
  readonly days: readonly Day[];
  /** `HH:MM`, local wall time. */
  readonly from: string;
  /** `HH:MM` (or `24:00`); earlier than `from` means the window ends the next day. */
  readonly to: string;
}

/** A weekly schedule in one zone (the part of the config the pure functions need). */
export interface WeeklyHours {
  readonly timeZone: string;
  readonly windows: readonly HoursWindow[];
}

const DAY_MS = 86_400_000;
/** How far ahead an edge is looked for: a week plus a day either side covers any weekly window. */
const HORIZON_DAYS = 9;

export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

function dayIndex(day: Day): number {
  return DAYS.indexOf(day);
}

/**
 * Whether `instant` falls in a window, judged by the wall clock of the zone: a window is open
 * from its `from` minute up to, not including, its `to` minute. A window that crosses midnight
 * belongs to the day it starts on. On the night clocks go back the repeated hour counts twice,
 * like the wall clock shows it; in the hour skipped in spring, a window edge inside it takes
 * effect when the clock jumps.
 */
export function isOpenAt(hours: WeeklyHours, instant: number): boolean {
  const w = wallTime(instant, hours.timeZone);
  const minute = w.hour * 60 + w.minute;
  const yesterday = (w.weekday + 6) % 7;
  for (const window of hours.windows) {
    const from = minutesOf(window.from);
    const to = minutesOf(window.to);
    const today = window.days.some((d) => dayIndex(d) === w.weekday);
    if (from < to) {
      if (today && minute >= from && minute < to) return true;
    } else {
      if (today && minute >= from) return true;
      if (window.days.some((d) => dayIndex(d) === yesterday) && minute < to) return true;
    }
  }
  return false;
}

/**
 * The first instant after `now` at which {@link isOpenAt} changes, or null when it never does
 * (no windows, or windows that cover the whole week). Candidates are every window edge on every
 * local date of the coming week, converted to instants through Intl (none or two on the nights
 * clocks change), and the instants where the zone's offset changes (for edges that fall in the
 * skipped hour); the first candidate whose answer differs from now's is the next change.
 */
export function nextChangeAfter(hours: WeeklyHours, now: number): number | null {
  const open = isOpenAt(hours, now);
  const edges = new Set<number>();
  for (const window of hours.windows) {
    edges.add(minutesOf(window.from) % 1440);
    edges.add(minutesOf(window.to) % 1440);
  }
  const today = wallTime(now, hours.timeZone);
  const candidates: number[] = [];
  for (let k = -1; k <= HORIZON_DAYS; k++) {
    const date = addDays(today, k);
    for (const edge of edges) {
      for (const instant of instantsOf({ ...date, hour: Math.floor(edge / 60), minute: edge % 60 }, hours.timeZone)) {
        if (instant > now) candidates.push(instant);
      }
    }
  }
  candidates.push(...leadChanges(now, now + (HORIZON_DAYS + 1) * DAY_MS, hours.timeZone));
  candidates.sort((a, b) => a - b);
  for (const candidate of candidates) {
    if (candidate > now && isOpenAt(hours, candidate) !== open) return candidate;
  }
  return null;
}
