import type { ObservedPresence, PresencePair } from '../presence/presencePair.js';

/**
 * What the session layer reports about each user (UserState) and each Graph call (GraphCallEvent).
 * They live here, beside the publisher and read-back that build them, so src/session/ never
 * imports the bridge above it; src/bridgeTypes.ts re-exports them.
 */

/** Health of one user's session with Graph. */
export type UserHealth = 'ok' | 'pending' | 'retrying' | 'unhealthy';

export interface UserErrorInfo {
  readonly code: string;
  readonly message: string;
  readonly hint: string;
  readonly at: number;
}

/** Everything the outputs report about one user. Emitted on every change. */
export interface UserState {
  readonly userKey: string;
  readonly userId: string;
  readonly displayName: string;
  /** What the arbiter wants asserted, or null for clear. */
  readonly desired: PresencePair | null;
  /** The input the desired pair comes from. */
  readonly source: string | null;
  /** What Graph last confirmed for our session, or null when no session is asserted. */
  readonly confirmed: PresencePair | null;
  /** When our confirmed session expires at Graph (ms since epoch), or null. */
  readonly sessionExpiresAt: number | null;
  /** When the next renewal is due (ms since epoch), or null. */
  readonly nextRenewalAt: number | null;
  readonly health: UserHealth;
  readonly lastError: UserErrorInfo | null;
  /** The user's presence as Graph last reported it (read-back), or null when unknown/off. */
  readonly actual: ObservedPresence | null;
  /** True when read-back shows a presence our session cannot explain (user-preferred override). */
  readonly overridden: boolean;
  /**
   * Where the read-back presence comes from while we assert a pair: `ours`, `otherSession` (a
   * higher-ranked session such as the user's own Teams client; not a fault) or `preferred` (a
   * user-preferred presence overrides us). Absent or null when unknown.
   */
  readonly actualFrom?: 'ours' | 'otherSession' | 'preferred' | null;
  /**
   * Set while a gate (src/feature.ts, e.g. working hours) changed what the inputs want, so nobody
   * wonders why a press did nothing: `{ gate: 'workingHours', note: 'outside working hours' }`.
   */
  readonly gated?: { readonly gate: string; readonly note: string } | null;
  readonly updatedAt: number;
}

export interface GraphCallEvent {
  readonly userKey: string | null;
  readonly operation: 'setPresence' | 'clearPresence' | 'setUserPreferredPresence' | 'clearUserPreferredPresence' | 'getPresences';
  /** Formatted pair for setPresence, e.g. `Busy/InACall`. */
  readonly detail?: string;
  readonly ok: boolean;
  readonly status?: number;
  readonly errorCode?: string;
  readonly startedAt: number;
  readonly durationMs: number;
}


type Same<T> = (a: T, b: T) => boolean;
const same = <T>(a: T, b: T): boolean => a === b;
const sameFields =
  <T extends object>(...keys: (keyof T)[]): Same<T | null | undefined> =>
  (a, b) =>
    a === b || (a !== null && a !== undefined && b !== null && b !== undefined && keys.every((k) => a[k] === b[k]));
const samePresence = sameFields<ObservedPresence>('availability', 'activity');

/**
 * How each field of a UserState is compared: a Record over every key, so a field added to
 * UserState does not compile until it says how it is compared.
 */
const FIELD_EQUALITY: { readonly [K in keyof Omit<UserState, 'updatedAt'>]-?: Same<UserState[K]> } = {
  userKey: same,
  userId: same,
  displayName: same,
  desired: samePresence,
  source: same,
  confirmed: samePresence,
  sessionExpiresAt: same,
  nextRenewalAt: same,
  health: same,
  lastError: sameFields<UserErrorInfo>('code', 'message', 'hint', 'at'),
  actual: samePresence,
  overridden: same,
  actualFrom: same,
  gated: sameFields<{ readonly gate: string; readonly note: string }>('gate', 'note'),
};
const FIELDS = Object.keys(FIELD_EQUALITY) as (keyof typeof FIELD_EQUALITY)[];

/**
 * Whether two states say the same (their time aside): what decides that a publisher has a new
 * state to tell. Field by field, without building a JSON text of each state on every change.
 */
export function sameUserState(a: UserState, b: UserState): boolean {
  return FIELDS.every((k) => (FIELD_EQUALITY[k] as Same<unknown>)(a[k], b[k]));
}
