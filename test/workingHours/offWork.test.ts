import { describe, expect, it } from 'vitest';
import { OffWorkPreference } from '../../src/workingHours/offWorkPreference.js';
import type { UserHours } from '../../src/workingHours/schema.js';
import { Harness, HOUR, MINUTE } from '../helpers/harness.js';
import { capturingLogger } from '../helpers/logger.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';

// The harness clock starts Mon 5 Jan 2026 09:00 UTC: 10:00 in Berlin, inside the window.
const HOURS: UserHours = {
  timeZone: 'Europe/Berlin',
  windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }],
  outside: 'clear',
  preferOutside: 'Offline/OffWork',
};

async function rig(cleanups: (() => Promise<unknown>)[], graph: Record<string, unknown> = {}) {
  const harness = await Harness.create({ graph });
  cleanups.push(() => harness.close());
  const logger = capturingLogger();
  const part = new OffWorkPreference(new Map([['u0', HOURS]]), { bridge: harness.bridge, events: harness.bridge.events, clock: harness.clock, logger });
  cleanups.push(() => part.stop());
  await part.start();
  await harness.settle();
  return { harness, part, logger };
}

function preferCalls(harness: Harness): string[] {
  return harness.emulator
    .requestLog()
    // a 401 for a token that expired overnight is answered by a new token and the same call again
    .filter((e) => /UserPreferredPresence$/.test(e.route) && e.status !== 401)
    .map((e) => {
      const body = (e.body ?? {}) as { availability?: string; activity?: string; expirationDuration?: string };
      return e.route.endsWith('/setUserPreferredPresence') ? `set ${body.availability}/${body.activity} ${body.expirationDuration} ${e.status}` : `clear ${e.status}`;
    });
}

describe('appear offline after work (Graph preferred presence on the emulator, ManualClock)', () => {
  const cleanups = cleanupAfterEach();

  it('sets Offline/OffWork when the window closes, expiring at the next opening, and withdraws it then', async () => {
    const { harness, part } = await rig(cleanups);
    expect(preferCalls(harness)).toEqual([]);
    await harness.advance(7 * HOUR - 1000); // Mon 16:59:59 Berlin
    expect(preferCalls(harness)).toEqual([]);
    await harness.advance(1000); // 17:00: closed until Tue 09:00 Berlin, 16 h
    expect(preferCalls(harness)).toEqual(['set Offline/OffWork PT960M 200']);
    expect(harness.emulator.preferredOf(harness.userId('u0'))).toMatchObject({ availability: 'Offline', activity: 'OffWork' });
    expect(part.holds('u0')).toBe(true);
    await harness.advance(16 * HOUR);
    expect(preferCalls(harness)).toEqual(['set Offline/OffWork PT960M 200', 'clear 200']);
    expect(harness.emulator.preferredOf(harness.userId('u0'))).toBeNull();
    expect(part.holds('u0')).toBe(false);
  });

  it('leaves alone a preferred presence the user set themselves', async () => {
    const { harness, logger } = await rig(cleanups, { pollSeconds: 60 });
    await harness.signal('desk', 'busy');
    harness.emulator.setPreferred(harness.userId('u0'), { availability: 'DoNotDisturb', activity: 'DoNotDisturb' });
    await harness.advance(2 * MINUTE); // read-back shows the user's own preference
    expect(harness.bridge.state('u0')?.actualFrom).toBe('preferred');
    await harness.advance(7 * HOUR); // the window closed at 17:00
    expect(preferCalls(harness)).toEqual([]);
    expect(logger.texts().some((l) => l.includes('the user set a preferred presence; not changing it'))).toBe(true);
    await harness.advance(16 * HOUR); // the next window opened: nothing of ours to withdraw
    expect(preferCalls(harness)).toEqual([]);
    expect(harness.emulator.preferredOf(harness.userId('u0'))).toMatchObject({ availability: 'DoNotDisturb' });
  });

  it('tries again while the window is closed when Graph refuses', async () => {
    const { harness, logger } = await rig(cleanups);
    harness.emulator.injectFault({ kind: 'status', status: 503, count: 100, path: `/v1.0/users/${harness.userId('u0')}/presence/setUserPreferredPresence` });
    await harness.advance(7 * HOUR + MINUTE); // Graph's own retries ran out
    expect(logger.texts().some((l) => l.startsWith('warn u0: could not set Offline/OffWork'))).toBe(true);
    expect(preferCalls(harness).every((c) => c.endsWith(' 503'))).toBe(true);
    harness.emulator.clearFaults();
    await harness.advance(5 * MINUTE);
    expect(preferCalls(harness).at(-1)).toMatch(/^set Offline\/OffWork PT95\dM 200$/);
  });
});
