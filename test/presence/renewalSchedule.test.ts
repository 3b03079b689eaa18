import { describe, expect, it } from 'vitest';
import {
  AVAILABLE_FADE_MS,
  AVAILABLE_RENEWAL_MARGIN_MS,
  availableRenewalMargin,
  CALM_RENEWAL_MARGIN_MS,
  calmRenewalMargin,
  EXPIRATION_RENEWAL_FRACTION,
  MAX_RENEWAL_MARGIN_MS,
  recordTrouble,
  RENEWAL_CALM_AFTER_MS,
  SLOW_CALL_MS,
  troubleOf,
  EXPIRATION_RENEWAL_MARGIN_MS,
  nextRenewalAt,
  sessionExpiresAt,
} from '../../src/presence/renewalSchedule.js';
import type { CallOutcome } from '../../src/presence/renewalSchedule.js';
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

describe('adaptive Available renewal margin', () => {
  const TIMEOUT = 30 * S;
  const ok = (over: Partial<CallOutcome> = {}): CallOutcome => ({ at: T0, ok: true, durationMs: 200, waitedMs: 0, ...over });

  it.each<[string, CallOutcome, number | null]>([
    ['a fast answer', ok(), null],
    ['an answer at the slow threshold', ok({ durationMs: SLOW_CALL_MS }), null],
    ['a slow answer', ok({ durationMs: 8 * S }), 8 * S],
    ['a renewal held by the request budget', ok({ waitedMs: 12 * S }), 12 * S + 200],
    ['a fast 503 without Retry-After', ok({ ok: false, durationMs: 100 }), 100 + TIMEOUT],
    ['a 429 with Retry-After 20 s', ok({ ok: false, durationMs: 100, retryAfterMs: 20 * S }), 100 + 20 * S],
    ['a request that hung to the timeout', ok({ ok: false, durationMs: TIMEOUT }), 2 * TIMEOUT],
  ])('troubleOf(%s)', (_what, outcome, expected) => {
    expect(troubleOf(outcome, TIMEOUT)).toBe(expected);
  });

  it.each<[string, number, number]>([
    // timeout → calm margin
    ['the default 30 s timeout', 30 * S, 45 * S],
    ['a short timeout keeps the floor', 5 * S, CALM_RENEWAL_MARGIN_MS],
    ['a 60 s timeout', 60 * S, 75 * S],
    ['an absurd timeout is capped at half the fade', 10 * MIN, MAX_RENEWAL_MARGIN_MS],
  ])('calm margin with %s', (_what, timeoutMs, expected) => {
    expect(calmRenewalMargin(timeoutMs)).toBe(expected);
    expect(availableRenewalMargin(T0, timeoutMs, null)).toBe(expected);
  });

  it.each<[string, number, number]>([
    // trouble seen at T0 needing `extra`, asked `after` ms later → margin
    ['right after a 503: at least the wide 90 s', 0, 90 * S],
    ['a minute after', MIN, 90 * S],
    ['just before calm returns', RENEWAL_CALM_AFTER_MS - 1, 90 * S],
    ['once calm for 15 min: back to the calm margin', RENEWAL_CALM_AFTER_MS, 45 * S],
  ])('after a 503: %s', (_what, after, expected) => {
    const trouble = recordTrouble(null, ok({ ok: false, durationMs: 100 }), TIMEOUT);
    expect(availableRenewalMargin(T0 + after, TIMEOUT, trouble)).toBe(expected);
  });

  it('a hung request widens past 90 s, capped at half the fade; a later small fault keeps the larger need', () => {
    let trouble = recordTrouble(null, ok({ ok: false, durationMs: TIMEOUT }), TIMEOUT);
    expect(availableRenewalMargin(T0, TIMEOUT, trouble)).toBe(45 * S + 2 * TIMEOUT); // 105 s
    trouble = recordTrouble(trouble, ok({ at: T0 + 5 * MIN, ok: false, durationMs: 100, retryAfterMs: S }), TIMEOUT);
    expect(trouble).toEqual({ at: T0 + 5 * MIN, extraMs: 2 * TIMEOUT });
    expect(availableRenewalMargin(T0 + 5 * MIN + RENEWAL_CALM_AFTER_MS - 1, TIMEOUT, trouble)).toBe(105 * S);
    // a healthy call changes nothing: calm comes from time without trouble
    expect(recordTrouble(trouble, ok({ at: T0 + 6 * MIN }), TIMEOUT)).toBe(trouble);
    const huge = recordTrouble(null, ok({ ok: false, durationMs: 100, retryAfterMs: 10 * MIN }), TIMEOUT);
    expect(availableRenewalMargin(T0, TIMEOUT, huge)).toBe(MAX_RENEWAL_MARGIN_MS);
  });

  it('old trouble is forgotten: new trouble after calm starts from its own need', () => {
    const old = recordTrouble(null, ok({ ok: false, durationMs: TIMEOUT }), TIMEOUT);
    const fresh = recordTrouble(old, ok({ at: T0 + RENEWAL_CALM_AFTER_MS, ok: false, durationMs: 100, retryAfterMs: 5 * S }), TIMEOUT);
    expect(fresh).toEqual({ at: T0 + RENEWAL_CALM_AFTER_MS, extraMs: 5_100 });
    expect(availableRenewalMargin(T0 + RENEWAL_CALM_AFTER_MS, TIMEOUT, fresh)).toBe(90 * S);
  });

  it.each<[number, number]>([
    [45 * S, 4 * MIN + 15 * S],
    [90 * S, 3 * MIN + 30 * S],
    [150 * S, 2 * MIN + 30 * S],
    [10 * MIN, 2 * MIN + 30 * S], // capped
  ])('nextRenewalAt for Available with a %i ms margin → +%i ms; other states keep their schedule', (margin, expected) => {
    const available = parseSessionPair('Available/Available')!;
    const busy = parseSessionPair('Busy/InACall')!;
    expect(nextRenewalAt({ pair: available, confirmedAt: T0, expirationMs: 60 * MIN, availableMarginMs: margin })).toBe(T0 + expected);
    expect(nextRenewalAt({ pair: busy, confirmedAt: T0, expirationMs: 60 * MIN, availableMarginMs: margin })).toBe(T0 + 48 * MIN);
  });

  it('the calm margin holds the first fault of a calm run: a hang to the timeout and one retry, or a burst of five 503s', () => {
    const margin = calmRenewalMargin(TIMEOUT);
    expect(TIMEOUT + retryDelay({ attempt: 1, random: () => 0.999 }) + 5 * S).toBeLessThan(margin);
    const fiveRetries = [1, 2, 3, 4, 5].reduce((sum, attempt) => sum + retryDelay({ attempt, random: () => 0.999 }), 0);
    expect(fiveRetries).toBeLessThan(margin);
    // a healthy run costs at most 1.25 × the minimum of one call per fade period
    expect(AVAILABLE_FADE_MS / (AVAILABLE_FADE_MS - margin)).toBeLessThanOrEqual(1.25);
  });
});
