import { BridgeError } from '../shared/errors.js';
import type { ObservedPresence, PresencePair } from '../presence/presencePair.js';

/** Gives a bearer token for Graph. Implementations: MSAL client credentials and MSAL device code. */
export interface AccessTokenProvider {
  /** A valid access token; `forceRefresh` skips any cached token (used once after a 401). */
  getToken(options?: { forceRefresh?: boolean }): Promise<string>;
  /** The application (client) id: Graph's presence `sessionId`. */
  readonly clientId: string;
  /** Delegated mode: the signed-in account, if any (its object id and user principal name). */
  account?(): Promise<{ readonly username: string; readonly localAccountId: string; readonly name?: string } | undefined>;
}

/** A user's presence as Graph reports it (`GET /users/{id}/presence`). */
export interface UserPresence extends ObservedPresence {
  readonly id: string;
}

/**
 * One attempt per call. A 401 is answered inside the client by one forced token refresh and one
 * repeat; every other failure throws a {@link GraphError}. Retrying retryable errors is the
 * caller's job (the publisher schedules it on its clock; the CLI uses `withRetry`).
 */
export interface GraphPresenceClient {
  /** The session id sent with setPresence/clearPresence: the application's client id. */
  readonly sessionId: string;
  setPresence(userId: string, pair: PresencePair, expirationDuration: string): Promise<void>;
  /** Resolves `already-cleared` on Graph's 404 (the session was gone). */
  clearPresence(userId: string): Promise<'cleared' | 'already-cleared'>;
  setUserPreferredPresence(
    userId: string,
    presence: { availability: string; activity: string },
    expirationDuration?: string,
  ): Promise<void>;
  clearUserPreferredPresence(userId: string): Promise<void>;
  getPresence(userId: string): Promise<UserPresence>;
  /** Delegated mode: the signed-in user's presence (`GET /me/presence`), which needs no Presence.Read.All. */
  getMyPresence(): Promise<UserPresence>;
  /** getPresencesByUserId, chunked at 650 ids a request; presences carry the ids as given. */
  getPresences(userIds: readonly string[]): Promise<UserPresence[]>;
  /**
   * The object id of a `users[].id`: an object id as is, a user principal name looked up once
   * (User.ReadBasic.All) and cached. Every presence call resolves through this first.
   */
  resolveUserId(idOrUpn: string): Promise<string>;
}

/** Stable codes: branch on these, never on messages. */
export type GraphErrorCode =
  | 'AUTH_FAILED' // sign-in refused (wrong secret, unknown app/tenant, consent missing at token time)
  | 'SIGN_IN_REQUIRED' // delegated: no cached account or refresh refused; run `presence-bridge login`
  | 'UNAUTHORIZED' // 401 still after one refresh (may be transient: the presence service has been seen answering 401 with a valid token)
  | 'OTHER_USER' // delegated: a write to another user's presence (401 "Cannot set the presence of another user")
  | 'FORBIDDEN' // 403: permission or admin consent missing
  | 'NOT_FOUND' // 404: unknown user
  | 'BAD_REQUEST' // 400
  | 'THROTTLED' // 429
  | 'UNAVAILABLE' // 500, 502, 503, 504
  | 'NETWORK' // connection refused/reset, TLS failure, timeout
  | 'UNEXPECTED'; // anything else

export interface GraphErrorDetails {
  readonly code: GraphErrorCode;
  readonly status?: number;
  /** Graph's own `error.code`, e.g. `InvalidAuthenticationToken`. */
  readonly graphCode?: string;
  readonly requestId?: string;
  /** One sentence a user can act on. Never contains a secret or token. */
  readonly hint: string;
  readonly retryable: boolean;
  /** From Retry-After, when the response carried one. */
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
}

/** A Graph or sign-in call failed; {@link GraphErrorCode} says how. */
export class GraphError extends BridgeError<GraphErrorCode> implements GraphErrorDetails {
  readonly status?: number;
  readonly graphCode?: string;
  readonly requestId?: string;
  readonly hint: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;

  constructor(message: string, details: GraphErrorDetails) {
    super(message, details.code, { cause: details.cause });
    this.status = details.status;
    this.graphCode = details.graphCode;
    this.requestId = details.requestId;
    this.hint = details.hint;
    this.retryable = details.retryable;
    this.retryAfterMs = details.retryAfterMs;
  }
}
