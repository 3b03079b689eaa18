import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_BASE_MS,
  DEFAULT_RETRY_CAP_MS,
  MAX_RETRY_AFTER_MS,
  RETRY_AFTER_JITTER_MS,
  parseHttpDate,
  parseRetryAfter,
  retryDelay,
} from '../../src/presence/retryDelay.js';

// Sun, 06 Nov 1994 08:49:37 GMT, the RFC's own example.
const RFC_EXAMPLE = Date.UTC(1994, 10, 6, 8, 49, 37);
const NOW = Date.UTC(2026, 0, 5, 9, 0, 0);

describe('parseRetryAfter', () => {
  it.each<[string, string | null | undefined, number, number | undefined]>([
    ['delta-seconds', '120', NOW, 120_000],
    ['zero seconds', '0', NOW, 0],
    ['padded seconds', ' 7 ', NOW, 7000],
    ['one second', '1', NOW, 1000],
    ['absurd seconds are capped', '86400', NOW, MAX_RETRY_AFTER_MS],
    ['overflowing seconds are capped', '9'.repeat(400), NOW, MAX_RETRY_AFTER_MS],
    ['IMF-fixdate in the future', 'Mon, 05 Jan 2026 09:00:30 GMT', NOW, 30_000],
    ['IMF-fixdate, any case', 'mon, 05 JAN 2026 09:01:00 gmt', NOW, 60_000],
    ['IMF-fixdate equal to now', 'Mon, 05 Jan 2026 09:00:00 GMT', NOW, 0],
    ['IMF-fixdate in the past → 0', 'Sun, 06 Nov 1994 08:49:37 GMT', NOW, 0],
    ['IMF-fixdate far in the future is capped', 'Tue, 06 Jan 2026 09:00:00 GMT', NOW, MAX_RETRY_AFTER_MS],
    ['RFC 850 date', 'Monday, 05-Jan-26 09:00:10 GMT', NOW, 10_000],
    ['asctime date', 'Mon Jan  5 09:00:20 2026', NOW, 20_000],
    ['asctime two-digit day', 'Thu Jan 15 09:00:00 2026', Date.UTC(2026, 0, 15, 8, 59, 0), 60_000],
    ['no header', undefined, NOW, undefined],
    ['null header', null, NOW, undefined],
    ['empty', '', NOW, undefined],
    ['blank', '   ', NOW, undefined],
    ['negative seconds', '-5', NOW, undefined],
    ['fractional seconds (Graph sends them)', '1.5', NOW, 1500],
    ["Graph's throttling sample", '2.128', NOW, 2128],
    ['fractional seconds round up', '0.0001', NOW, 1],
    ['a bare dot is garbage', '2.', NOW, undefined],
    ['a leading dot is garbage', '.5', NOW, undefined],
    ['unit suffix', '10s', NOW, undefined],
    ['words', 'soon', NOW, undefined],
    ['ISO date is not an HTTP-date', '2026-01-05T09:01:00Z', NOW, undefined],
    ['date without GMT', 'Mon, 05 Jan 2026 09:01:00', NOW, undefined],
    ['impossible date', 'Tue, 31 Feb 2026 09:00:00 GMT', NOW, undefined],
    ['bad hour', 'Mon, 05 Jan 2026 25:00:00 GMT', NOW, undefined],
  ])('%s: %j', (_name, value, now, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('parseHttpDate', () => {
  it.each([
    ['Sun, 06 Nov 1994 08:49:37 GMT', RFC_EXAMPLE],
    ['Sunday, 06-Nov-94 08:49:37 GMT', RFC_EXAMPLE],
    ['Sun Nov  6 08:49:37 1994', RFC_EXAMPLE],
    ['Thursday, 01-Jan-65 00:00:00 GMT', Date.UTC(2065, 0, 1)],
    ['Nov 6 1994', undefined],
  ])('%j', (text, expected) => {
    expect(parseHttpDate(text)).toBe(expected);
  });
});

describe('retryDelay', () => {
  const fixed = (r: number) => () => r;
  it.each<[string, number, number | undefined, number, number]>([
    // name, attempt, retryAfterMs, random → expected ms
    ['first retry, least jitter', 1, undefined, 0, 500],
    ['first retry, most jitter', 1, undefined, 0.999999, 1000],
    ['first retry, middle', 1, undefined, 0.5, 750],
    ['second retry doubles', 2, undefined, 0, 1000],
    ['third retry', 3, undefined, 0, 2000],
    ['fifth retry', 5, undefined, 0.5, 12_000],
    ['sixth retry reaches the cap', 6, undefined, 0.999999, 30_000],
    ['capped at 30 s', 7, undefined, 0, 15_000],
    ['still capped much later', 50, undefined, 0.999999, 30_000],
    ['huge attempt does not overflow', 100_000, undefined, 0.5, 22_500],
    ['attempt 0 counts as the first', 0, undefined, 0, 500],
    ['Retry-After wins over backoff', 1, 20_000, 0, 20_000],
    ['Retry-After plus jitter', 1, 20_000, 0.5, 20_500],
    ['Retry-After smaller than backoff still wins', 8, 2000, 0, 2000],
    ['Retry-After 0 retries almost at once', 3, 0, 0, 0],
    ['Retry-After beyond the maximum is capped', 1, 3_600_000, 0, MAX_RETRY_AFTER_MS],
    ['negative Retry-After is ignored', 1, -5, 0, 500],
    ['NaN Retry-After is ignored', 2, Number.NaN, 0, 1000],
  ])('%s', (_name, attempt, retryAfterMs, r, expected) => {
    expect(retryDelay({ attempt, retryAfterMs, random: fixed(r) })).toBe(expected);
  });

  it.each([0, 0.1, 0.37, 0.5, 0.9, 0.999999])('never less than Retry-After, at most the jitter more (random %f)', (r) => {
    for (const retryAfterMs of [0, 1000, 30_000, 120_000]) {
      const d = retryDelay({ attempt: 4, retryAfterMs, random: fixed(r) });
      expect(d).toBeGreaterThanOrEqual(retryAfterMs);
      expect(d).toBeLessThanOrEqual(retryAfterMs + RETRY_AFTER_JITTER_MS);
    }
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 20])('attempt %i stays inside [step/2, step]', (attempt) => {
    const step = Math.min(DEFAULT_RETRY_CAP_MS, DEFAULT_RETRY_BASE_MS * 2 ** (attempt - 1));
    for (const r of [0, 0.25, 0.5, 0.75, 0.999999]) {
      const d = retryDelay({ attempt, random: fixed(r) });
      expect(d).toBeGreaterThanOrEqual(step / 2);
      expect(d).toBeLessThanOrEqual(step);
    }
  });

  it('honours baseMs and capMs', () => {
    expect(retryDelay({ attempt: 1, random: fixed(0), baseMs: 200, capMs: 1000 })).toBe(100);
    expect(retryDelay({ attempt: 10, random: fixed(0.999999), baseMs: 200, capMs: 1000 })).toBe(1000);
  });

  it('tolerates a random() outside [0, 1)', () => {
    expect(retryDelay({ attempt: 1, random: fixed(5) })).toBe(1000);
    expect(retryDelay({ attempt: 1, random: fixed(-1) })).toBe(500);
    expect(retryDelay({ attempt: 1, random: fixed(Number.NaN) })).toBe(500);
  });
});
