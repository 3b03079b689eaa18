import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/shared/clock.js';
import { addCoreReadiness, ReadinessChecks, SIGN_IN_PROBE_MS } from '../../src/shared/readiness.js';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('readiness checks', () => {
  it('lists what is not ready in order, and a check that throws as not ready', () => {
    const checks = new ReadinessChecks();
    let cache: string | null = 'warming up';
    checks.add('cache', () => cache);
    checks.add('broken', () => {
      throw new Error('oops');
    });
    expect(() => checks.add('cache', () => null)).toThrow(/twice/);
    expect(checks.status()).toEqual({ ready: false, waiting: [{ name: 'cache', reason: 'warming up' }, { name: 'broken', reason: 'its check failed: oops' }] });
    cache = null;
    expect(checks.status().waiting.map((w) => w.name)).toEqual(['broken']);
  });

  it('probes a refused sign-in at most every 30 s, and a successful Graph call ends the wait', async () => {
    const clock = new ManualClock();
    const checks = new ReadinessChecks();
    let running = false;
    let asked = 0;
    let refuse = true;
    const listeners: ((call: { ok: boolean }) => void)[] = [];
    addCoreReadiness(checks, {
      clock,
      running: () => running,
      stopping: () => false,
      getToken: () => {
        asked++;
        return refuse ? Promise.reject(new Error('AADSTS7000215: invalid client secret')) : Promise.resolve('token');
      },
      onGraphCall: (listener) => listeners.push(listener),
    });
    const reasons = (): string[] => checks.status().waiting.map((w) => `${w.name}: ${w.reason}`);
    expect(reasons()).toEqual(['core: starting', 'signIn: not signed in yet']);
    expect(asked).toBe(0); // nothing signs in before the core runs
    running = true;
    expect(reasons()).toEqual(['signIn: not signed in yet']);
    await turn();
    expect(asked).toBe(1);
    expect(reasons()).toEqual(['signIn: sign-in failed: AADSTS7000215: invalid client secret']);
    await clock.advance(SIGN_IN_PROBE_MS - 1);
    reasons();
    await turn();
    expect(asked).toBe(1);
    refuse = false;
    await clock.advance(1);
    reasons();
    await turn();
    expect(asked).toBe(2);
    expect(checks.status()).toEqual({ ready: true, waiting: [] });

    // a fresh core: a Graph call that succeeded is proof enough, no token is fetched
    const other = new ReadinessChecks();
    const calls: ((call: { ok: boolean }) => void)[] = [];
    let fetched = 0;
    addCoreReadiness(other, { clock, running: () => true, stopping: () => false, getToken: () => (fetched++, Promise.resolve('t')), onGraphCall: (l) => calls.push(l) });
    for (const l of calls) l({ ok: true });
    expect(other.status().ready).toBe(true);
    expect(fetched).toBe(0);
    expect(listeners).toHaveLength(1);
  });
});
