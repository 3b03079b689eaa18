import { afterEach, describe, expect, it } from 'vitest';
import type { IntentsEvent } from '../../src/bridgeTypes.js';
import { formatPresence, parseSessionPair } from '../../src/presence/presencePair.js';
import { Harness, MINUTE } from '../helpers/harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const held = (event: IntentsEvent | undefined): string[] => (event?.intents ?? []).map((i) => `${i.input}:${formatPresence(i.pair)}`);

describe('the bridge\'s intents event: what each input holds, even when the winner does not change', () => {
  it('a timed homekit intent under a higher-ranked input ends on time, and a clear of it is told, though Graph sees no change', async () => {
    harness = await Harness.create();
    const h = harness;
    const events: IntentsEvent[] = [];
    h.bridge.events.on('intents', (e) => events.push(e));
    await h.signal('desk', 'dnd');
    expect(held(events.at(-1))).toEqual(['desk:DoNotDisturb/Presenting']);

    h.bridge.setIntent('u0', 'homekit', { kind: 'set', pair: parseSessionPair('Busy/InACall')!, at: h.clock.now(), until: h.clock.now() + 10 * MINUTE });
    await h.settle();
    expect(held(events.at(-1))).toEqual(['desk:DoNotDisturb/Presenting', 'homekit:Busy/InACall']);
    expect(h.bridge.activeIntents('u0')).toEqual(events.at(-1)!.intents);
    const statesBefore = h.states.length;
    const count = events.length;

    await h.advance(10 * MINUTE);
    expect(events.length).toBe(count + 1);
    expect(held(events.at(-1))).toEqual(['desk:DoNotDisturb/Presenting']);
    expect(h.presenceOf()).toBe('DoNotDisturb/Presenting');
    // The winner never changed: no state event says anything about the homekit input.
    expect(h.states.slice(statesBefore).map((s) => s.desired && formatPresence(s.desired))).not.toContain('Busy/InACall');

    h.bridge.setIntent('u0', 'homekit', { kind: 'set', pair: parseSessionPair('Busy/InACall')!, at: h.clock.now() });
    h.bridge.setIntent('u0', 'homekit', { kind: 'clear', at: h.clock.now() });
    expect(held(events.at(-1))).toEqual(['desk:DoNotDisturb/Presenting']);
    expect(events.at(-1)!.userKey).toBe('u0');
  });
});
