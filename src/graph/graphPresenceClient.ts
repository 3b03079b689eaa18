import type { Clock } from '../shared/clock.js';
import type { Logger } from '../logger.js';
import type { PresencePair } from '../presence/presencePair.js';
import { parseRetryAfter } from '../presence/retryDelay.js';
import { LOGIN_HINT, transportError } from './errors.js';
import type { HttpStack } from './httpStack.js';
import { describeTransportError } from './msalNetworkClient.js';
import { GraphError, type AccessTokenProvider, type GraphPresenceClient, type UserPresence } from './types.js';
import { isObjectId, UserIdResolver, type ResolvedUser } from './userIdResolver.js';

/** getPresencesByUserId takes at most this many ids a request. */
export const MAX_PRESENCE_IDS = 650;

export interface GraphPresenceClientDeps {
  readonly http: HttpStack;
  readonly tokens: AccessTokenProvider;
  /** `https://graph.microsoft.com/v1.0` or the override. */
  readonly graphBaseUrl: string;
  readonly mode: 'application' | 'delegated';
  readonly clock: Clock;
  readonly logger: Logger;
  /** Where the user principal name → object id mapping is kept; in memory only when absent. */
  readonly storagePath?: string;
  /** The sign-in authority (with its tenant): the mapping kept on disk belongs to it. */
  readonly authority?: string;
}

/** The directory permissions that let an app resolve a user principal name, least privileged first. */
export const DIRECTORY_PERMISSION_HINT = 'User.ReadBasic.All (or User.Read.All)';

interface GraphErrorBody {
  error?: { code?: unknown; message?: unknown; innerError?: { 'request-id'?: unknown }; innererror?: { 'request-id'?: unknown } };
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

const FIELDS = ['availability', 'activity', 'expirationDuration', 'sessionId', 'ids'] as const;

/** What to tell a user for an HTTP error status. Graph's `error.code` is kept beside it. */
function hintFor(status: number, mode: 'application' | 'delegated', operation: string, message: string | undefined): string {
  switch (status) {
    case 400: {
      const lower = (message ?? '').toLowerCase();
      const field = FIELDS.find((f) => lower.includes(f.toLowerCase()));
      return field
        ? `Graph refused the ${field} sent by ${operation}; check the presence (Availability/Activity) and graph.expiration (PT5M to PT4H)`
        : `Graph refused the request of ${operation}; check the presence (Availability/Activity) and graph.expiration (PT5M to PT4H)`;
    }
    case 401:
      if (isOtherUserRefusal(message)) return OTHER_USER_HINT;
      return mode === 'delegated'
        ? `the token was refused even after a refresh; ${LOGIN_HINT}`
        : 'the token was refused even after a refresh; sign in again: check that auth.tenantId and auth.clientId belong to the same app registration and the cloud setting';
    case 403:
      return mode === 'delegated'
        ? 'the app needs the delegated permission Presence.ReadWrite (API permissions in the app registration) and the signed-in user may only set their own presence'
        : 'the app needs the application permission Presence.ReadWrite.All with admin consent granted (API permissions in the app registration)';
    case 404:
      return 'no such user in the tenant; check users[].id (the user\'s object id or user principal name)';
    case 429:
      return 'Graph is throttling this application; requests are retried later';
    default:
      return status >= 500 ? 'Graph is unavailable; requests are retried later' : `Graph answered HTTP ${status}`;
  }
}

/**
 * A delegated token writing another user's presence gets a 401 whose code is the generic one, so
 * only the message tells it apart (microsoft-graph-explorer-v4 issue 3096).
 */
function isOtherUserRefusal(message: string | undefined): boolean {
  return /presence of another user/i.test(message ?? '');
}

const OTHER_USER_HINT =
  'a delegated sign-in (auth.mode delegated) can set only its own presence: sign in as that user, or use application mode (Presence.ReadWrite.All) for several users';

function codeFor(status: number, message?: string): GraphError['code'] {
  if (status === 401 && isOtherUserRefusal(message)) return 'OTHER_USER';
  if (status === 400) return 'BAD_REQUEST';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'THROTTLED';
  if (status === 500 || status === 502 || status === 503 || status === 504) return 'UNAVAILABLE';
  return 'UNEXPECTED';
}

/** An HTTP error answer from Graph as a GraphError (exported for tests of the table). */
export function graphErrorFrom(
  response: { status: number; headers: Record<string, string>; text: string },
  context: { operation: string; mode: 'application' | 'delegated'; now: number },
): GraphError {
  let body: GraphErrorBody = {};
  try {
    body = JSON.parse(response.text) as GraphErrorBody;
  } catch {
    // Not JSON (a proxy's HTML page): status alone decides.
  }
  const graphCode = stringOrUndefined(body.error?.code);
  const graphMessage = stringOrUndefined(body.error?.message);
  const requestId =
    stringOrUndefined(body.error?.innerError?.['request-id']) ??
    stringOrUndefined(body.error?.innererror?.['request-id']) ??
    stringOrUndefined(response.headers['request-id']);
  const code = codeFor(response.status, graphMessage);
  const retryable = code === 'THROTTLED' || code === 'UNAVAILABLE';
  const retryAfterMs = retryable ? parseRetryAfter(response.headers['retry-after'], context.now) : undefined;
  const detail = [graphCode, graphMessage].filter((s) => s !== undefined).join(': ');
  return new GraphError(`${context.operation}: HTTP ${response.status}${detail ? ` ${detail}` : ''}`, {
    code,
    status: response.status,
    graphCode,
    requestId,
    hint: hintFor(response.status, context.mode, context.operation, graphMessage),
    retryable,
    retryAfterMs,
  });
}

interface PresenceBody {
  id?: unknown;
  availability?: unknown;
  activity?: unknown;
}

function toUserPresence(body: PresenceBody, fallbackId: string): UserPresence {
  return {
    id: stringOrUndefined(body.id) ?? fallbackId,
    availability: stringOrUndefined(body.availability) ?? 'PresenceUnknown',
    activity: stringOrUndefined(body.activity) ?? 'PresenceUnknown',
  };
}

/**
 * Graph's presence API over the bridge's HTTP stack. One attempt per call except for a 401,
 * which gets one forced token refresh and one repeat (an expired or revoked token); retrying
 * anything else is the caller's decision.
 */
export class HttpGraphPresenceClient implements GraphPresenceClient {
  readonly sessionId: string;
  readonly resolver: UserIdResolver;
  /** Object ids getPresencesByUserId refused alone (a bare 400): left out of later reads. */
  private readonly refusedIds = new Set<string>();

  constructor(private readonly deps: GraphPresenceClientDeps) {
    // Graph ties an application presence session to the app: its client id is the session id.
    this.sessionId = deps.tokens.clientId;
    this.resolver = new UserIdResolver({
      lookup: (upn) => this.lookupUser(upn),
      logger: deps.logger,
      storagePath: deps.storagePath,
      scope: `${deps.authority ?? ''} ${deps.graphBaseUrl}`,
    });
  }

  /** The presence path of a user, by object id: a user principal name is resolved first, never sent. */
  private async userPath(userId: string): Promise<string> {
    return `/users/${encodeURIComponent(await this.resolveUserId(userId))}/presence`;
  }

  resolveUserId(idOrUpn: string): Promise<string> {
    return this.resolver.resolve(idOrUpn);
  }

  /**
   * A user principal name's object id: `GET /users/{upn}?$select=id,displayName` (needs
   * User.ReadBasic.All or User.Read.All), or in delegated mode the signed-in account itself.
   */
  private async lookupUser(upn: string): Promise<ResolvedUser> {
    if (this.deps.mode === 'delegated') {
      const account = await this.deps.tokens.account?.();
      if (account && account.username.toLowerCase() === upn.toLowerCase() && isObjectId(account.localAccountId)) {
        return { id: account.localAccountId, ...(account.name ? { displayName: account.name } : {}) };
      }
      const me = await this.lookup('/me?$select=id,displayName,userPrincipalName', upn);
      if (me.userPrincipalName?.toLowerCase() === upn.toLowerCase()) return { id: me.id, ...(me.displayName ? { displayName: me.displayName } : {}) };
      throw new GraphError(`resolving user ${upn}: signed in as ${me.userPrincipalName ?? me.id}, not ${upn}`, { code: 'OTHER_USER', hint: OTHER_USER_HINT, retryable: false });
    }
    const user = await this.lookup(`/users/${encodeURIComponent(upn)}?$select=id,displayName`, upn);
    return { id: user.id, ...(user.displayName ? { displayName: user.displayName } : {}) };
  }

  private async lookup(path: string, upn: string): Promise<{ id: string; displayName?: string; userPrincipalName?: string }> {
    let response;
    try {
      response = await this.call('resolveUser', 'GET', path);
    } catch (error) {
      if (!(error instanceof GraphError)) throw error;
      const because = (hint: string): GraphError =>
        new GraphError(`resolving user ${upn} to its object id: ${error.message}`, { code: error.code, status: error.status, graphCode: error.graphCode, requestId: error.requestId, hint, retryable: error.retryable, retryAfterMs: error.retryAfterMs, cause: error });
      if (error.code === 'FORBIDDEN') {
        throw because(
          this.deps.mode === 'delegated'
            ? `reading the signed-in user needs the delegated permission User.Read; or put the user's object id in users[].id`
            : `users[].id ${upn} is a user principal name, and looking it up needs the application permission ${DIRECTORY_PERMISSION_HINT} with admin consent; grant it, or put the user's object id (GUID) in users[].id`,
        );
      }
      if (error.code === 'NOT_FOUND') throw because(`no user ${upn} in the tenant: check users[].id (the user principal name, or the object id)`);
      throw error;
    }
    const body = parseJson<{ id?: unknown; displayName?: unknown; userPrincipalName?: unknown }>(response.text, 'resolveUser');
    const id = stringOrUndefined(body.id);
    if (id === undefined || !isObjectId(id)) {
      throw new GraphError(`resolving user ${upn}: Graph answered without an object id`, { code: 'UNEXPECTED', hint: 'a proxy may have answered instead of Graph; check the proxy setting and graph.baseUrl', retryable: false });
    }
    const displayName = stringOrUndefined(body.displayName);
    const userPrincipalName = stringOrUndefined(body.userPrincipalName);
    return { id, ...(displayName ? { displayName } : {}), ...(userPrincipalName ? { userPrincipalName } : {}) };
  }

  private async call(operation: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; headers: Record<string, string>; text: string }> {
    const url = `${this.deps.graphBaseUrl}${path}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const attempt = async (forceRefresh: boolean) => {
      const token = await this.deps.tokens.getToken({ forceRefresh });
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
      if (payload !== undefined) headers['content-type'] = 'application/json';
      try {
        return await this.deps.http.send({ method, url, headers, body: payload });
      } catch (error) {
        throw transportError(`${operation}: cannot reach Graph at ${new URL(url).origin}: ${describeTransportError(error)}`, error, 'Graph');
      }
    };
    let response = await attempt(false);
    this.deps.logger.debug(`${method} ${path} -> ${response.status}${response.headers['request-id'] ? ` (request-id ${response.headers['request-id']})` : ''}`);
    if (response.status === 401) {
      this.deps.logger.debug(`${operation}: Graph refused the token (401); refreshing it once`);
      response = await attempt(true);
      this.deps.logger.debug(`${method} ${path} -> ${response.status} after the token refresh`);
    }
    if (response.status >= 200 && response.status < 300) return response;
    throw graphErrorFrom(response, { operation, mode: this.deps.mode, now: this.deps.clock.now() });
  }

  async setPresence(userId: string, pair: PresencePair, expirationDuration: string): Promise<void> {
    await this.call('setPresence', 'POST', `${await this.userPath(userId)}/setPresence`, {
      sessionId: this.sessionId,
      availability: pair.availability,
      activity: pair.activity,
      expirationDuration,
    });
  }

  async clearPresence(userId: string): Promise<'cleared' | 'already-cleared'> {
    try {
      await this.call('clearPresence', 'POST', `${await this.userPath(userId)}/clearPresence`, { sessionId: this.sessionId });
      return 'cleared';
    } catch (error) {
      // Graph answers 404 when this app has no session for the user: the goal is reached.
      if (error instanceof GraphError && error.code === 'NOT_FOUND') return 'already-cleared';
      throw error;
    }
  }

  async setUserPreferredPresence(userId: string, presence: { availability: string; activity: string }, expirationDuration?: string): Promise<void> {
    await this.call('setUserPreferredPresence', 'POST', `${await this.userPath(userId)}/setUserPreferredPresence`, {
      availability: presence.availability,
      activity: presence.activity,
      ...(expirationDuration === undefined ? {} : { expirationDuration }),
    });
  }

  async clearUserPreferredPresence(userId: string): Promise<void> {
    await this.call('clearUserPreferredPresence', 'POST', `${await this.userPath(userId)}/clearUserPreferredPresence`, {});
  }

  async getPresence(userId: string): Promise<UserPresence> {
    const response = await this.call('getPresence', 'GET', await this.userPath(userId));
    return toUserPresence(parseJson<PresenceBody>(response.text, 'getPresence'), userId);
  }

  async getMyPresence(): Promise<UserPresence> {
    const response = await this.call('getMyPresence', 'GET', '/me/presence');
    return toUserPresence(parseJson<PresenceBody>(response.text, 'getMyPresence'), '');
  }

  /**
   * getPresencesByUserId in chunks of 650, object ids only: user principal names are resolved
   * first (one that cannot be is left out and logged by the resolver's error, unless every id
   * fails, then that error is thrown). Each presence carries the id as given. A chunk Graph
   * answers with 400 is split and its halves read again, so one id Graph refuses costs that user
   * only (microsoft-graph-docs-contrib issue 777); an id refused alone is left out of later reads.
   */
  async getPresences(userIds: readonly string[]): Promise<UserPresence[]> {
    const givenByObjectId = new Map<string, string[]>();
    let firstError: Error | undefined;
    for (const given of userIds) {
      let objectId: string;
      try {
        objectId = (await this.resolveUserId(given)).toLowerCase();
      } catch (error) {
        firstError ??= error instanceof Error ? error : new Error(String(error));
        this.deps.logger.debug(`getPresencesByUserId: ${given} left out: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      const list = givenByObjectId.get(objectId) ?? [];
      list.push(given);
      givenByObjectId.set(objectId, list);
    }
    if (givenByObjectId.size === 0 && firstError !== undefined) throw firstError;
    const objectIds = [...givenByObjectId.keys()].filter((id) => !this.refusedIds.has(id));
    const out: UserPresence[] = [];
    for (let start = 0; start < objectIds.length; start += MAX_PRESENCE_IDS) {
      for (const presence of await this.readChunk(objectIds.slice(start, start + MAX_PRESENCE_IDS), true)) {
        for (const given of givenByObjectId.get(presence.id.toLowerCase()) ?? []) out.push({ ...presence, id: given });
      }
    }
    return out;
  }

  private async readChunk(ids: readonly string[], whole: boolean): Promise<UserPresence[]> {
    try {
      const response = await this.call('getPresencesByUserId', 'POST', '/communications/getPresencesByUserId', { ids });
      const body = parseJson<{ value?: unknown }>(response.text, 'getPresencesByUserId');
      const values = Array.isArray(body.value) ? (body.value as PresenceBody[]) : [];
      return values.map((v) => toUserPresence(v, ''));
    } catch (error) {
      if (!(error instanceof GraphError) || error.code !== 'BAD_REQUEST') throw error;
      if (ids.length === 1) {
        if (whole) throw error;
        this.refusedIds.add(ids[0]!.toLowerCase());
        this.deps.logger.warn(`getPresencesByUserId refused user ${ids[0]!} (HTTP 400); read-back leaves this user out from now on`);
        return [];
      }
      this.deps.logger.debug(`getPresencesByUserId refused ${ids.length} ids (HTTP 400); reading them in two halves`);
      const half = Math.ceil(ids.length / 2);
      return [...(await this.readChunk(ids.slice(0, half), false)), ...(await this.readChunk(ids.slice(half), false))];
    }
  }
}

function parseJson<T>(text: string, operation: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new GraphError(`${operation}: Graph answered with a body that is not JSON`, {
      code: 'UNEXPECTED',
      hint: 'a proxy may have answered instead of Graph; check the proxy setting and graph.baseUrl',
      retryable: false,
    });
  }
}
