import type { PresencePair } from './presencePair.js';

/**
 * When the next setPresence is due for the state we assert (pure).
 *
 * Graph facts (DESIGN.md): an `Available` session fades to AvailableInactive 5 minutes after the
 * last setPresence whatever its expiration, and every session ends (Offline) at its expiration.
 * A renewal is a plain setPresence of the same pair, so it must *land* before either deadline.
 */

/** An Available session fades this long after the last setPresence. */
export const AVAILABLE_FADE_MS = 5 * 60_000;

/**
 * How long before the fade an Available session is re-posted: 90 s, so renewals go out every
 * 3 min 30 s. The figure covers the worst a single renewal meets before it lands: one request
 * that hangs to the default Graph timeout (30 s), then a 429/503 whose Retry-After makes us wait
 * (Graph asks for seconds, not minutes; up to 30 s budgeted), then a wait for the 30 s rate-limit
 * window to free a slot (at most 30 s). 30 + 30 + 30 = 90 s.
 */
export const AVAILABLE_RENEWAL_MARGIN_MS = 90_000;

/**
 * The least any session is renewed ahead of its expiration: the same 90 s budget as
 * {@link AVAILABLE_RENEWAL_MARGIN_MS}, for the same reasons.
 */
export const EXPIRATION_RENEWAL_MARGIN_MS = 90_000;

/**
 * Longer sessions are renewed a fifth of their length early (PT1H at 48 min, PT4H at 3 h 12 min),
 * so that a Graph outage of up to that long is ridden out by retries before the session ends;
 * this costs one request per session every 0.8 × expiration, negligible against the throttle.
 */
export const EXPIRATION_RENEWAL_FRACTION = 0.2;

/** When a session confirmed at `confirmedAt` expires at Graph. */
export function sessionExpiresAt(confirmedAt: number, expirationMs: number): number {
  return confirmedAt + expirationMs;
}

/** Time between a confirmed setPresence and the renewal it needs, before the expiration. */
function expirationInterval(expirationMs: number): number {
  const margin = Math.max(EXPIRATION_RENEWAL_MARGIN_MS, expirationMs * EXPIRATION_RENEWAL_FRACTION);
  // Never schedule at or before the confirmation itself (only reachable with expirations below
  // Graph's 5-minute minimum, e.g. in a scaled demo): then renew at half-life.
  return Math.max(expirationMs - margin, expirationMs / 2);
}

export interface RenewalInput {
  /** The pair we assert and Graph confirmed, or null when nothing is asserted. */
  readonly pair: PresencePair | null;
  /** When Graph last confirmed setPresence for it (ms since epoch). */
  readonly confirmedAt: number;
  /** The expirationDuration sent with that setPresence, in ms. */
  readonly expirationMs: number;
}

/** When the next setPresence is due (ms since epoch), or null when nothing is asserted. */
export function nextRenewalAt({ pair, confirmedAt, expirationMs }: RenewalInput): number | null {
  if (!pair) return null;
  let interval = expirationInterval(expirationMs);
  if (pair.availability === 'Available') interval = Math.min(interval, AVAILABLE_FADE_MS - AVAILABLE_RENEWAL_MARGIN_MS);
  return Math.round(confirmedAt + interval);
}
