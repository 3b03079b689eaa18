import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock.js';
import { isOpenAt, nextChangeAfter, type WeeklyHours } from '../../src/workingHours/schedule.js';
import { instantsOf, leadChanges } from '../../src/workingHours/zonedTime.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

const officeHours = (timeZone: string, from = '09:00', to = '17:00'): WeeklyHours => ({
  timeZone,
  windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from, to }],
});

/**
 * Each row walks a ManualClock from `start` along the edges nextChangeAfter returns and expects
 * exactly these instants (UTC), so a wrong offset on either side of a DST change shows up.
 */
const WALKS: { name: string; hours: WeeklyHours; start: string; edges: string[] }[] = [
  {
    name: 'Berlin office week across spring forward (Sun 29 Mar 2026): Monday opens at 07:00Z, not 08:00Z',
    hours: officeHours('Europe/Berlin'),
    start: '2026-03-27T17:00:00Z', // Fri 18:00 CET, closed
    edges: ['2026-03-30T07:00:00.000Z', '2026-03-30T15:00:00.000Z', '2026-03-31T07:00:00.000Z'],
  },
  {
    name: 'Berlin office week across fall back (Sun 25 Oct 2026): Monday opens at 08:00Z',
    hours: officeHours('Europe/Berlin'),
    start: '2026-10-23T16:00:00Z', // Fri 18:00 CEST
    edges: ['2026-10-26T08:00:00.000Z', '2026-10-26T16:00:00.000Z'],
  },
  {
    name: 'New York office week across spring forward (Sun 8 Mar 2026)',
    hours: officeHours('America/New_York'),
    start: '2026-03-06T22:00:00Z', // Fri 17:00 EST, the close edge itself
    edges: ['2026-03-09T13:00:00.000Z', '2026-03-09T21:00:00.000Z'],
  },
  {
    name: 'New York office week across fall back (Sun 1 Nov 2026)',
    hours: officeHours('America/New_York'),
    start: '2026-10-30T21:00:00Z', // Fri 17:00 EDT
    edges: ['2026-11-02T14:00:00.000Z', '2026-11-02T22:00:00.000Z'],
  },
  {
    name: 'New York Saturday night shift crossing midnight and the DST change: 7 hours long',
    hours: { timeZone: 'America/New_York', windows: [{ days: ['sat'], from: '22:00', to: '06:00' }] },
    start: '2026-03-07T12:00:00Z',
    edges: ['2026-03-08T03:00:00.000Z', '2026-03-08T10:00:00.000Z', '2026-03-15T02:00:00.000Z'],
  },
  {
    name: 'Kolkata (+05:30, a half-hour zone) 09:30-18:00',
    hours: officeHours('Asia/Kolkata', '09:30', '18:00'),
    start: '2026-01-05T00:00:00Z', // Mon 05:30 IST
    edges: ['2026-01-05T04:00:00.000Z', '2026-01-05T12:30:00.000Z', '2026-01-06T04:00:00.000Z'],
  },
  {
    name: 'Adelaide (half-hour zone with DST) across spring forward (Sun 4 Oct 2026)',
    hours: officeHours('Australia/Adelaide'),
    start: '2026-10-02T07:30:00Z', // Fri 17:00 ACST
    edges: ['2026-10-04T22:30:00.000Z', '2026-10-05T06:30:00.000Z'],
  },
  {
    name: 'Berlin window whose start falls in the skipped hour opens when the clock jumps',
    hours: { timeZone: 'Europe/Berlin', windows: [{ days: ['sun'], from: '02:30', to: '04:00' }] },
    start: '2026-03-28T12:00:00Z',
    edges: ['2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z', '2026-04-05T00:30:00.000Z'],
  },
  {
    name: 'Berlin window in the repeated hour follows the wall clock: 02:00-02:30 happens twice',
    hours: { timeZone: 'Europe/Berlin', windows: [{ days: ['sun'], from: '01:00', to: '02:30' }] },
    start: '2026-10-24T12:00:00Z',
    edges: ['2026-10-24T23:00:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-25T01:00:00.000Z', '2026-10-25T01:30:00.000Z'],
  },
  {
    name: 'a window to 24:00 ends at local midnight',
    hours: { timeZone: 'Europe/Berlin', windows: [{ days: ['mon'], from: '20:00', to: '24:00' }] },
    start: '2026-01-05T12:00:00Z',
    edges: ['2026-01-05T19:00:00.000Z', '2026-01-05T23:00:00.000Z'],
  },
];

describe('working hours schedule (Intl time zones, on a ManualClock)', () => {
  it.each(WALKS)('$name', async ({ hours, start, edges }) => {
    const clock = new ManualClock(at(start));
    const seen: (string | null)[] = [];
    let open = isOpenAt(hours, clock.now());
    for (let i = 0; i < edges.length; i++) {
      const next = nextChangeAfter(hours, clock.now());
      seen.push(iso(next));
      if (next === null) break;
      expect(isOpenAt(hours, next - 1000)).toBe(open);
      await clock.advanceTo(next);
      open = isOpenAt(hours, clock.now());
    }
    expect(seen).toEqual(edges);
  });

  it('judges instants inside and outside windows by the local wall clock', () => {
    const berlin = officeHours('Europe/Berlin');
    expect(isOpenAt(berlin, at('2026-01-05T08:00:00Z'))).toBe(true); // Mon 09:00 CET
    expect(isOpenAt(berlin, at('2026-01-05T07:59:59Z'))).toBe(false);
    expect(isOpenAt(berlin, at('2026-01-05T16:00:00Z'))).toBe(false); // 17:00 is the end, exclusive
    expect(isOpenAt(berlin, at('2026-07-06T07:00:00Z'))).toBe(true); // Mon 09:00 CEST
    expect(isOpenAt(berlin, at('2026-01-10T10:00:00Z'))).toBe(false); // Saturday
    const night = { timeZone: 'America/New_York', windows: [{ days: ['fri' as const], from: '22:00', to: '06:00' }] };
    expect(isOpenAt(night, at('2026-01-10T05:00:00Z'))).toBe(true); // Sat 00:00 EST belongs to Friday's window
    expect(isOpenAt(night, at('2026-01-11T05:00:00Z'))).toBe(false); // Sun 00:00: Saturday has no window
  });

  it('never changes without windows, or with windows covering the whole week', () => {
    expect(nextChangeAfter({ timeZone: 'Europe/Berlin', windows: [] }, at('2026-03-27T12:00:00Z'))).toBeNull();
    const always: WeeklyHours = { timeZone: 'Europe/Berlin', windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00' }] };
    expect(isOpenAt(always, at('2026-03-29T01:30:00Z'))).toBe(true);
    expect(nextChangeAfter(always, at('2026-03-27T12:00:00Z'))).toBeNull();
  });

  it('finds none, one or two instants for a wall time, as the zone has them', () => {
    expect(instantsOf({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, 'Europe/Berlin')).toEqual([]);
    expect(instantsOf({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, 'Europe/Berlin').map(iso)).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']);
    expect(instantsOf({ year: 2026, month: 1, day: 5, hour: 9, minute: 30 }, 'Asia/Kolkata').map(iso)).toEqual(['2026-01-05T04:00:00.000Z']);
    expect(leadChanges(at('2026-03-01T00:00:00Z'), at('2026-03-31T00:00:00Z'), 'America/New_York').map(iso)).toEqual(['2026-03-08T07:00:00.000Z']);
  });
});
