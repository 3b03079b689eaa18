import { afterEach, describe, expect, it } from 'vitest';
import { Harness, MINUTE } from '../helpers/harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Minutes between successive successful setPresence calls, rounded to the second. */
function gaps(h: Harness): number[] {
  const times = h.calls().filter((c) => c.call === 'set Available/Available' && c.status === 200).map((c) => c.t);
  return times.slice(1).map((t, i) => Math.round((t - times[i]!) * 60) / 60);
}

describe('adaptive Available renewal margin, against the emulator on a moved clock', () => {
  it('renews 45 s before the fade while calls are healthy, 90 s before for 15 min after a 503, then narrows again; never fades', async () => {
    harness = await Harness.create();
    const h = harness;
    await h.signal('desk', 'free');
    const watch = async (minutes: number) => {
      for (let i = 0; i < minutes * 2; i++) {
        await h.advance(MINUTE / 2);
        expect(h.presenceOf()).toBe('Available/Available');
      }
    };
    await watch(30);
    // first renewal at 0.75 of the interval (random 0.5), then every 4 min 15 s
    expect(gaps(h)).toEqual([0.75 * 4.25, ...Array<number>(6).fill(4.25)].map((m) => Math.round(m * 60) / 60));

    // one 503 on the next renewal: it is retried at once, and the margin widens for all renewals after it
    const before = gaps(h).length;
    h.emulator.injectFault({ kind: 'status', status: 503, count: 1 });
    await watch(20);
    const failed = h.calls().filter((c) => c.status === 503);
    expect(failed).toHaveLength(1);
    const after = gaps(h).slice(before);
    // the failed renewal's retry (backoff 0.5–1 s) lands within seconds of it: a gap of ~4 min 15 s,
    // then every 3 min 30 s or less while the trouble is recent (15 min after the 503), then 4 min 15 s again
    expect(after[0]).toBeGreaterThan(4.25);
    expect(after[0]).toBeLessThanOrEqual(4.25 + 2 / 60);
    // (90 s or a little more: the margin also counts the failed call's own time)
    const wide = after.slice(1).filter((g) => g <= 3.5 && g >= 2.5);
    expect(wide.length).toBeGreaterThanOrEqual(4);
    expect(after.slice(1, 1 + wide.length)).toEqual(wide);
    await watch(20);
    expect(gaps(h).slice(-3)).toEqual([4.25, 4.25, 4.25]);
    expect(h.bridge.state('u0')?.health).toBe('ok');
  });

  it('the user state reports the renewal at the adaptive time', async () => {
    harness = await Harness.create();
    const h = harness;
    await h.signal('desk', 'free');
    await h.advance(5 * MINUTE); // past the first (spread) renewal
    const s = h.bridge.state('u0')!;
    const lastSet = h.calls().filter((c) => c.call === 'set Available/Available').at(-1)!;
    expect(s.nextRenewalAt).toBe(h.startedAt + Math.round(lastSet.t * MINUTE) + 4 * MINUTE + 15_000);
  });
});
