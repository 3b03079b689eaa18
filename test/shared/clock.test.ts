import { afterEach, describe, expect, it } from 'vitest';
import { MAX_TIMER_DELAY_MS, createSystemClock, nextTimerStep } from '../../src/shared/clock.js';
import type { TimerHandle } from '../../src/shared/clock.js';

describe('nextTimerStep: long waits in steps Node can time', () => {
  it.each([
    [0, 100, { sleepMs: 0, last: true }],
    [-5, 100, { sleepMs: 0, last: true }],
    [Number.NaN, 100, { sleepMs: 0, last: true }],
    [100, 100, { sleepMs: 100, last: true }],
    [101, 100, { sleepMs: 100, last: false }],
    [Number.POSITIVE_INFINITY, 100, { sleepMs: 100, last: false }],
    [30 * 86_400_000, MAX_TIMER_DELAY_MS, { sleepMs: MAX_TIMER_DELAY_MS, last: false }],
    [MAX_TIMER_DELAY_MS, MAX_TIMER_DELAY_MS, { sleepMs: MAX_TIMER_DELAY_MS, last: true }],
  ])('%d ms left, steps of %d ms: %j', (remaining, max, expected) => {
    expect(nextTimerStep(remaining, max)).toEqual(expected);
  });
});

describe('SystemClock', () => {
  const handles: { clock: ReturnType<typeof createSystemClock>; handle: TimerHandle }[] = [];
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    warnings.push(warning);
  };
  process.on('warning', onWarning);
  afterEach(() => {
    for (const { clock, handle } of handles.splice(0)) clock.clearTimeout(handle);
    warnings.length = 0;
  });

  it('a delay past 2^31-1 ms (P30D) is not clamped to 1 ms: nothing fires and Node gives no overflow warning', async () => {
    const clock = createSystemClock();
    let fired = 0;
    handles.push({ clock, handle: clock.setTimeout(() => fired++, 30 * 86_400_000) });
    handles.push({ clock, handle: clock.setTimeout(() => fired++, Number.POSITIVE_INFINITY) });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fired).toBe(0);
    expect(warnings.filter((w) => w.name === 'TimeoutOverflowWarning')).toEqual([]);
  });

  it('re-arms a wait longer than one step and fires once, not before it is due', async () => {
    const clock = createSystemClock({ maxStepMs: 5 });
    const start = Date.now();
    const firedAt: number[] = [];
    handles.push({ clock, handle: clock.setTimeout(() => firedAt.push(Date.now()), 40) });
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(firedAt).toHaveLength(1);
    expect((firedAt[0] ?? 0) - start).toBeGreaterThanOrEqual(39);
  });

  it('clearTimeout stops a wait between its steps', async () => {
    const clock = createSystemClock({ maxStepMs: 5 });
    let fired = 0;
    const handle = clock.setTimeout(() => fired++, 30);
    await new Promise((resolve) => setTimeout(resolve, 12));
    clock.clearTimeout(handle);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(fired).toBe(0);
  });

  it('a NaN or negative delay fires on the next turn', async () => {
    const clock = createSystemClock();
    let fired = 0;
    clock.setTimeout(() => fired++, Number.NaN);
    clock.setTimeout(() => fired++, -10);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fired).toBe(2);
  });
});
