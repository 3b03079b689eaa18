import { describe, expect, it } from 'vitest';
import {
  AVAILABLE_FADE_MS,
  AVAILABLE_RENEWAL_MARGIN_MS,
  EXPIRATION_RENEWAL_FRACTION,
  EXPIRATION_RENEWAL_MARGIN_MS,
  nextRenewalAt,
  sessionExpiresAt,
} from '../../src/presence/renewalSchedule.js';
import { parseIsoDuration } from '../../src/presence/duration.js';
import { parseSessionPair, SESSION_PAIRS, formatPresence } from '../../src/presence/presencePair.js';
import { retryDelay, DEFAULT_RETRY_CAP_MS } from '../../src/presence/retryDelay.js';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const S = 1000;
const MIN = 60 * S;

describe('renewal constants', () => {
  it('are the documented figures', () => {
    expect(AVAILABLE_FADE_MS).toBe(5 * MIN);
    expect(AVAILABLE_RENEWAL_MARGIN_MS).toBe(90 * S);
    expect(EXPIRATION_RENEWAL_MARGIN_MS).toBe(90 * S);
    expect(EXPIRATION_RENEWAL_FRACTION).toBe(0.2);
  });
});

describe('nextRenewalAt', () => {
  it.each<[string, string, number]>([
    // pair, expiration → ms after confirmation
    ['Available/Available', 'PT5M', 3 * MIN + 30 * S],
    ['Available/Available', 'PT1H', 3 * MIN + 30 * S],
    ['Available/Available', 'PT4H', 3 * MIN + 30 * S],
    ['Busy/InACall', 'PT5M', 3 * MIN + 30 * S],
    ['Busy/InACall', 'PT7M', 5 * MIN + 30 * S],
    ['Busy/InACall', 'PT10M', 8 * MIN], // a fifth (2 min) is more than 90 s,
    ['Busy/InACall', 'PT1H', 48 * MIN],
    ['Busy/InAConferenceCall', 'PT1H', 48 * MIN],
    ['DoNotDisturb/Presenting', 'PT4H', 3 * 60 * MIN + 12 * MIN],
    ['Away/Away', 'PT30M', 24 * MIN],
    // Below Graph's minimum (scaled demos): half-life, never at or before the confirmation.
    ['Busy/InACall', 'PT1M', 30 * S],
    ['Available/Available', 'PT1M', 30 * S],
  ])('%s with %s → +%i ms', (pairText, expiration, expected) => {
    const pair = parseSessionPair(pairText)!;
    const expirationMs = parseIsoDuration(expiration)!;
    expect(nextRenewalAt({ pair, confirmedAt: T0, expirationMs })).toBe(T0 + expected);
  });

  it('no renewal while nothing is asserted', () => {
    expect(nextRenewalAt({ pair: null, confirmedAt: T0, expirationMs: 60 * MIN })).toBeNull();
  });

  it.each(SESSION_PAIRS.flatMap((pair) => ['PT5M', 'PT6M', 'PT15M', 'PT1H', 'PT2H30M', 'PT4H'].map((e) => [formatPresence(pair), e] as const)))(
    '%s with %s: lands before the deadline even after the margin is used up',
    (pairText, expiration) => {
      const pair = parseSessionPair(pairText)!;
      const expirationMs = parseIsoDuration(expiration)!;
      const due = nextRenewalAt({ pair, confirmedAt: T0, expirationMs })!;
      const deadline = Math.min(sessionExpiresAt(T0, expirationMs), pair.availability === 'Available' ? T0 + AVAILABLE_FADE_MS : Infinity);
      expect(due).toBeGreaterThan(T0);
      expect(deadline - due).toBeGreaterThanOrEqual(90 * S);
      // The margin holds a hung request (30 s), a Retry-After of 30 s and a full 30 s rate window.
      expect(30 * S + retryDelay({ attempt: 1, retryAfterMs: 29 * S, random: () => 0 }) + 30 * S).toBeLessThanOrEqual(deadline - due);
      // And a few plain backoff retries fit too.
      const backoff = [1, 2, 3, 4].reduce((sum, attempt) => sum + retryDelay({ attempt, random: () => 0.999 }), 0);
      expect(backoff).toBeLessThan(deadline - due);
      expect(DEFAULT_RETRY_CAP_MS).toBeLessThan(deadline - due);
    },
  );

  it('is measured from the confirmation, not a fixed grid', () => {
    const pair = parseSessionPair('Busy/InACall')!;
    expect(nextRenewalAt({ pair, confirmedAt: T0 + 1234, expirationMs: 60 * MIN })).toBe(T0 + 1234 + 48 * MIN);
  });
});

describe('sessionExpiresAt', () => {
  it.each([
    [0, 5 * MIN, 5 * MIN],
    [1234, 60 * MIN, 1234 + 60 * MIN],
  ])('confirmed at +%i with %i ms → +%i', (at, exp, expected) => {
    expect(sessionExpiresAt(T0 + at, exp)).toBe(T0 + expected);
  });
});
