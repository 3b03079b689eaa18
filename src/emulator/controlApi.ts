import type { Clock } from '../shared/clock.js';
import { parseIsoDuration } from '../presence/duration.js';
import type { EmulatorCore } from './context.js';
import { addApp, findUser, type AppSpec, type EmulatedApp, type EmulatedGroup, type EmulatedUser } from './directory.js';
import type { FaultList, FaultSpec } from './faults.js';
import { addGroup, addGroupMembers, addUsers, removeGroupMember } from './groups.js';
import { EmulatorError } from './http.js';
import { approveDeviceCode, declineDeviceCode } from './identity.js';
import type { OffsetClock } from './keys.js';
import { SESSION_ANY_AVAILABILITIES, type PresenceState, type SessionView, type StoredPreferred } from './presenceStore.js';

export interface SessionSpec {
  clientId: string;
  availability: string;
  activity: string;
  expirationDuration?: string;
}

export interface UserSpec {
  userPrincipalName: string;
  displayName?: string;
  /** Object id (a GUID); a new one when absent. */
  id?: string;
}

export interface GroupSpec {
  displayName: string;
  /** Object id (a GUID); a new one when absent. */
  id?: string;
  /** User object ids or UPNs, or group ids (nested groups). */
  members?: readonly string[];
}

/** What tests and the `/_emulator` control routes do to the emulated tenant. */
export interface ControlApi {
  readonly injectFault: (fault: FaultSpec) => void;
  readonly approveDeviceCode: (userCode: string, userId: string) => void;
  readonly declineDeviceCode: (userCode: string) => void;
  readonly addSession: (userId: string, session: SessionSpec) => void;
  readonly removeSession: (userId: string, clientId: string) => boolean;
  readonly setPreferred: (userId: string, pair: { availability: string; activity: string } | null, expirationDuration?: string) => void;
  readonly presenceOf: (userId: string) => PresenceState;
  readonly sessionsOf: (userId: string) => SessionView[];
  readonly preferredOf: (userId: string) => StoredPreferred | null;
  readonly advanceTime: (ms: number) => void;
  readonly addUsers: (users: readonly UserSpec[]) => EmulatedUser[];
  readonly addGroup: (group: GroupSpec) => EmulatedGroup;
  readonly addGroupMembers: (groupId: string, memberIds: readonly string[]) => void;
  /** False when it was not a direct member. */
  readonly removeGroupMember: (groupId: string, memberId: string) => boolean;
  /** Another app registration with a secret (permissions of apps[0] unless given). */
  readonly addApp: (spec?: AppSpec) => EmulatedApp;
}

function validateSpec(session: SessionSpec): string | undefined {
  if (typeof session.clientId !== 'string' || session.clientId === '') return 'clientId is required';
  if (!SESSION_ANY_AVAILABILITIES.includes(session.availability)) return `availability must be one of ${SESSION_ANY_AVAILABILITIES.join(', ')}`;
  if (typeof session.activity !== 'string' || session.activity === '') return 'activity is required';
  if (session.expirationDuration !== undefined && !(parseIsoDuration(session.expirationDuration) ?? 0)) return 'expirationDuration must be an ISO 8601 duration';
  return undefined;
}

function presenceApi(core: EmulatorCore, clock: Clock, userOrThrow: (idOrUpn: string) => EmulatedUser): Pick<ControlApi, 'addSession' | 'removeSession' | 'setPreferred' | 'presenceOf' | 'sessionsOf' | 'preferredOf'> {
  const store = core.store;
  return {
    addSession: (userId, session) => {
      const problem = validateSpec(session);
      if (problem) throw new EmulatorError(400, 'BadRequest', problem);
      const user = userOrThrow(userId);
      const now = clock.now();
      const ms = session.expirationDuration ? (parseIsoDuration(session.expirationDuration) ?? 0) : 4 * 3_600_000;
      store.setSession(user.id, { clientId: session.clientId, availability: session.availability, activity: session.activity, setAt: now, expiresAt: now + ms });
      core.changed();
    },
    removeSession: (userId, clientId) => {
      const user = userOrThrow(userId);
      const removed = store.clearSession(user.id, clientId, clock.now());
      core.changed();
      return removed;
    },
    setPreferred: (userId, pair, expirationDuration) => {
      const user = userOrThrow(userId);
      const now = clock.now();
      if (!pair) {
        store.setPreferred(user.id, null, now);
      } else {
        const ms = expirationDuration ? parseIsoDuration(expirationDuration) : 7 * 86_400_000;
        if (!ms) throw new EmulatorError(400, 'BadRequest', 'expirationDuration must be an ISO 8601 duration');
        store.setPreferred(user.id, { availability: pair.availability, activity: pair.activity, setAt: now, expiresAt: now + ms }, now);
      }
      core.changed();
    },
    presenceOf: (userId) => store.presence(userOrThrow(userId).id, clock.now()),
    sessionsOf: (userId) => store.sessions(userOrThrow(userId).id, clock.now()),
    preferredOf: (userId) => store.preferred(userOrThrow(userId).id, clock.now()),
  };
}

function directoryApi(core: EmulatorCore): Pick<ControlApi, 'addUsers' | 'addGroup' | 'addGroupMembers' | 'removeGroupMember' | 'addApp'> {
  const changed = <T>(value: T): T => {
    core.changed();
    return value;
  };
  return {
    addUsers: (users) => changed(addUsers(core.directory, users)),
    addGroup: (group) => changed(addGroup(core.directory, group)),
    addGroupMembers: (groupId, memberIds) => changed(addGroupMembers(core.directory, groupId, memberIds)),
    removeGroupMember: (groupId, memberId) => changed(removeGroupMember(core.directory, groupId, memberId)),
    addApp: (spec) => changed(addApp(core.directory, spec)),
  };
}

export function createControlApi(core: EmulatorCore, faults: FaultList, clock: Clock, ownClock: OffsetClock | undefined): ControlApi {
  const userOrThrow = (idOrUpn: string): EmulatedUser => {
    const user = findUser(core.directory, idOrUpn);
    if (!user) throw new EmulatorError(404, 'NotFound', `no user '${idOrUpn}'`);
    return user;
  };
  return {
    injectFault: (fault) => faults.inject(fault),
    approveDeviceCode: (userCode, userId) => {
      const outcome = approveDeviceCode(core, userCode, userId);
      if (outcome === 'unknown-code') throw new EmulatorError(404, 'NotFound', `no pending device code '${userCode}'`);
      if (outcome === 'unknown-user') throw new EmulatorError(404, 'NotFound', `no user '${userId}'`);
      if (outcome === 'expired') throw new EmulatorError(400, 'BadRequest', `device code '${userCode}' has expired`);
    },
    declineDeviceCode: (userCode) => {
      if (!declineDeviceCode(core, userCode)) throw new EmulatorError(404, 'NotFound', `no pending device code '${userCode}'`);
    },
    ...presenceApi(core, clock, userOrThrow),
    ...directoryApi(core),
    advanceTime: (ms) => {
      if (!ownClock) throw new EmulatorError(409, 'Conflict', 'the emulator runs on an external clock; move that clock instead');
      if (!(ms >= 0)) throw new EmulatorError(400, 'BadRequest', 'time only moves forward');
      ownClock.offset += ms;
    },
  };
}
