/**
 * Presence pairs as Graph's setPresence accepts them, and their text form `Availability/Activity`.
 * https://learn.microsoft.com/graph/api/presence-setpresence
 */
export const SESSION_AVAILABILITIES = ['Available', 'Busy', 'Away', 'DoNotDisturb'] as const;
export type SessionAvailability = (typeof SESSION_AVAILABILITIES)[number];

export interface PresencePair {
  readonly availability: SessionAvailability;
  readonly activity: string;
}

/** The only availability/activity combinations setPresence accepts. */
export const SESSION_PAIRS: readonly PresencePair[] = [
  { availability: 'Available', activity: 'Available' },
  { availability: 'Busy', activity: 'InACall' },
  { availability: 'Busy', activity: 'InAConferenceCall' },
  { availability: 'Away', activity: 'Away' },
  { availability: 'DoNotDisturb', activity: 'Presenting' },
];

/** Pairs setUserPreferredPresence accepts (no session; overrides every session). */
export const PREFERRED_PAIRS: readonly { availability: string; activity: string }[] = [
  { availability: 'Available', activity: 'Available' },
  { availability: 'Busy', activity: 'Busy' },
  { availability: 'DoNotDisturb', activity: 'DoNotDisturb' },
  { availability: 'BeRightBack', activity: 'BeRightBack' },
  { availability: 'Away', activity: 'Away' },
  { availability: 'Offline', activity: 'OffWork' },
];

/** Presence as Graph reports it when read (any availability/activity Graph may return). */
export interface ObservedPresence {
  readonly availability: string;
  readonly activity: string;
}

export function formatPresence(pair: { availability: string; activity: string }): string {
  return `${pair.availability}/${pair.activity}`;
}

export function samePair(a: PresencePair | null | undefined, b: PresencePair | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.availability === b.availability && a.activity === b.activity;
}

function parseFrom<T extends { availability: string; activity: string }>(list: readonly T[], text: string): T | undefined {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  if (slash < 0) return undefined;
  const availability = trimmed.slice(0, slash).trim().toLowerCase();
  const activity = trimmed.slice(slash + 1).trim().toLowerCase();
  return list.find((p) => p.availability.toLowerCase() === availability && p.activity.toLowerCase() === activity);
}

/** `Busy/InACall` (case-insensitive, spaces around the slash tolerated) to a session pair. */
export function parseSessionPair(text: string): PresencePair | undefined {
  return parseFrom(SESSION_PAIRS, text);
}

/** `Busy/Busy` and the other setUserPreferredPresence pairs. */
export function parsePreferredPair(text: string): { availability: string; activity: string } | undefined {
  return parseFrom(PREFERRED_PAIRS, text);
}

export const SESSION_PAIR_LIST = SESSION_PAIRS.map(formatPresence).join(', ');
export const PREFERRED_PAIR_LIST = PREFERRED_PAIRS.map(formatPresence).join(', ');
