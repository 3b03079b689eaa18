import { describe, expect, it } from 'vitest';
import type { DesiredState } from '../../src/presence/intent.js';
import { CLEAR } from '../../src/presence/intent.js';
import type { PresencePair } from '../../src/presence/presencePair.js';
import type { SessionFacts } from '../../src/session/publisherState.js';
import { decide, explainPresence, isOverridden, sessionDeadline } from '../../src/session/publisherState.js';

const MIN = 60_000;
const T0 = 1_000_000_000;
const busy: PresencePair = { availability: 'Busy', activity: 'InACall' };
const available: PresencePair = { availability: 'Available', activity: 'Available' };
const dnd: PresencePair = { availability: 'DoNotDisturb', activity: 'Presenting' };
const set = (pair: PresencePair): DesiredState => ({ kind: 'set', pair, source: 'desk' });

function facts(overrides: Partial<SessionFacts>): SessionFacts {
  return {
    desired: CLEAR,
    desiredAt: T0,
    confirmed: null,
    confirmedAt: null,
    uncertain: false,
    retryAt: null,
    blocked: false,
    lastCallAt: null,
    firstRenewalFraction: null,
    expirationMs: 60 * MIN,
    ...overrides,
  };
}

describe('decide', () => {
  const cases: { name: string; facts: SessionFacts; now: number; expected: ReturnType<typeof decide> }[] = [
    { name: 'nothing asked, nothing held', facts: facts({}), now: T0, expected: { kind: 'idle' } },
    { name: 'new pair is set at once', facts: facts({ desired: set(busy) }), now: T0, expected: { kind: 'set', pair: busy, deadline: T0, renewal: false } },
    {
      name: 'a different confirmed pair is replaced',
      facts: facts({ desired: set(dnd), confirmed: busy, confirmedAt: T0 - MIN }),
      now: T0,
      expected: { kind: 'set', pair: dnd, deadline: T0, renewal: false },
    },
    {
      name: 'confirmed Busy waits for its renewal (48 min into PT1H)',
      facts: facts({ desired: set(busy), confirmed: busy, confirmedAt: T0 }),
      now: T0 + MIN,
      expected: { kind: 'wait', until: T0 + 48 * MIN, reason: 'renewal' },
    },
    {
      name: 'Busy renewal is due; its deadline is the expiration',
      facts: facts({ desired: set(busy), confirmed: busy, confirmedAt: T0 }),
      now: T0 + 48 * MIN,
      expected: { kind: 'set', pair: busy, deadline: T0 + 60 * MIN, renewal: true },
    },
    {
      name: 'Available renews 90 s before its 5-minute fade; deadline is the fade',
      facts: facts({ desired: set(available), confirmed: available, confirmedAt: T0 }),
      now: T0 + 3.5 * MIN,
      expected: { kind: 'set', pair: available, deadline: T0 + 5 * MIN, renewal: true },
    },
    {
      name: 'an expired session is set again, not renewed',
      facts: facts({ desired: set(busy), confirmed: busy, confirmedAt: T0 - 61 * MIN }),
      now: T0,
      expected: { kind: 'set', pair: busy, deadline: T0, renewal: false },
    },
    { name: 'clear with a live session', facts: facts({ confirmed: busy, confirmedAt: T0 }), now: T0 + MIN, expected: { kind: 'clear', deadline: T0 } },
    { name: 'clear after the session expired: nothing to do', facts: facts({ confirmed: busy, confirmedAt: T0 - 61 * MIN }), now: T0, expected: { kind: 'idle' } },
    { name: 'clear when a call ended without an answer', facts: facts({ uncertain: true }), now: T0, expected: { kind: 'clear', deadline: T0 } },
    {
      name: 'same pair but uncertain outcome: set again',
      facts: facts({ desired: set(busy), confirmed: busy, confirmedAt: T0, uncertain: true }),
      now: T0 + MIN,
      expected: { kind: 'set', pair: busy, deadline: T0, renewal: false },
    },
    {
      name: 'backoff holds a needed call',
      facts: facts({ desired: set(busy), retryAt: T0 + 5000 }),
      now: T0 + 1000,
      expected: { kind: 'wait', until: T0 + 5000, reason: 'backoff' },
    },
    { name: 'backoff over', facts: facts({ desired: set(busy), retryAt: T0 + 5000 }), now: T0 + 5000, expected: { kind: 'set', pair: busy, deadline: T0, renewal: false } },
    {
      name: 'backoff does not hold a renewal wait',
      facts: facts({ desired: set(busy), confirmed: busy, confirmedAt: T0, retryAt: T0 + 5000 }),
      now: T0 + 1000,
      expected: { kind: 'wait', until: T0 + 48 * MIN, reason: 'renewal' },
    },
    {
      name: 'a change right after a call waits for the spacing',
      facts: facts({ desired: set(dnd), confirmed: busy, confirmedAt: T0, lastCallAt: T0 }),
      now: T0 + 500,
      expected: { kind: 'wait', until: T0 + 2000, reason: 'spacing' },
    },
    {
      name: 'spacing over: the change goes',
      facts: facts({ desired: set(dnd), confirmed: busy, confirmedAt: T0, lastCallAt: T0 }),
      now: T0 + 2000,
      expected: { kind: 'set', pair: dnd, deadline: T0, renewal: false },
    },
    {
      name: 'the first renewal after a change comes early by the random fraction (0.75 × 48 min)',
      facts: facts({ desired: set(busy), confirmed: busy, confirmedAt: T0, firstRenewalFraction: 0.75 }),
      now: T0 + MIN,
      expected: { kind: 'wait', until: T0 + 36 * MIN, reason: 'renewal' },
    },
    {
      name: 'the fraction never goes below half the interval',
      facts: facts({ desired: set(available), confirmed: available, confirmedAt: T0, firstRenewalFraction: 0 }),
      now: T0,
      expected: { kind: 'wait', until: T0 + 105_000, reason: 'renewal' },
    },
    { name: 'blocked: idle whatever is asked', facts: facts({ desired: set(busy), blocked: true }), now: T0, expected: { kind: 'idle' } },
  ];
  it.each(cases)('$name', ({ facts: f, now, expected }) => {
    expect(decide(f, now)).toEqual(expected);
  });
});

describe('sessionDeadline', () => {
  it('is the fade for Available and the expiration otherwise', () => {
    expect(sessionDeadline(available, T0, 60 * MIN)).toBe(T0 + 5 * MIN);
    expect(sessionDeadline(busy, T0, 60 * MIN)).toBe(T0 + 60 * MIN);
    expect(sessionDeadline(dnd, T0, 5 * MIN)).toBe(T0 + 5 * MIN);
  });
});

describe('isOverridden', () => {
  const cases: [PresencePair | null, { availability: string } | null, boolean][] = [
    [busy, { availability: 'Busy' }, false],
    [busy, { availability: 'DoNotDisturb' }, false], // a higher session of another app explains it
    [busy, { availability: 'Available' }, true],
    [busy, { availability: 'BeRightBack' }, true], // user-preferred
    [busy, { availability: 'Offline' }, true],
    [available, { availability: 'AvailableIdle' }, false],
    [available, { availability: 'Away' }, true],
    [null, { availability: 'Offline' }, false], // nothing asserted: nothing to override
    [busy, null, false],
  ];
  it.each(cases)('asserted %o, actual %o → %s', (asserted, actual, expected) => {
    expect(isOverridden(asserted, actual)).toBe(expected);
  });
});

describe('explainPresence', () => {
  const cases: [PresencePair | null, { availability: string; activity: string } | null, string | null][] = [
    [available, { availability: 'Available', activity: 'Available' }, 'ours'],
    [available, { availability: 'Available', activity: 'AvailableInactive' }, 'ours'], // our fade
    [available, { availability: 'Busy', activity: 'InAMeeting' }, 'otherSession'], // the user's Teams client
    [available, { availability: 'DoNotDisturb', activity: 'Presenting' }, 'otherSession'],
    [busy, { availability: 'Busy', activity: 'InAConferenceCall' }, 'otherSession'], // same rank, later post
    [available, { availability: 'Busy', activity: 'Busy' }, 'preferred'], // a preferred pair
    [busy, { availability: 'DoNotDisturb', activity: 'DoNotDisturb' }, 'preferred'],
    [busy, { availability: 'BeRightBack', activity: 'BeRightBack' }, 'preferred'],
    [busy, { availability: 'Offline', activity: 'OffWork' }, 'preferred'],
    [busy, { availability: 'Available', activity: 'Available' }, 'preferred'], // lower than ours: only a preference does that
    [null, { availability: 'Busy', activity: 'InACall' }, null],
    [busy, null, null],
  ];
  it.each(cases)('asserted %o, actual %o → %s', (asserted, actual, expected) => {
    expect(explainPresence(asserted, actual)).toBe(expected);
    expect(isOverridden(asserted, actual)).toBe(expected === 'preferred');
  });
});
