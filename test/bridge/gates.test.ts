import { afterEach, describe, expect, it } from 'vitest';
import type { GateInput, PresenceGate } from '../../src/feature.js';
import { Harness, MINUTE } from './harness.js';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Holds every input back until `boundary.at` (ms since epoch), then lets everything through. */
function holdUntil(boundary: { at: number }): PresenceGate {
  return {
    name: 'hold',
    apply: (input, now) => (now < boundary.at ? { desired: null, source: null, note: 'held until the boundary' } : { desired: input.desired, source: input.source, note: null }),
    nextChangeAt: (_userKey, now) => (now < boundary.at ? boundary.at : null),
  };
}

describe('gates between the arbiter and the publisher (issue 17 item 4), on the emulator', () => {
  it('a gate holds an input back, says so in the state, and lets it through at its boundary with no new input', async () => {
    const boundary = { at: Number.POSITIVE_INFINITY };
    harness = await Harness.create({ start: false, gates: [holdUntil(boundary)] });
    const h = harness;
    boundary.at = h.clock.now() + 30 * MINUTE;
    await h.bridge.start();
    await h.settle();
    await h.signal('desk', 'busy');
    expect(h.callNames()).toEqual([]);
    expect(h.presenceOf()).toBe('Offline/Offline');
    expect(h.bridge.state('u0')).toMatchObject({ desired: null, source: null, gated: { gate: 'hold', note: 'held until the boundary' } });
    expect(h.bridge.activeIntents('u0').map((i) => i.input)).toEqual(['desk']); // held, not lost

    await h.advance(30 * MINUTE - 1);
    expect(h.callNames()).toEqual([]);
    await h.advance(1);
    expect(h.callNames()).toEqual(['set Busy/InACall']);
    expect(h.presenceOf()).toBe('Busy/InACall');
    expect(h.bridge.state('u0')).toMatchObject({ desired: { availability: 'Busy', activity: 'InACall' }, source: 'desk', gated: null });
    // the boundary passed: the gate asks for no further wake-up, so only the session's renewals remain
    expect(h.states.at(-1)?.gated).toBeNull();
  });

  it('applies the features\' gates first, then BridgeDeps.gates, each seeing what the one before left and every held intent', async () => {
    const seen: GateInput[] = [];
    const recorder: PresenceGate = {
      name: 'recorder',
      apply: (input) => {
        seen.push(input);
        return { desired: input.desired, source: input.source, note: null };
      },
      nextChangeAt: () => null,
    };
    harness = await Harness.create({
      gates: [recorder],
      features: [
        {
          name: 'awayOnly',
          select: (config) => ({ users: config.users.length }),
          gates: (slice: { users: number }, context) => {
            expect(slice.users).toBe(1);
            expect(typeof context.clock.now()).toBe('number');
            return [
              {
                name: 'awayOnly',
                apply: (input) => (input.desired ? { desired: { availability: 'Away', activity: 'Away' }, source: input.source, note: 'only Away allowed' } : { desired: null, source: null, note: null }),
                nextChangeAt: () => null,
              },
            ];
          },
        },
      ],
    });
    const h = harness;
    await h.signal('desk', 'busy');
    expect(h.callNames()).toEqual(['set Away/Away']);
    expect(h.bridge.state('u0')).toMatchObject({ desired: { availability: 'Away' }, source: 'desk', gated: { gate: 'awayOnly', note: 'only Away allowed' } });
    const last = seen.at(-1)!;
    expect(last.desired).toEqual({ availability: 'Away', activity: 'Away' });
    expect(last.intents.map((i) => `${i.input} ${i.pair.availability}`)).toEqual(['desk Busy']);
  });

  it('a gate that throws, or answers a pair no session can hold, is logged and let through', async () => {
    const throwing: PresenceGate = {
      name: 'broken',
      apply: () => {
        throw new Error('gate exploded');
      },
      nextChangeAt: () => {
        throw new Error('no idea when');
      },
    };
    const nonsense: PresenceGate = { name: 'nonsense', apply: () => ({ desired: { availability: 'Offline', activity: 'Offline' }, source: 'x', note: 'n' }), nextChangeAt: () => null };
    harness = await Harness.create({ gates: [throwing, nonsense] });
    const h = harness;
    await h.signal('desk', 'busy');
    expect(h.callNames()).toEqual(['set Busy/InACall']);
    expect(h.bridge.state('u0')?.gated).toBeNull();
    expect(h.logger.lines).toContain('error gate "broken": u0: gate exploded; let through');
    expect(h.logger.lines).toContain('error gate "broken": u0: no idea when');
    expect(h.logger.lines.some((l) => l.startsWith('error gate "nonsense": u0: Offline/Offline is no presence a session can hold'))).toBe(true);
  });
});
