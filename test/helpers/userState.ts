import type { UserState } from '../../src/bridgeTypes.js';

/**
 * A user's state as the core reports it before anything happened: nothing desired, nothing
 * confirmed, healthy. `overrides` sets any field (the user id defaults to `<key>-id`, the display
 * name to the key, the time to 0).
 */
export function userState(userKey: string, overrides: Partial<UserState> = {}): UserState {
  return {
    userKey,
    userId: `${userKey}-id`,
    displayName: userKey,
    desired: null,
    source: null,
    confirmed: null,
    sessionExpiresAt: null,
    nextRenewalAt: null,
    health: 'ok',
    lastError: null,
    actual: null,
    overridden: false,
    updatedAt: 0,
    ...overrides,
  };
}
