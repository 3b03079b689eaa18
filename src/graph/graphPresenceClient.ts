import type { Clock } from '../session/clock.js';
import type { Logger } from '../logger.js';
import type { PresencePair } from '../presence/presencePair.js';
import { parseRetryAfter } from '../presence/retryDelay.js';
import { LOGIN_HINT, transportError } from './errors.js';
import type { HttpStack } from './httpStack.js';
import { describeTransportError } from './msalNetworkClient.js';
import { GraphError, type AccessTokenProvider, type GraphPresenceClient, type UserPresence } from './types.js';

/** An Entra object id (GUID), the only form getPresencesByUserId accepts. */
const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
}

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

function codeFor(status: number): GraphError['code'] {
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
  const code = codeFor(response.status);
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

  constructor(private readonly deps: GraphPresenceClientDeps) {
    // Graph ties an application presence session to the app: its client id is the session id.
    this.sessionId = deps.tokens.clientId;
  }

  private userPath(userId: string): string {
    return `/users/${encodeURIComponent(userId)}/presence`;
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
    await this.call('setPresence', 'POST', `${this.userPath(userId)}/setPresence`, {
      sessionId: this.sessionId,
      availability: pair.availability,
      activity: pair.activity,
      expirationDuration,
    });
  }

  async clearPresence(userId: string): Promise<'cleared' | 'already-cleared'> {
    try {
      await this.call('clearPresence', 'POST', `${this.userPath(userId)}/clearPresence`, { sessionId: this.sessionId });
      return 'cleared';
    } catch (error) {
      // Graph answers 404 when this app has no session for the user: the goal is reached.
      if (error instanceof GraphError && error.code === 'NOT_FOUND') return 'already-cleared';
      throw error;
    }
  }

  async setUserPreferredPresence(userId: string, presence: { availability: string; activity: string }, expirationDuration?: string): Promise<void> {
    await this.call('setUserPreferredPresence', 'POST', `${this.userPath(userId)}/setUserPreferredPresence`, {
      availability: presence.availability,
      activity: presence.activity,
      ...(expirationDuration === undefined ? {} : { expirationDuration }),
    });
  }

  async clearUserPreferredPresence(userId: string): Promise<void> {
    await this.call('clearUserPreferredPresence', 'POST', `${this.userPath(userId)}/clearUserPreferredPresence`, {});
  }

  async getPresence(userId: string): Promise<UserPresence> {
    const response = await this.call('getPresence', 'GET', this.userPath(userId));
    return toUserPresence(parseJson<PresenceBody>(response.text, 'getPresence'), userId);
  }

  async getMyPresence(): Promise<UserPresence> {
    const response = await this.call('getMyPresence', 'GET', '/me/presence');
    return toUserPresence(parseJson<PresenceBody>(response.text, 'getMyPresence'), '');
  }

  /**
   * getPresencesByUserId in chunks of 650. It takes object ids only: ids given as user principal
   * names are read one by one, and their presence carries the id as given.
   */
  async getPresences(userIds: readonly string[]): Promise<UserPresence[]> {
    const objectIds = userIds.filter((id) => OBJECT_ID.test(id));
    const others = userIds.filter((id) => !OBJECT_ID.test(id));
    const out: UserPresence[] = [];
    for (let start = 0; start < objectIds.length; start += MAX_PRESENCE_IDS) {
      const ids = objectIds.slice(start, start + MAX_PRESENCE_IDS);
      const response = await this.call('getPresencesByUserId', 'POST', '/communications/getPresencesByUserId', { ids });
      const body = parseJson<{ value?: unknown }>(response.text, 'getPresencesByUserId');
      const values = Array.isArray(body.value) ? (body.value as PresenceBody[]) : [];
      out.push(...values.map((v) => toUserPresence(v, '')));
    }
    for (const id of others) out.push({ ...(await this.getPresence(id)), id });
    return out;
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
