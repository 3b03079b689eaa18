import type { UserState } from '../bridgeTypes.js';
import type { ActiveIntent } from '../presence/presenceArbiter.js';
import { formatPresence } from '../presence/presencePair.js';

/** One held intent as the API shows it. */
export interface IntentView {
  readonly input: string;
  readonly presence: string;
  readonly since: string;
  readonly until: string | null;
}

/** A user's state as the API shows it (the `User` schema of the OpenAPI document). */
export interface UserView {
  readonly key: string;
  readonly id: string;
  readonly displayName: string;
  readonly desired: string | null;
  readonly source: string | null;
  readonly asserted: string | null;
  readonly sessionExpiresAt: string | null;
  readonly nextRenewalAt: string | null;
  readonly actual: string | null;
  readonly actualFrom: 'ours' | 'otherSession' | 'preferred' | null;
  readonly overridden: boolean;
  readonly health: UserState['health'];
  readonly lastError: { readonly code: string; readonly message: string; readonly hint: string; readonly at: string } | null;
  readonly gated: { readonly gate: string; readonly note: string } | null;
  readonly intents: readonly IntentView[];
  readonly updatedAt: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

/** Pure: the bridge's state of one user and the intents its inputs hold, as JSON-ready data. */
export function userView(state: UserState, intents: readonly ActiveIntent[]): UserView {
  return {
    key: state.userKey,
    id: state.userId,
    displayName: state.displayName,
    desired: state.desired ? formatPresence(state.desired) : null,
    source: state.source,
    asserted: state.confirmed ? formatPresence(state.confirmed) : null,
    sessionExpiresAt: isoOrNull(state.sessionExpiresAt),
    nextRenewalAt: isoOrNull(state.nextRenewalAt),
    actual: state.actual ? formatPresence(state.actual) : null,
    actualFrom: state.actualFrom ?? null,
    overridden: state.overridden,
    health: state.health,
    lastError: state.lastError ? { code: state.lastError.code, message: state.lastError.message, hint: state.lastError.hint, at: iso(state.lastError.at) } : null,
    gated: state.gated ? { gate: state.gated.gate, note: state.gated.note } : null,
    intents: intents.map((i) => ({ input: i.input, presence: formatPresence(i.pair), since: iso(i.at), until: i.until === undefined ? null : iso(i.until) })),
    updatedAt: iso(state.updatedAt),
  };
}
