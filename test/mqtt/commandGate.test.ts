import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { CommandGate } from '../../src/mqtt/commandGate.js';
import { ManualClock } from '../../src/shared/clock.js';

describe('CommandGate', () => {
  it('one command at work per lane; those arriving meanwhile merge, and the latest runs next', async () => {
    const clock = new ManualClock();
    const gate = new CommandGate(clock, silentLogger);
    const ran: number[] = [];
    const finish = new Map<number, () => void>();
    const slow = (n: number) => () => {
      ran.push(n);
      return new Promise<void>((resolve) => finish.set(n, resolve));
    };
    expect(gate.offer('alex/prefer', slow(0))).toBe('started');
    for (let i = 1; i <= 100; i++) expect(gate.offer('alex/prefer', slow(i))).toBe('waiting');
    expect(gate.offer('sam/prefer', slow(1000))).toBe('started'); // another lane is not held up
    expect(ran).toEqual([0, 1000]);
    finish.get(0)?.();
    await clock.advance(0);
    expect(ran).toEqual([0, 1000, 100]);
    expect(gate.merged()).toBe(99);
    gate.close();
  });

  it('at most perWindow commands per lane in any window; past it the latest waits for the window', async () => {
    const clock = new ManualClock();
    const gate = new CommandGate(clock, silentLogger, { perWindow: 3, windowMs: 30_000 });
    const ran: { n: number; at: number }[] = [];
    const start = clock.now();
    const results = [];
    for (let i = 0; i < 10; i++) results.push(gate.offer('alex/set', () => void ran.push({ n: i, at: clock.now() - start })));
    expect(results.slice(0, 3)).toEqual(['started', 'started', 'started']);
    expect(results.slice(3).every((r) => r === 'throttled')).toBe(true);
    expect(ran.map((r) => r.n)).toEqual([0, 1, 2]);
    await clock.advance(30_000);
    expect(ran).toEqual([
      { n: 0, at: 0 },
      { n: 1, at: 0 },
      { n: 2, at: 0 },
      { n: 9, at: 30_000 },
    ]);
    expect(clock.pending()).toBe(0);
    gate.close();
  });

  it('a command that throws or rejects frees its lane', async () => {
    const clock = new ManualClock();
    const gate = new CommandGate(clock, silentLogger);
    gate.offer('a', () => {
      throw new Error('boom');
    });
    gate.offer('a', () => Promise.reject(new Error('no')));
    let ran = false;
    gate.offer('a', () => void (ran = true));
    await clock.advance(0);
    expect(ran).toBe(true);
    gate.close();
  });
});
