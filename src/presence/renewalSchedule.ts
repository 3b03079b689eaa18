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
 * The wide margin: how long before the fade an Available session is re-posted while Graph is in
 * trouble (see {@link availableRenewalMargin}), 90 s, so renewals go out every 3 min 30 s. The
 * figure covers the worst a single renewal meets before it lands: one request that hangs to the
 * default Graph timeout (30 s), then a 429/503 whose Retry-After makes us wait (Graph asks for
 * seconds, not minutes; up to 30 s budgeted), then a wait for the 30 s rate-limit window to free a
 * slot (at most 30 s). 30 + 30 + 30 = 90 s.
 */
export const AVAILABLE_RENEWAL_MARGIN_MS = 90_000;

/**
 * The calm margin's floor (45 s, renewals every 4 min 15 s, 1.18 × the minimum of one call per
 * fade period). While requests are fast and unthrottled, one renewal meets at most one fault
 * before the margin widens for the next ones: a request that hangs to the timeout (30 s by
 * default) and one quick retry, or a short burst of 503s (backoff 0.5 + 1 + 2 + 4 + 8 s), or a
 * Retry-After of up to ~40 s. The calm margin is the timeout plus {@link CALM_MARGIN_SLACK_MS},
 * and never below this.
 */
export const CALM_RENEWAL_MARGIN_MS = 45_000;

/** What the calm margin adds to the request timeout: room for one retry after a hung request. */
export const CALM_MARGIN_SLACK_MS = 15_000;

/** The widest margin (half the fade period): however bad the trouble, renew at most every 2.5 min. */
export const MAX_RENEWAL_MARGIN_MS = 150_000;

/** A call slower than this (answered, or waiting for the request budget) counts as trouble. */
export const SLOW_CALL_MS = 5_000;

/** After trouble, the margin stays wide until this long has passed without any. */
export const RENEWAL_CALM_AFTER_MS = 15 * 60_000;

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
  /**
   * How long before the fade an Available session is re-posted ({@link availableRenewalMargin});
   * the wide {@link AVAILABLE_RENEWAL_MARGIN_MS} when not given.
   */
  readonly availableMarginMs?: number;
}

/** When the next setPresence is due (ms since epoch), or null when nothing is asserted. */
export function nextRenewalAt({ pair, confirmedAt, expirationMs, availableMarginMs = AVAILABLE_RENEWAL_MARGIN_MS }: RenewalInput): number | null {
  if (!pair) return null;
  let interval = expirationInterval(expirationMs);
  if (pair.availability === 'Available') {
    const margin = Math.min(Math.max(availableMarginMs, 0), MAX_RENEWAL_MARGIN_MS);
    interval = Math.min(interval, AVAILABLE_FADE_MS - margin);
  }
  return Math.round(confirmedAt + interval);
}

/** One finished Graph call, as the adaptive margin sees it. */
export interface CallOutcome {
  /** When the call ended (ms since epoch). */
  readonly at: number;
  readonly ok: boolean;
  /** From the request leaving to its answer (or failure). */
  readonly durationMs: number;
  /** How long a renewal waited past its due time for the request budget (0 for other calls). */
  readonly waitedMs: number;
  /** The server's Retry-After on a failure, in ms. */
  readonly retryAfterMs?: number | undefined;
}

/** Trouble seen recently: when, and how much longer than a healthy one a renewal may now take. */
export interface RenewalTrouble {
  readonly at: number;
  readonly extraMs: number;
}

/**
 * What a call says about the next renewals: null when it was healthy (answered, fast, not held
 * by the budget); otherwise how long a renewal may take beyond a healthy one: the time it took
 * or waited, plus, for a failure, the Retry-After or (without one) another full timeout.
 */
export function troubleOf(outcome: CallOutcome, timeoutMs: number): number | null {
  const slow = outcome.durationMs > SLOW_CALL_MS || outcome.waitedMs > SLOW_CALL_MS;
  if (outcome.ok && !slow) return null;
  const spent = Math.max(0, outcome.durationMs) + Math.max(0, outcome.waitedMs);
  return outcome.ok ? spent : spent + (outcome.retryAfterMs ?? timeoutMs);
}

/**
 * The trouble to remember after a call: a healthy call changes nothing (the trouble ages out by
 * itself); new trouble restarts the wait for calm, keeping the larger need while the old is recent.
 */
export function recordTrouble(previous: RenewalTrouble | null, outcome: CallOutcome, timeoutMs: number): RenewalTrouble | null {
  const extraMs = troubleOf(outcome, timeoutMs);
  if (extraMs === null) return previous;
  const recent = previous !== null && outcome.at - previous.at < RENEWAL_CALM_AFTER_MS;
  return { at: Math.max(outcome.at, previous?.at ?? outcome.at), extraMs: recent ? Math.max(extraMs, previous.extraMs) : extraMs };
}

/** The calm margin for a request timeout: the timeout and one retry, at least {@link CALM_RENEWAL_MARGIN_MS}. */
export function calmRenewalMargin(timeoutMs: number): number {
  return Math.min(MAX_RENEWAL_MARGIN_MS, Math.max(CALM_RENEWAL_MARGIN_MS, timeoutMs + CALM_MARGIN_SLACK_MS));
}

/**
 * How long before its fade an Available session is re-posted now (pure). Small while calls are
 * fast and unthrottled ({@link calmRenewalMargin}); for {@link RENEWAL_CALM_AFTER_MS} after a
 * slow, failed or throttled call, at least the wide {@link AVAILABLE_RENEWAL_MARGIN_MS} and enough
 * for the trouble seen again on top of the calm margin, up to {@link MAX_RENEWAL_MARGIN_MS}.
 */
export function availableRenewalMargin(now: number, timeoutMs: number, trouble: RenewalTrouble | null): number {
  const calm = calmRenewalMargin(timeoutMs);
  if (trouble === null || now - trouble.at >= RENEWAL_CALM_AFTER_MS) return calm;
  return Math.min(MAX_RENEWAL_MARGIN_MS, Math.max(AVAILABLE_RENEWAL_MARGIN_MS, calm + trouble.extraMs));
}
