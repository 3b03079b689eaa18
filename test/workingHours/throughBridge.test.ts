import { afterEach, describe, expect, it } from 'vitest';
import { FEATURES } from '../../src/features.js';
import { GATE_NAME, OUTSIDE_NOTE } from '../../src/workingHours/index.js';
import { Harness, MINUTE } from '../helpers/harness.js';

/*
 * Working hours through the real core (the registry's gate, a bridge on the emulator, the moved
 * clock): a press after hours asserts nothing and says why; the window opening lets the held
 * press through with no new input; an exempt input works at any hour.
 */

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const ALL_DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** HH:MM in UTC of `ms`. */
function hhmm(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}

/** A working-hours block (UTC) whose one daily window opens `opensIn` after `now` (on a whole minute) and lasts 8 h. */
function hoursOpeningIn(now: number, opensIn: number): { opensAt: number; block: Record<string, unknown> } {
  const opensAt = Math.ceil((now + opensIn) / MINUTE) * MINUTE;
  return { opensAt, block: { timeZone: 'UTC', windows: [{ days: ALL_DAYS, from: hhmm(opensAt), to: hhmm(opensAt + 8 * 60 * MINUTE) }] } };
}

async function harnessWithHours(exemptHeadset: boolean): Promise<{ h: Harness; opensAt: number }> {
  const probe = await Harness.create({ start: false });
  const now = probe.clock.now();
  await probe.close();
  const { opensAt, block } = hoursOpeningIn(now, 30 * MINUTE);
  const workingHours = FEATURES.filter((f) => f.name === 'workingHours');
  const h = await Harness.create({
    start: false,
    features: workingHours,
    config: {
      workingHours: block,
      inputs: [
        { type: 'mqtt', name: 'desk', topic: 'desk/button', user: 'u0', map: { busy: 'Busy/InACall', off: 'clear' } },
        { type: 'serial', name: 'headset', path: '/dev/null', user: 'u0', map: { OFFHOOK: 'DoNotDisturb/Presenting', ONHOOK: 'clear' }, ...(exemptHeadset ? { workingHoursExempt: true } : {}) },
      ],
    },
  });
  // the emulator's clock starts where the probe's did: shift the window by the difference
  const shift = h.clock.now() - now;
  await h.bridge.start();
  await h.settle();
  return { h, opensAt: opensAt + shift };
}

describe('working hours through the bridge (issue 18, the gate of issue 17)', () => {
  it('a press after hours asserts nothing and says why; the window opening lets it through with no new input', async () => {
    const { h, opensAt } = await harnessWithHours(false);
    harness = h;
    await h.signal('desk', 'busy');
    expect(h.callNames()).toEqual([]);
    expect(h.bridge.state('u0')).toMatchObject({ desired: null, gated: { gate: GATE_NAME, note: OUTSIDE_NOTE } });
    expect(h.bridge.activeIntents('u0').map((i) => i.input)).toEqual(['desk']);

    await h.advance(opensAt - h.clock.now() - 1);
    expect(h.callNames()).toEqual([]);
    await h.advance(1);
    expect(h.callNames()).toEqual(['set Busy/InACall']);
    expect(h.bridge.state('u0')).toMatchObject({ desired: { availability: 'Busy', activity: 'InACall' }, gated: null });
  });

  it('an exempt input works outside hours while the others are held back', async () => {
    const { h } = await harnessWithHours(true);
    harness = h;
    await h.signal('desk', 'busy');
    await h.signal('headset', 'OFFHOOK');
    expect(h.callNames()).toEqual(['set DoNotDisturb/Presenting']);
    expect(h.presenceOf()).toBe('DoNotDisturb/Presenting');
    await h.signal('headset', 'ONHOOK');
    await h.advance(MINUTE);
    expect(h.callNames()).toEqual(['set DoNotDisturb/Presenting', 'clear']);
    expect(h.bridge.state('u0')).toMatchObject({ desired: null, gated: { gate: GATE_NAME, note: OUTSIDE_NOTE } });
  });
});
