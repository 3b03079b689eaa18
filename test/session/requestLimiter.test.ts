import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { ManualClock, yieldToEventLoop } from '../../src/shared/clock.js';
import { MAX_QUEUED_COMMANDS, RequestLimiter } from '../../src/session/requestLimiter.js';
import { capturingLogger } from '../helpers/logger.js';

describe('RequestLimiter', () => {
  it('never grants more than the budget in any 30 s window and serves the soonest deadline first', async () => {
    const clock = new ManualClock();
    const limiter = new RequestLimiter(clock, 3, silentLogger);
    const start = clock.now();
    const runs: { name: string; at: number }[] = [];
    const job = (name: string) => () => {
      runs.push({ name, at: clock.now() });
      return Promise.resolve();
    };
    for (const [name, deadline] of [['a', 50], ['b', 40], ['c', 30], ['late', 500], ['urgent', 10], ['mid', 100]] as const) {
      limiter.submit(start + deadline, job(name));
    }
    await yieldToEventLoop(); // the first three are answered at once
    // a, b, c go at once (room), then urgent, mid, late as slots free, soonest deadline first
    expect(runs.map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(limiter.waiting()).toBe(3);
    await clock.advance(30_000);
    expect(runs.map((r) => r.name)).toEqual(['a', 'b', 'c', 'urgent', 'mid', 'late']);
    expect(runs.slice(3).every((r) => r.at === start + 30_000)).toBe(true);
    limiter.close();
  });

  it('holds a slot from dispatch until 30 s after the answer: Graph counts arrivals, which can come late', async () => {
    const clock = new ManualClock();
    const limiter = new RequestLimiter(clock, 2, silentLogger);
    const start = clock.now();
    const runs: { name: string; at: number }[] = [];
    let answerSlow: () => void = () => undefined;
    limiter.submit(start, () => {
      runs.push({ name: 'slow', at: clock.now() - start });
      return new Promise<void>((resolve) => (answerSlow = resolve));
    });
    const job = (name: string) => () => {
      runs.push({ name, at: clock.now() - start });
      return Promise.resolve();
    };
    limiter.submit(start + 1, job('fast'));
    limiter.submit(start + 2, job('next'));
    limiter.submit(start + 3, job('last'));
    await yieldToEventLoop(); // the fast one is answered at once
    expect(runs.map((r) => r.name)).toEqual(['slow', 'fast']);
    // the slow request is answered 10 s after it left (a new TLS connection, a token, a slow Graph)
    await clock.advance(10_000);
    answerSlow();
    await limiter.whenIdle();
    await clock.advance(20_000); // 30 s after dispatch: only the fast one's slot is free
    expect(runs.map((r) => `${r.name}@${r.at}`)).toEqual(['slow@0', 'fast@0', 'next@30000']);
    await clock.advance(10_000 - 1);
    expect(runs).toHaveLength(3);
    await clock.advance(1); // 30 s after the slow one's answer
    expect(runs.map((r) => `${r.name}@${r.at}`)).toEqual(['slow@0', 'fast@0', 'next@30000', 'last@40000']);
    limiter.close();
  });

  it('counts requests in flight against the budget, even when none has been answered yet', async () => {
    const clock = new ManualClock();
    const limiter = new RequestLimiter(clock, 2, silentLogger);
    const answers: (() => void)[] = [];
    let started = 0;
    for (let i = 0; i < 3; i++) {
      limiter.submit(clock.now(), () => {
        started++;
        return new Promise<void>((resolve) => answers.push(resolve));
      });
    }
    expect(started).toBe(2);
    await clock.advance(60_000); // no answer: the two still hold their slots, whatever the time
    expect(started).toBe(2);
    answers.shift()!();
    await yieldToEventLoop();
    await clock.advance(30_000 - 1);
    expect(started).toBe(2);
    await clock.advance(1);
    expect(started).toBe(3);
    for (const answer of answers) answer();
    limiter.close();
  });

  it('paces a saturated queue instead of bursting each time the window frees', async () => {
    const clock = new ManualClock();
    const limiter = new RequestLimiter(clock, 300, silentLogger, 1000);
    const start = clock.now();
    const at: number[] = [];
    for (let i = 0; i < 900; i++) {
      limiter.submit(start, () => {
        at.push(clock.now() - start);
        return Promise.resolve();
      });
    }
    await clock.advance(120_000);
    expect(at.length).toBe(900);
    const perSecond = new Map<number, number>();
    for (const t of at) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBe(20); // 2 × 300 / 30
    for (let i = 0; i < at.length; i++) {
      expect(at.filter((t) => t >= at[i]! && t < at[i]! + 30_000).length).toBeLessThanOrEqual(300);
    }
    limiter.close();
  });

  it('does not spend a slot on work that is no longer needed, and skips cancelled work', async () => {
    const clock = new ManualClock();
    const limiter = new RequestLimiter(clock, 1, silentLogger);
    let ran = 0;
    limiter.submit(clock.now(), () => null);
    limiter.submit(clock.now(), () => {
      ran++;
      return Promise.resolve();
    });
    expect(ran).toBe(1);
    const ticket = limiter.submit(clock.now(), () => {
      ran++;
      return Promise.resolve();
    });
    ticket.cancel();
    await clock.advance(60_000);
    expect(ran).toBe(1);
    expect(limiter.grantedCount()).toBe(1);
    limiter.close();
  });

  it('caps the requests in flight and starts the next one as one settles', async () => {
    const clock = new ManualClock();
    const limiter = new RequestLimiter(clock, 100, silentLogger, 2);
    const pending: (() => void)[] = [];
    let started = 0;
    for (let i = 0; i < 5; i++) {
      limiter.submit(clock.now() + i, () => {
        started++;
        return new Promise<void>((resolve) => pending.push(resolve));
      });
    }
    expect(started).toBe(2);
    expect(limiter.inFlight()).toBe(2);
    pending.shift()!();
    await clock.advance(0);
    expect(started).toBe(3);
    while (pending.length > 0) {
      pending.shift()!();
      await clock.advance(0);
    }
    await limiter.whenIdle();
    expect(started).toBe(5);
    expect(limiter.inFlight()).toBe(0);
    limiter.close();
  });

  it('a failing job is logged, not thrown', async () => {
    const clock = new ManualClock();
    const logger = capturingLogger();
    const errors = () => logger.texts().filter((t) => t.startsWith('error '));
    const limiter = new RequestLimiter(clock, 5, logger);
    limiter.submit(clock.now(), () => {
      throw new Error('boom');
    });
    let ran = false;
    limiter.submit(clock.now(), () => {
      ran = true;
      return Promise.reject(new Error('later'));
    });
    await clock.advance(1);
    expect(ran).toBe(true);
    // A job that throws instead of returning a promise is a bug: an error. A rejected request is
    // its caller's to report: debug only.
    expect(errors()).toEqual(['error rate limiter: queued request failed to start: boom']);
    expect(logger.count('debug', /rate limiter: request failed: later/)).toBe(1);
    limiter.close();
  });

  it('commands take at most their share: upkeep due later still goes first once commands used theirs', async () => {
    const clock = new ManualClock();
    const limiter = new RequestLimiter(clock, 8, silentLogger, 100); // commands: 2 per 30 s
    const start = clock.now();
    const runs: { name: string; at: number }[] = [];
    const job = (name: string) => () => {
      runs.push({ name, at: clock.now() - start });
      return Promise.resolve();
    };
    for (let i = 0; i < 50; i++) limiter.submit(start, job(`cmd${i}`), { kind: 'command' });
    limiter.submit(start + 60_000, job('renewal'));
    await clock.advance(0);
    // two commands (their share), then the renewal although its deadline is a minute away
    expect(runs.map((r) => r.name)).toEqual(['cmd0', 'cmd1', 'renewal']);
    await clock.advance(30_000);
    expect(runs.filter((r) => r.name.startsWith('cmd')).length).toBe(4);
    for (const r of runs) expect(runs.filter((o) => o.name.startsWith('cmd') && o.at >= r.at && o.at < r.at + 30_000).length).toBeLessThanOrEqual(2);
    limiter.close();
  });

  it('the command queue is bounded: past the bound a command is refused at once, with one warning', () => {
    const clock = new ManualClock();
    const logger = capturingLogger();
    const limiter = new RequestLimiter(clock, 4, logger);
    let refused = 0;
    for (let i = 0; i < MAX_QUEUED_COMMANDS + 50; i++) limiter.submit(clock.now(), () => Promise.resolve(), { kind: 'command', onRefused: () => refused++ });
    expect(limiter.waiting()).toBe(MAX_QUEUED_COMMANDS);
    expect(refused).toBe(49); // one started at once (the share is 1 per 30 s), 1,000 wait, the rest is refused
    expect(logger.count('warn', /./)).toBe(1);
    expect(logger.count('error', /./)).toBe(0);
    limiter.close();
  });

  it('a renewal near its deadline goes before every change queued ahead of it, so a session never lapses behind a backlog', async () => {
    const clock = new ManualClock();
    const limiter = new RequestLimiter(clock, 3, silentLogger);
    const start = clock.now();
    const runs: { name: string; at: number }[] = [];
    const job = (name: string) => () => {
      runs.push({ name, at: clock.now() - start });
      return Promise.resolve();
    };
    for (let i = 0; i < 20; i++) limiter.submit(start, job(`change${i}`));
    limiter.submit(start + 100_000, job('renewal'), { kind: 'renewal' });
    await clock.advance(120_000);
    const renewal = runs.find((r) => r.name === 'renewal');
    // Not urgent at 0 s and 30 s (soonest deadline first: the changes); urgent at 60 s (40 s left).
    expect(renewal?.at).toBe(60_000);
    expect(runs.filter((r) => r.at < 60_000).every((r) => r.name.startsWith('change'))).toBe(true);
    limiter.close();
  });
});
