import type { ObservedPresence } from './presencePair.js';

/**
 * The Teams statuses a HomeKit status sensor can follow (`homekit.statusSensors`), in the order
 * the settings form lists them.
 */
export const TEAMS_STATUSES = [
  'Available',
  'Busy',
  'InACall',
  'InAMeeting',
  'Presenting',
  'DoNotDisturb',
  'Away',
  'BeRightBack',
  'Offline',
  'OutOfOffice',
] as const;

export type TeamsStatus = (typeof TEAMS_STATUSES)[number];

export interface TeamsStatusRule {
  /** How the sensor is called after the user's name, e.g. "Alex Teams In a Call". */
  readonly label: string;
  /** Graph availabilities that show this status (any activity). */
  readonly availability?: readonly string[];
  /** Graph activities that show this status (any availability). */
  readonly activity?: readonly string[];
}

/**
 * Graph presence (availability/activity, as GET /users/{id}/presence reports it) to Teams status.
 * A presence may show several statuses at once: Busy/InACall is both Busy and In a Call.
 * Availabilities: Available, AvailableIdle, Away, BeRightBack, Busy, BusyIdle, DoNotDisturb,
 * Offline, PresenceUnknown; activities add InACall, InAConferenceCall, InAMeeting, Presenting,
 * OffWork, OutOfOffice, … (learn.microsoft.com/graph/api/resources/presence).
 */
export const TEAMS_STATUS_RULES: Readonly<Record<TeamsStatus, TeamsStatusRule>> = {
  Available: { label: 'Available', availability: ['Available', 'AvailableIdle'] },
  Busy: { label: 'Busy', availability: ['Busy', 'BusyIdle'] },
  InACall: { label: 'In a Call', activity: ['InACall'] },
  InAMeeting: { label: 'In a Meeting', activity: ['InAMeeting', 'InAConferenceCall'] },
  Presenting: { label: 'Presenting', activity: ['Presenting'] },
  DoNotDisturb: { label: 'Do Not Disturb', availability: ['DoNotDisturb'] },
  Away: { label: 'Away', availability: ['Away'] },
  BeRightBack: { label: 'Be Right Back', availability: ['BeRightBack'] },
  Offline: { label: 'Offline', availability: ['Offline'] },
  OutOfOffice: { label: 'Out of Office', activity: ['OutOfOffice'] },
};

const matches = (values: readonly string[] | undefined, value: string): boolean =>
  values !== undefined && values.some((v) => v.toLowerCase() === value.toLowerCase());

/** Does `presence` show `status`? Unknown presence (null) shows none. */
export function showsStatus(presence: ObservedPresence | null, status: TeamsStatus): boolean {
  if (!presence) return false;
  const rule = TEAMS_STATUS_RULES[status];
  return matches(rule.availability, presence.availability) || matches(rule.activity, presence.activity);
}

/** Every status `presence` shows, in {@link TEAMS_STATUSES} order. */
export function statusesOf(presence: ObservedPresence | null): TeamsStatus[] {
  return TEAMS_STATUSES.filter((status) => showsStatus(presence, status));
}
