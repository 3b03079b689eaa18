import type { DesiredState } from '../presence/intent.js';
import type { PresencePair } from '../presence/presencePair.js';
import { samePair } from '../presence/presencePair.js';
import { AVAILABLE_FADE_MS, nextRenewalAt } from '../presence/renewalSchedule.js';

/**
 * What one user's publisher knows, as plain data. {@link decide} turns it into the next step, so
 * the convergence rules are tested with tables and no I/O.
 */
export interface SessionFacts {
  readonly desired: DesiredState;
  /** When the desired state last changed (its deadline when it has to be sent). */
  readonly desiredAt: number;
  /** What Graph confirmed for our session, or null when none is known to exist. */
  readonly confirmed: PresencePair | null;
  /** When the request that Graph confirmed left the process (the session's start, conservatively). */
  readonly confirmedAt: number | null;
  /** True when a call ended without an answer, so Graph may hold a session we cannot name. */
  readonly uncertain: boolean;
  /** No call before this time (retry backoff). */
  readonly retryAt: number | null;
  /** Graph refused for a reason retrying cannot fix; wait for a new desired state or config. */
  readonly blocked: boolean;
  /** When this user's last call left the process, if any. */
  readonly lastCallAt: number | null;
  /**
   * Set after a fresh setPresence (not a renewal): the first renewal comes this fraction (0.5–1,
   * random) of the way to its scheduled time, see {@link renewalDueAt}.
   */
  readonly firstRenewalFraction: number | null;
  readonly expirationMs: number;
  /** How long before its fade an Available session is renewed now (the adaptive margin); 90 s when absent. */
  readonly availableMarginMs?: number;
}

/**
 * Least time between two calls for one user. A burst (100 toggles in a second) then costs the
 * first change at once and the latest one 2 s later instead of a call per toggle, while a single
 * change still leaves at once. Teams clients show a change minutes later anyway.
 */
export const MIN_CALL_SPACING_MS = 2_000;

export type PublisherAction =
  | { readonly kind: 'idle' }
  | { readonly kind: 'wait'; readonly until: number; readonly reason: 'renewal' | 'backoff' | 'spacing' }
  | { readonly kind: 'set'; readonly pair: PresencePair; readonly deadline: number; readonly renewal: boolean }
  | { readonly kind: 'clear'; readonly deadline: number };

/** When the confirmed session stops showing the pair: the Available fade, or the expiration. */
export function sessionDeadline(pair: PresencePair, confirmedAt: number, expirationMs: number): number {
  const expiresAt = confirmedAt + expirationMs;
  return pair.availability === 'Available' ? Math.min(expiresAt, confirmedAt + AVAILABLE_FADE_MS) : expiresAt;
}

/**
 * When the confirmed session is renewed. Users set at the same moment (a start-up, a shared
 * input) would otherwise renew in lockstep forever; pulling each one's first renewal forward by a
 * random part of half the interval spreads them evenly over the period, for one extra call per change.
 */
export function renewalDueAt(
  pair: PresencePair,
  confirmedAt: number,
  expirationMs: number,
  firstRenewalFraction: number | null,
  availableMarginMs?: number,
): number | null {
  const at = nextRenewalAt({ pair, confirmedAt, expirationMs, availableMarginMs });
  if (at === null || firstRenewalFraction === null) return at;
  const fraction = Math.min(1, Math.max(0.5, firstRenewalFraction));
  return Math.round(confirmedAt + (at - confirmedAt) * fraction);
}

/** True while the confirmed session still exists at Graph (it ends at its expiration). */
export function sessionAlive(facts: SessionFacts, now: number): boolean {
  return facts.confirmed !== null && facts.confirmedAt !== null && now < facts.confirmedAt + facts.expirationMs;
}

/** The one next step that brings Graph closer to the desired state. */
export function decide(facts: SessionFacts, now: number): PublisherAction {
  if (facts.blocked) return { kind: 'idle' };
  const alive = sessionAlive(facts, now);
  const { desired } = facts;
  let action: PublisherAction;
  if (desired.kind === 'clear') {
    action = alive || facts.uncertain ? { kind: 'clear', deadline: facts.desiredAt } : { kind: 'idle' };
  } else if (!alive || facts.uncertain || !samePair(facts.confirmed, desired.pair) || facts.confirmedAt === null) {
    action = { kind: 'set', pair: desired.pair, deadline: facts.desiredAt, renewal: false };
  } else {
    const at = renewalDueAt(desired.pair, facts.confirmedAt, facts.expirationMs, facts.firstRenewalFraction, facts.availableMarginMs);
    if (at === null) return { kind: 'idle' };
    if (at > now) return { kind: 'wait', until: at, reason: 'renewal' };
    action = {
      kind: 'set',
      pair: desired.pair,
      deadline: sessionDeadline(desired.pair, facts.confirmedAt, facts.expirationMs),
      renewal: true,
    };
  }
  if (action.kind === 'idle') return action;
  if (facts.retryAt !== null && facts.retryAt > now) return { kind: 'wait', until: facts.retryAt, reason: 'backoff' };
  if (facts.lastCallAt !== null && facts.lastCallAt + MIN_CALL_SPACING_MS > now) {
    return { kind: 'wait', until: facts.lastCallAt + MIN_CALL_SPACING_MS, reason: 'spacing' };
  }
  return action;
}

/** Graph's session precedence (DoNotDisturb > Busy > Available > Away); idle variants rank as their base. */
const RANK: Readonly<Record<string, number>> = {
  DoNotDisturb: 4,
  Busy: 3,
  BusyIdle: 3,
  Available: 2,
  AvailableIdle: 2,
  Away: 1,
};

/** Where the presence Graph reports comes from, as far as the pages let us reason about it. */
export type PresenceOrigin = 'ours' | 'otherSession' | 'preferred';

/**
 * Pairs only a user-preferred presence produces (setUserPreferredPresence's pairs; a Teams user
 * choosing Busy or Do not disturb sets one). Sessions carry an activity such as InACall.
 */
function looksPreferred(actual: { availability: string; activity?: string }): boolean {
  if (actual.availability === 'Offline' || actual.availability === 'BeRightBack') return true;
  return (actual.availability === 'Busy' || actual.availability === 'DoNotDisturb') && actual.activity === actual.availability;
}

/**
 * Why Graph shows what it shows while we assert a pair. `ours`: our session (or its fade).
 * `otherSession`: a higher-ranked session of another client, most often the user's own Teams
 * (a bridge Available or Away under a Teams Busy never shows; normal, not a fault).
 * `preferred`: a user-preferred presence, which overrides every session, or no session at all.
 * Null when nothing is asserted or nothing was read.
 */
export function explainPresence(asserted: PresencePair | null, actual: { availability: string; activity?: string } | null): PresenceOrigin | null {
  if (!asserted || !actual) return null;
  const ours = RANK[asserted.availability] ?? 0;
  const theirs = RANK[actual.availability];
  if (theirs === undefined || looksPreferred(actual)) return 'preferred';
  if (theirs < ours) return 'preferred';
  if (theirs > ours) return 'otherSession';
  const fading = asserted.availability === 'Available' && actual.availability === 'Available' && actual.activity === 'AvailableInactive';
  const same = actual.availability === asserted.availability && (actual.activity === undefined || actual.activity === asserted.activity);
  return same || fading || actual.availability === `${asserted.availability}Idle` ? 'ours' : 'otherSession';
}

/**
 * True when the presence Graph reports cannot come from our session and Graph's precedence:
 * a user-preferred presence (or no session) explains it. Another client's higher-ranked session
 * (Teams itself) does not count: see {@link explainPresence}.
 */
export function isOverridden(asserted: PresencePair | null, actual: { availability: string; activity?: string } | null): boolean {
  return explainPresence(asserted, actual) === 'preferred';
}
