import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CoreBridge } from '../../src/bridge.js';
import { createBridge, STARTUP_GRACE_MS } from '../../src/bridge.js';
import { yieldToEventLoop } from '../../src/shared/clock.js';
import { INTENT_STORE_FILE } from '../../src/session/intentStore.js';
import { Harness, HOUR, MINUTE } from './harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const STATES: { value: string; pair: string; renewEvery: number }[] = [
  { value: 'free', pair: 'Available/Available', renewEvery: 4.25 }, // the calm margin: 45 s before the fade
  { value: 'busy', pair: 'Busy/InACall', renewEvery: 48 },
  { value: 'call', pair: 'Busy/InAConferenceCall', renewEvery: 48 },
  { value: 'away', pair: 'Away/Away', renewEvery: 48 },
  { value: 'dnd', pair: 'DoNotDisturb/Presenting', renewEvery: 48 },
];

describe('publisher against the emulator, one shared ManualClock', () => {
  it.each(STATES)('$pair: set, renewed through two hours without ever fading or expiring, then cleared', async ({ value, pair, renewEvery }) => {
    harness = await Harness.create();
    const h = harness;
    await h.signal('desk', value);
    expect(h.presenceOf()).toBe(pair);
    for (let t = 0; t < 120; t += 0.5) {
      await h.advance(MINUTE / 2);
      expect(h.presenceOf(), `at ${t + 0.5} min`).toBe(pair);
    }
    await h.signal('desk', 'off');
    expect(h.presenceOf()).toBe('Offline/Offline');

    const expected: { t: number; call: string; status: number }[] = [];
    // the first renewal comes at 0.75 of the interval (random = 0.5 spreads users set together), then every interval
    expected.push({ t: 0, call: `set ${pair}`, status: 200 });
    for (let t = 0.75 * renewEvery; t <= 120; t += renewEvery) expected.push({ t: Math.round(t * 1e6) / 1e6, call: `set ${pair}`, status: 200 });
    expected.push({ t: 120, call: 'clear', status: 200 });
    expect(h.calls()).toEqual(expected);
    const state = h.bridge.state('u0')!;
    expect(state).toMatchObject({ desired: null, confirmed: null, health: 'ok', lastError: null });
  });

  it('an identical pair makes no call; a new one replaces it; precedence across inputs', async () => {
    harness = await Harness.create();
    const h = harness;
    await h.signal('desk', 'busy');
    await h.signal('desk', 'BUSY ');
    await h.signal('headset', 'OFFHOOK'); // the same pair from another input
    await h.advance(5000);
    expect(h.callNames()).toEqual(['set Busy/InACall']);
    await h.signal('desk', 'dnd');
    await h.advance(5000);
    expect(h.presenceOf()).toBe('DoNotDisturb/Presenting');
    expect(h.bridge.state('u0')).toMatchObject({ source: 'desk', health: 'ok' });
    await h.signal('desk', 'off'); // desk clears; the headset still holds Busy
    await h.advance(5000);
    expect(h.presenceOf()).toBe('Busy/InACall');
    expect(h.bridge.state('u0')).toMatchObject({ source: 'headset' });
    await h.signal('headset', 'ONHOOK');
    await h.advance(5000);
    expect(h.calls()).toEqual([
      { t: 0, call: 'set Busy/InACall', status: 200 },
      { t: 5 / 60, call: 'set DoNotDisturb/Presenting', status: 200 },
      { t: 10 / 60, call: 'set Busy/InACall', status: 200 },
      { t: 15 / 60, call: 'clear', status: 200 },
    ].map((c) => ({ ...c, t: Math.round(c.t * 1e6) / 1e6 })));
    expect(h.bridge.state('u0')).toMatchObject({ desired: null, confirmed: null, source: null });
  });

  it('Graph down (503) for ten minutes while the input flips five times: exactly the latest state is asserted when it returns', async () => {
    harness = await Harness.create();
    const h = harness;
    await h.signal('desk', 'busy');
    h.emulator.injectFault({ kind: 'status', status: 503, count: 1_000_000 });
    const flips = ['dnd', 'free', 'away', 'call', 'dnd'];
    for (const value of flips) {
      await h.signal('desk', value);
      await h.advance(2 * MINUTE);
    }
    expect(h.bridge.state('u0')).toMatchObject({ health: 'retrying', desired: { availability: 'DoNotDisturb', activity: 'Presenting' } });
    expect(h.bridge.state('u0')!.lastError).toMatchObject({ code: 'UNAVAILABLE' });
    h.emulator.clearFaults();
    await h.advance(MINUTE);
    const calls = h.calls();
    const outage = calls.slice(1, -1);
    expect(calls[0]).toEqual({ t: 0, call: 'set Busy/InACall', status: 200 });
    expect(outage.length).toBeGreaterThan(5);
    expect(outage.every((c) => c.status === 503)).toBe(true);
    expect(calls.at(-1)).toMatchObject({ call: 'set DoNotDisturb/Presenting', status: 200 });
    expect(calls.filter((c) => c.status === 200).map((c) => c.call)).toEqual(['set Busy/InACall', 'set DoNotDisturb/Presenting']);
    // backoff: never two attempts less than 0.75 s apart, and the gaps grow to the 30 s cap (×0.75 jitter)
    const gaps = outage.slice(1).map((c, i) => c.t - outage[i]!.t);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(0.75 / 60 - 1e-9);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(22.5 / 60 + 1e-3);
    expect(h.presenceOf()).toBe('DoNotDisturb/Presenting');
    expect(h.bridge.state('u0')).toMatchObject({ health: 'ok', lastError: null });
  });

  it('while backing off, a wish that goes back to what Graph holds needs no call', async () => {
    harness = await Harness.create();
    const h = harness;
    await h.signal('desk', 'busy');
    h.emulator.injectFault({ kind: 'status', status: 503, count: 1_000_000 });
    await h.advance(5000);
    await h.signal('desk', 'dnd');
    await h.advance(3000);
    expect(h.bridge.state('u0')).toMatchObject({ health: 'retrying', lastError: { code: 'UNAVAILABLE' } });
    await h.signal('desk', 'busy');
    const before = h.calls().length;
    await h.advance(10 * MINUTE);
    expect(h.calls().length).toBe(before);
    expect(h.bridge.state('u0')).toMatchObject({ health: 'ok', confirmed: { availability: 'Busy', activity: 'InACall' } });
    expect(h.calls().map((c) => c.status)).toEqual([200, ...Array<number>(before - 1).fill(503)]);
  });

  it('a 429 storm: Retry-After is honoured each time and the latest state lands', async () => {
    harness = await Harness.create();
    const h = harness;
    h.emulator.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 20, count: 6 });
    await h.signal('desk', 'busy');
    await h.advance(5 * MINUTE);
    const calls = h.calls();
    expect(calls.map((c) => c.status)).toEqual([429, 429, 429, 429, 429, 429, 200]);
    // Retry-After 20 s plus the 0.5 s jitter (random = 0.5), never less
    for (let i = 1; i < calls.length; i++) expect(Math.round((calls[i]!.t - calls[i - 1]!.t) * 60_000)).toBe(20_500);
    expect(h.presenceOf()).toBe('Busy/InACall');
  });

  it('token expiry mid-session: one 401, one new token, the renewal goes through', async () => {
    harness = await Harness.create({ emulator: { tokenLifetimeSeconds: 20 * 60 } });
    const h = harness;
    await h.signal('desk', 'busy');
    await h.advance(HOUR);
    const log = h.emulator
      .requestLog()
      .map((e) => `${e.kind === 'identity' ? 'token' : e.route.endsWith('setPresence') ? 'set' : e.route} ${e.status}`);
    expect(log).toEqual(['token 200', 'set 200', 'set 401', 'token 200', 'set 200']);
    expect(h.presenceOf()).toBe('Busy/InACall');
  });

  it('100 toggles in one second: a handful of calls and the right final state', async () => {
    harness = await Harness.create();
    const h = harness;
    const burst = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        h.bridge.signal({ input: 'desk', value: 'single', at: h.clock.now() });
        await yieldToEventLoop(); // calls stay in flight across several signals, as in real life
        await h.clock.advance(10, yieldToEventLoop);
      }
      await h.advance(5000);
    };
    await burst(100); // even: back to clear
    expect(h.callNames()).toEqual(['set Busy/InACall', 'clear']);
    expect(h.presenceOf()).toBe('Offline/Offline');
    expect(h.bridge.state('u0')).toMatchObject({ desired: null, confirmed: null, health: 'ok' });
    const before = h.calls().length;
    await burst(51); // odd: Busy
    expect(h.callNames().slice(before)).toEqual(['set Busy/InACall']);
    expect(h.presenceOf()).toBe('Busy/InACall');
    expect(h.bridge.state('u0')).toMatchObject({ confirmed: { availability: 'Busy', activity: 'InACall' }, health: 'ok' });
  });

  it('a timed intent ends by itself', async () => {
    harness = await Harness.create();
    const h = harness;
    await h.signal('desk', 'meeting');
    await h.advance(29 * MINUTE);
    expect(h.presenceOf()).toBe('Busy/InAConferenceCall');
    await h.advance(2 * MINUTE);
    expect(h.presenceOf()).toBe('Offline/Offline');
    expect(h.calls()).toEqual([
      { t: 0, call: 'set Busy/InAConferenceCall', status: 200 },
      { t: 30, call: 'clear', status: 200 },
    ]);
  });

  it('a serial input that disconnects drops its presence (onDisconnect: clear)', async () => {
    harness = await Harness.create();
    const h = harness;
    await h.signal('headset', 'OFFHOOK');
    h.bridge.inputDisconnected('headset');
    await h.advance(5000);
    expect(h.callNames()).toEqual(['set Busy/InACall', 'clear']);
  });

  it('unknown inputs and users are logged and dropped, never thrown', async () => {
    harness = await Harness.create();
    const h = harness;
    expect(() => h.bridge.signal({ input: 'nope', value: 'busy', at: h.clock.now() })).not.toThrow();
    expect(() => h.bridge.setIntent('ghost', 'homekit', { kind: 'clear', at: h.clock.now() })).not.toThrow();
    expect(() => h.bridge.inputDisconnected('nope')).not.toThrow();
    await h.signal('desk', 'no-such-value');
    await h.settle();
    expect(h.calls()).toEqual([]);
    expect(h.logger.lines.filter((l) => l.startsWith('warn'))).toEqual([
      'warn signal from unknown input "nope" dropped',
      'warn intent for unknown user "ghost" from "homekit" dropped',
      'warn disconnect of unknown input "nope" ignored',
    ]);
  });

  it('403 (no permission): unhealthy with the hint, no retries, tried again on the next change', async () => {
    harness = await Harness.create({ appIndex: 1 });
    const h = harness;
    await h.signal('desk', 'busy');
    const state = h.bridge.state('u0')!;
    expect(state.health).toBe('unhealthy');
    expect(state.lastError).toMatchObject({ code: 'FORBIDDEN' });
    expect(state.lastError!.hint).toMatch(/Presence\.ReadWrite/);
    await h.advance(10 * MINUTE);
    expect(h.calls()).toEqual([{ t: 0, call: 'set Busy/InACall', status: 403 }]);
    await h.signal('desk', 'dnd');
    expect(h.calls()).toEqual([
      { t: 0, call: 'set Busy/InACall', status: 403 },
      { t: 10, call: 'set DoNotDisturb/Presenting', status: 403 },
    ]);
    expect(h.bridge.state('u0')!.health).toBe('unhealthy');
  });

  it('shutdown with onShutdown clear clears every asserted user; keep leaves them', async () => {
    harness = await Harness.create({ userCount: 3 });
    const h = harness;
    await h.signal('desk', 'busy');
    h.bridge.setIntent('u1', 'homekit', { kind: 'set', pair: { availability: 'DoNotDisturb', activity: 'Presenting' }, at: h.clock.now() });
    await h.settle();
    expect(h.presenceOf('u1')).toBe('DoNotDisturb/Presenting');
    await h.stop();
    expect(h.calls().map((c) => c.call).sort()).toEqual(['u0 clear', 'u0 set Busy/InACall', 'u1 clear', 'u1 set DoNotDisturb/Presenting']);
    expect(h.presenceOf('u0')).toBe('Offline/Offline');
    expect(h.presenceOf('u1')).toBe('Offline/Offline');
    await h.close();

    harness = await Harness.create({ config: { onShutdown: 'keep' } });
    await harness.signal('desk', 'busy');
    await harness.stop();
    expect(harness.callNames()).toEqual(['set Busy/InACall']);
    expect(harness.presenceOf()).toBe('Busy/InACall');
  });

  it('the shared rate limit is never exceeded in any 30 s window', async () => {
    harness = await Harness.create({ userCount: 3, graph: { maxRequestsPer30s: 4 } });
    const h = harness;
    const values = ['busy', 'dnd', 'free', 'away', 'call'];
    for (let round = 0; round < 10; round++) {
      const value = values[round % values.length]!;
      await h.signal('desk', value);
      for (const key of ['u1', 'u2']) {
        h.bridge.setIntent(key, 'homekit', { kind: 'set', pair: round % 2 ? { availability: 'Busy', activity: 'InACall' } : { availability: 'Away', activity: 'Away' }, at: h.clock.now() });
      }
      await h.settle();
      if (round === 3) {
        // saturated: u1 still holds round 0's Away while Busy waits for a slot
        expect(h.bridge.state('u1')).toMatchObject({ desired: { availability: 'Busy' }, confirmed: { availability: 'Away' }, health: 'pending' });
      }
      await h.advance(3000);
    }
    await h.advance(30 * MINUTE);
    const times = h.emulator
      .requestLog()
      .filter((e) => e.kind !== 'identity')
      .map((e) => e.at);
    for (const start of times) expect(times.filter((t) => t >= start && t < start + 30_000).length).toBeLessThanOrEqual(4);
    expect(times.length).toBe(7); // 3 at 0 s, 1 at 3 s (budget full), the latest of each user at 30 s
    expect(h.presenceOf('u0')).toBe('Busy/InAConferenceCall'); // round 9: values[4]
    expect(h.presenceOf('u1')).toBe('Busy/InACall');
    expect(h.presenceOf('u2')).toBe('Busy/InACall');
  });

  it('read-back reports the actual presence and notices a user-preferred override, without fighting it', async () => {
    harness = await Harness.create({ graph: { pollSeconds: 60 } });
    const h = harness;
    await h.signal('desk', 'busy');
    await h.advance(MINUTE);
    expect(h.bridge.state('u0')).toMatchObject({ actual: { availability: 'Busy', activity: 'InACall' }, overridden: false });
    h.emulator.setPreferred(h.userId('u0'), { availability: 'BeRightBack', activity: 'BeRightBack' });
    await h.advance(MINUTE);
    expect(h.bridge.state('u0')).toMatchObject({ actual: { availability: 'BeRightBack' }, overridden: true, confirmed: { availability: 'Busy' } });
    expect(h.callNames()).toEqual(['get', 'set Busy/InACall', 'get', 'get']);
    expect(h.states.some((s) => s.overridden)).toBe(true);
  });
});

describe('createBridge wiring', () => {
  it('starts features after the core and stops them before it; a failing feature is logged once, by the bridge, and is not fatal', async () => {
    const order: string[] = [];
    harness = await Harness.create({
      start: false,
      features: [
        {
          name: 'good',
          select: () => ({}),
          create: (_slice, context) => ({
            start: () => {
              order.push('good start');
              context.bridge.setIntent('u0', 'homekit', { kind: 'set', pair: { availability: 'Busy', activity: 'InACall' }, at: context.clock.now() });
              return Promise.resolve();
            },
            stop: () => {
              order.push(`good stop while ${harness!.presenceOf()}`);
              return Promise.resolve();
            },
          }),
        },
        // not used by this config: never built
        { name: 'unused', select: () => null, create: () => { throw new Error('built though unused'); } },
        {
          name: 'lamp',
          select: () => ({}),
          create: () => ({
            start: () => Promise.reject(new Error('port busy')),
            stop: () => {
              order.push('broken stop');
              return Promise.resolve();
            },
          }),
        },
      ],
    });
    const h = harness;
    await h.bridge.start();
    await h.settle();
    expect(h.presenceOf()).toBe('Busy/InACall');
    expect(h.logger.lines).toContain('error feature "lamp" failed to start: port busy');
    expect(h.logger.lines.filter((l) => l.includes('port busy'))).toHaveLength(1);
    expect(h.logger.lines.some((l) => l.includes('built though unused'))).toBe(false);
    await h.stop();
    expect(order).toEqual(['good start', 'broken stop', 'good stop while Busy/InACall']);
    expect(h.presenceOf()).toBe('Offline/Offline');
    expect(h.clock.pending()).toBe(0); // every timer of the bridge is gone
  });

  it('prefer sets and clears the user-preferred presence through the same limiter, and rejects with a GraphError', async () => {
    harness = await Harness.create();
    const h = harness;
    const calls: string[] = [];
    h.bridge.events.on('graphCall', (e) => calls.push([e.operation, e.detail, e.ok].filter((x) => x !== undefined).join(' ')));
    await h.bridge.prefer('u0', { availability: 'BeRightBack', activity: 'BeRightBack' }, 'PT1H');
    // a preferred presence shows only while a session exists (setUserPreferredPresence page)
    expect(h.presenceOf()).toBe('Offline/Offline');
    await h.signal('desk', 'busy');
    expect(h.presenceOf()).toBe('BeRightBack/BeRightBack');
    await h.bridge.prefer('u0', null);
    expect(h.emulator.preferredOf(h.userId('u0'))).toBeNull();
    await expect(h.bridge.prefer('u0', { availability: 'Busy', activity: 'InACall' })).rejects.toMatchObject({ name: 'GraphError', code: 'BAD_REQUEST' });
    await expect(h.bridge.prefer('ghost', null)).rejects.toThrow(/unknown user/);
    expect(calls).toEqual([
      'setUserPreferredPresence BeRightBack/BeRightBack true',
      'setPresence Busy/InACall true',
      'clearUserPreferredPresence true',
      'setUserPreferredPresence Busy/InACall false',
    ]);
  });
});

describe('restart after a crash', () => {
  async function restart(h: Harness, during?: (bridge: CoreBridge) => void): Promise<CoreBridge> {
    const bridge = createBridge(h.config, { logger: h.logger, clock: h.clock, storagePath: h.storage, features: [], random: () => 0.5 });
    await bridge.start();
    during?.(bridge);
    await h.clock.advance(STARTUP_GRACE_MS + 5000, async () => {
      await yieldToEventLoop();
      await bridge.whenIdle();
    });
    return bridge;
  }

  /** The previous run's intents are not on disk (none held, or not restorable): the ledger alone decides. */
  async function forgetIntents(h: Harness): Promise<void> {
    await rm(join(h.storage, INTENT_STORE_FILE), { force: true });
  }

  it('clears a session the previous run left behind when nobody asks for it any more', async () => {
    harness = await Harness.create({ config: { onShutdown: 'keep' } }); // keep: like kill -9, nothing is cleared
    const h = harness;
    await h.signal('desk', 'busy');
    await h.bridge.stop();
    await forgetIntents(h);
    expect(h.presenceOf()).toBe('Busy/InACall');
    const second = await restart(h);
    try {
      expect(h.calls()).toEqual([
        { t: 0, call: 'set Busy/InACall', status: 200 },
        { t: Math.round((STARTUP_GRACE_MS / MINUTE) * 1e6) / 1e6, call: 'clear', status: 200 },
      ]);
      expect(h.presenceOf()).toBe('Offline/Offline');
    } finally {
      await second.stop();
    }
  });

  it('still clears the first run\'s session when the next run dies within the grace period', async () => {
    harness = await Harness.create({ config: { onShutdown: 'keep' } });
    const h = harness;
    await h.signal('desk', 'busy');
    await h.bridge.stop();
    await forgetIntents(h);
    const second = createBridge(h.config, { logger: h.logger, clock: h.clock, storagePath: h.storage, features: [], random: () => 0.5 });
    await second.start();
    await h.clock.advance(STARTUP_GRACE_MS / 2, async () => {
      await yieldToEventLoop();
      await second.whenIdle();
    });
    await second.stop(); // keep, and the ledger as the disk holds it: like a second kill -9
    expect(h.callNames()).toEqual(['set Busy/InACall']);
    const third = await restart(h);
    try {
      expect(h.callNames()).toEqual(['set Busy/InACall', 'clear']);
      expect(h.presenceOf()).toBe('Offline/Offline');
    } finally {
      await third.stop();
    }
  });

  it('leaves it to the inputs when they ask for a presence again within the grace period', async () => {
    harness = await Harness.create({ config: { onShutdown: 'keep' } });
    const h = harness;
    await h.signal('desk', 'busy');
    await h.bridge.stop();
    await forgetIntents(h);
    const second = await restart(h, (bridge) => bridge.signal({ input: 'desk', value: 'dnd', at: h.clock.now() }));
    try {
      expect(h.callNames()).toEqual(['set Busy/InACall', 'set DoNotDisturb/Presenting']);
      expect(h.presenceOf()).toBe('DoNotDisturb/Presenting');
    } finally {
      await second.stop(); // onShutdown keep
    }
  });
});
