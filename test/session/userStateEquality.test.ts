import { describe, expect, it } from 'vitest';
import { sameUserState, type UserState } from '../../src/session/userState.js';

// Issue 16: a publisher decides whether it has a new state to tell by comparing fields, not by
// building a JSON text of its whole state on every change. The comparison must still see every
// field change (else an output would miss it) and only those.

const base: UserState = {
  userKey: 'u0',
  userId: '00000000-0000-0000-0000-000000000001',
  displayName: 'Alex',
  desired: { availability: 'Busy', activity: 'InACall' },
  source: 'desk',
  confirmed: { availability: 'Busy', activity: 'InACall' },
  sessionExpiresAt: 3_600_000,
  nextRenewalAt: 2_880_000,
  health: 'ok',
  lastError: { code: 'THROTTLED', message: 'HTTP 429', hint: 'later', at: 5 },
  actual: { availability: 'Busy', activity: 'InACall' },
  overridden: false,
  actualFrom: 'ours',
  gated: { gate: 'workingHours', note: 'after hours' },
  updatedAt: 1,
};

const changes: { readonly [K in keyof UserState]?: UserState[K][] } = {
  userKey: ['u1'],
  userId: ['00000000-0000-0000-0000-000000000002'],
  displayName: ['Megan'],
  desired: [null, { availability: 'Busy', activity: 'Presenting' }, { availability: 'Away', activity: 'InACall' }],
  source: [null, 'headset'],
  confirmed: [null, { availability: 'Away', activity: 'Away' }],
  sessionExpiresAt: [null, 3_600_001],
  nextRenewalAt: [null, 1],
  health: ['retrying', 'pending', 'unhealthy'],
  lastError: [null, { code: 'THROTTLED', message: 'HTTP 429', hint: 'later', at: 6 }, { code: 'UNAVAILABLE', message: 'HTTP 429', hint: 'later', at: 5 }],
  actual: [null, { availability: 'Busy', activity: 'Presenting' }],
  overridden: [true],
  actualFrom: [null, undefined, 'preferred', 'otherSession'],
  gated: [null, undefined, { gate: 'workingHours', note: 'before hours' }, { gate: 'other', note: 'after hours' }],
};

describe('sameUserState', () => {
  it('equal content in new objects is the same state, whatever the time', () => {
    const copy = JSON.parse(JSON.stringify({ ...base, updatedAt: 99 })) as UserState;
    expect(copy).not.toBe(base);
    expect(sameUserState(base, copy)).toBe(true);
  });

  it('a change of any field but the time is a new state', () => {
    const keys = Object.keys(base).filter((k) => k !== 'updatedAt') as (keyof UserState)[];
    for (const key of keys) {
      const values = changes[key];
      expect(values, `a change to try for ${key}`).toBeDefined();
      for (const value of values!) {
        const changed = { ...base, [key]: value };
        expect(sameUserState(base, changed), `${key} -> ${JSON.stringify(value)}`).toBe(false);
        expect(sameUserState(changed, base), `${JSON.stringify(value)} <- ${key}`).toBe(false);
      }
    }
  });
});
