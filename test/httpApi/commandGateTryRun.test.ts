import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { CommandGate } from '../../src/session/commandGate.js';
import { ManualClock } from '../../src/shared/clock.js';

describe('CommandGate.tryRun (the HTTP API refuses instead of queueing)', () => {
  it('runs while the lane has budget, then refuses with the time until a slot frees, and keeps nothing', async () => {
    const clock = new ManualClock();
    const gate = new CommandGate(clock, silentLogger, { perWindow: 3, windowMs: 30_000 });
    const ran: number[] = [];
    for (let i = 0; i < 3; i++) {
      expect(gate.tryRun('alex/presence', () => void ran.push(i))).toEqual({ ran: true, result: undefined });
      await clock.advance(5_000);
    }
    expect(gate.tryRun('alex/presence', () => void ran.push(99))).toEqual({ ran: false, retryAfterMs: 15_000 });
    expect(gate.tryRun('sam/presence', () => void ran.push(7)).ran).toBe(true);
    await clock.advance(60_000);
    expect(ran).toEqual([0, 1, 2, 7]); // the refused one never runs later
    expect(clock.pending()).toBe(0);
    expect(gate.tryRun('alex/presence', () => void ran.push(3)).ran).toBe(true);
    gate.close();
  });

  it('hands back the running promise and refuses a second command of the lane until it settles', async () => {
    const clock = new ManualClock();
    const gate = new CommandGate(clock, silentLogger);
    let finish: () => void = () => undefined;
    const first = gate.tryRun('alex/preferred', () => new Promise<void>((resolve) => (finish = resolve)));
    expect(first.ran).toBe(true);
    expect(gate.tryRun('alex/preferred', () => undefined)).toEqual({ ran: false, retryAfterMs: 1000 });
    finish();
    if (first.ran) await first.result;
    await clock.advance(0);
    expect(gate.tryRun('alex/preferred', () => undefined).ran).toBe(true);
    // a lane with a command queued by offer() is not free either
    const waiting = gate.offer('sam/set', () => new Promise<void>(() => undefined));
    expect(waiting).toBe('started');
    gate.offer('sam/set', () => undefined);
    expect(gate.tryRun('sam/set', () => undefined).ran).toBe(false);
    gate.close();
    expect(gate.tryRun('alex/preferred', () => undefined).ran).toBe(false);
  });
});
