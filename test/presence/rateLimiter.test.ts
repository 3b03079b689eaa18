import { describe, expect, it } from 'vitest';
import { DueQueue, RATE_WINDOW_MS, RequestBudget } from '../../src/presence/rateLimiter.js';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const S = 1000;

type Op = readonly ['take', number, boolean] | readonly ['free', number, number] | readonly ['used', number, number];

describe('RequestBudget: at most N in any 30 s', () => {
  it('window is 30 s', () => {
    expect(RATE_WINDOW_MS).toBe(30 * S);
  });

  it.each<[string, number, Op[]]>([
    ['under the limit every take succeeds', 3, [['take', 0, true], ['take', 1, true], ['take', 2, true], ['used', 2, 3]]],
    ['the N+1th in the window is refused', 3, [['take', 0, true], ['take', 0, true], ['take', 0, true], ['take', 0, false], ['used', 0, 3]]],
    ['a refused take takes nothing', 1, [['take', 0, true], ['take', 10 * S, false], ['take', 20 * S, false], ['take', 30 * S, true]]],
    ['a slot frees exactly 30 s after it was taken', 2, [['take', 0, true], ['take', 10 * S, true], ['take', 30 * S - 1, false], ['take', 30 * S, true], ['take', 30 * S, false], ['take', 40 * S, true]]],
    ['sliding, not fixed: no double burst at a window edge', 2, [['take', 29 * S, true], ['take', 29 * S, true], ['take', 31 * S, false], ['take', 59 * S - 1, false], ['take', 59 * S, true]]],
    ['nextFreeAt is now while there is room', 2, [['free', 0, 0], ['take', 0, true], ['free', 5 * S, 5 * S]]],
    ['nextFreeAt when full is when the oldest counted slot frees', 2, [['take', 0, true], ['take', 10 * S, true], ['free', 15 * S, 30 * S], ['take', 30 * S, true], ['free', 30 * S, 40 * S], ['used', 40 * S, 1]]],
    ['nextFreeAt with many takes at one instant', 3, [['take', 5 * S, true], ['take', 5 * S, true], ['take', 5 * S, true], ['free', 6 * S, 35 * S]]],
    ['everything expires after a quiet window', 2, [['take', 0, true], ['take', 1, true], ['used', 30 * S + 1, 0], ['free', 30 * S + 1, 30 * S + 1]]],
  ])('%s', (_name, max, ops) => {
    const budget = new RequestBudget(max);
    for (const op of ops) {
      const [kind, at, expected] = op;
      if (kind === 'take') expect([kind, at, budget.tryTake(T0 + at)]).toEqual(op);
      else if (kind === 'free') expect([kind, at, budget.nextFreeAt(T0 + at) - T0]).toEqual(op);
      else expect([kind, at, budget.used(T0 + at)]).toEqual([kind, at, expected]);
    }
  });

  it('never lets more than N through in any 30 s window under a steady flood', () => {
    const max = 50;
    const budget = new RequestBudget(max);
    const sent: number[] = [];
    // Someone tries every 100 ms for 5 minutes.
    for (let t = 0; t < 5 * 60 * S; t += 100) if (budget.tryTake(T0 + t)) sent.push(t);
    for (let i = 0; i + max < sent.length; i++) expect(sent[i + max]! - sent[i]!).toBeGreaterThanOrEqual(RATE_WINDOW_MS);
    // And it is not needlessly stingy: 50 per 30 s over 300 s is 500.
    expect(sent.length).toBe(500);
  });

  it('a caller that waits for nextFreeAt always gets its slot', () => {
    const budget = new RequestBudget(4);
    let now = T0;
    for (let i = 0; i < 40; i++) {
      now = budget.nextFreeAt(now);
      expect(budget.tryTake(now)).toBe(true);
    }
    // 40 requests at 4 per 30 s: the 40th goes out at 9 × 30 s.
    expect(now - T0).toBe(9 * RATE_WINDOW_MS);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects a limit of %s', (max) => {
    expect(() => new RequestBudget(max)).toThrow(RangeError);
  });

  it('takes a custom window', () => {
    const budget = new RequestBudget(1, 1000);
    expect(budget.tryTake(T0)).toBe(true);
    expect(budget.nextFreeAt(T0)).toBe(T0 + 1000);
  });
});

describe('DueQueue: soonest due first', () => {
  it.each<[string, [string, number][], number, string[]]>([
    // pushes (item, due offset), now → items popDue gives, in order
    ['earliest due first', [['alex', 30], ['sam', 10], ['kim', 20]], 100, ['sam', 'kim', 'alex']],
    ['only due items come out', [['alex', 30], ['sam', 10], ['kim', 20]], 20, ['sam', 'kim']],
    ['due exactly now counts', [['alex', 5]], 5, ['alex']],
    ['nothing due', [['alex', 5]], 4, []],
    ['ties keep push order', [['a', 10], ['b', 10], ['c', 5], ['d', 10]], 10, ['c', 'a', 'b', 'd']],
    ['empty', [], 100, []],
  ])('%s', (_name, pushes, now, expected) => {
    const q = new DueQueue<string>();
    for (const [item, due] of pushes) q.push(item, T0 + due);
    const out: string[] = [];
    for (let item = q.popDue(T0 + now); item !== undefined; item = q.popDue(T0 + now)) out.push(item);
    expect(out).toEqual(expected);
    expect(q.size).toBe(pushes.length - expected.length);
  });

  it('peek shows the earliest without removing it', () => {
    const q = new DueQueue<string>();
    expect(q.peek()).toBeUndefined();
    q.push('late', T0 + 50);
    q.push('soon', T0 + 10);
    expect(q.peek()).toEqual({ item: 'soon', due: T0 + 10 });
    expect(q.size).toBe(2);
  });

  it('stays ordered through many random pushes and pops', () => {
    const q = new DueQueue<number>();
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const dues: number[] = [];
    for (let i = 0; i < 500; i++) {
      const due = Math.floor(random() * 1000);
      dues.push(due);
      q.push(due, due);
      if (i % 3 === 0) {
        const least = Math.min(...dues);
        dues.splice(dues.indexOf(least), 1);
        expect(q.pop()).toBe(least);
      }
    }
    const out: number[] = [];
    for (let x = q.pop(); x !== undefined; x = q.pop()) out.push(x);
    expect(out).toEqual([...out].sort((a, b) => a - b));
    expect(out).toEqual(dues.sort((a, b) => a - b));
  });

  it('remove drops matching items and keeps the order of the rest', () => {
    const q = new DueQueue<{ user: string }>();
    q.push({ user: 'alex' }, T0 + 30);
    q.push({ user: 'sam' }, T0 + 10);
    q.push({ user: 'alex' }, T0 + 5);
    q.push({ user: 'kim' }, T0 + 20);
    expect(q.remove((i) => i.user === 'alex')).toBe(2);
    expect(q.remove((i) => i.user === 'nobody')).toBe(0);
    expect([q.pop()?.user, q.pop()?.user, q.pop()?.user]).toEqual(['sam', 'kim', undefined]);
  });

  it('with a saturated budget, the renewal due soonest goes first', () => {
    const budget = new RequestBudget(2);
    const q = new DueQueue<string>();
    q.push('alex', T0 + 3 * S);
    q.push('sam', T0 + 1 * S);
    q.push('kim', T0 + 2 * S);
    q.push('lee', T0);
    q.push('max', T0 + 90 * S);
    // The bridge comes back at +5 s with four renewals overdue and room for two per 30 s.
    const sent: [string, number][] = [];
    let now = T0 + 5 * S;
    while (q.size > 0) {
      now = Math.max(now, q.peek()!.due, budget.nextFreeAt(now));
      expect(budget.tryTake(now)).toBe(true);
      sent.push([q.popDue(now)!, (now - T0) / S]);
    }
    expect(sent).toEqual([['lee', 5], ['sam', 5], ['kim', 35], ['alex', 35], ['max', 90]]);
  });
});
