import type { UserState } from '../bridgeTypes.js';
import { formatPresence } from '../presence/presencePair.js';

/** The bridge's own per-user topics under `baseTopic`. */
export function userTopics(baseTopic: string, userKey: string) {
  const root = `${baseTopic}/${userKey}`;
  return {
    set: `${root}/set`,
    prefer: `${root}/prefer`,
    state: `${root}/state`,
    presence: `${root}/presence`,
    error: `${root}/error`,
  } as const;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/**
 * `<base>/<user>/state`: what the bridge asserts and how that is going. `desired` is a pair in
 * text form or `clear`, so Home Assistant's select can show it as it is. No timestamp of the
 * message itself: an unchanged state gives an identical payload and is not republished.
 */
export function statePayload(state: UserState): string {
  return JSON.stringify({
    desired: state.desired ? formatPresence(state.desired) : 'clear',
    source: state.source,
    confirmed: state.confirmed ? formatPresence(state.confirmed) : null,
    sessionExpiresAt: iso(state.sessionExpiresAt),
    nextRenewalAt: iso(state.nextRenewalAt),
    health: state.health,
    problem: state.health === 'unhealthy',
    lastError: state.lastError ? { code: state.lastError.code, hint: state.lastError.hint, at: iso(state.lastError.at) } : null,
    // only while a gate holds inputs back (working hours), e.g. "outside working hours"
    ...(state.gated ? { gated: state.gated.note } : {}),
  });
}

/** `<base>/<user>/presence`: the user's actual presence as Graph last reported it. */
export function presencePayload(state: UserState): string {
  const actual = state.actual;
  return JSON.stringify({
    availability: actual?.availability ?? 'PresenceUnknown',
    activity: actual?.activity ?? 'PresenceUnknown',
    known: actual !== null,
    overridden: state.overridden,
  });
}
