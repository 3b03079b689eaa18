/**
 * Graph presence endpoints, checked in the order Graph does: token (401), permission (403),
 * user (404), body (400).
 * https://learn.microsoft.com/graph/api/resources/presence
 */
import type { EmulatorCore } from './context.js';
import { findUser, type EmulatedUser } from './directory.js';
import { DEFAULT_MEMBER_PAGE_SIZE, listMembers } from './groups.js';
import { graphError, isRecord, safeDecode, type Reply } from './http.js';
import { verifyAccessToken, type Principal } from './identity.js';
import type { PresenceState } from './presenceStore.js';
import { MAX_SESSION_EXPIRATION_MS, MIN_SESSION_EXPIRATION_MS, parseIsoDuration } from '../presence/duration.js';
import { PREFERRED_PAIRS, SESSION_PAIRS } from '../presence/presencePair.js';

export const MAX_BATCH_REQUESTS = 20;
export const MAX_PRESENCE_IDS = 650;
export const THROTTLE_WINDOW_MS = 30_000;
const DEFAULT_SESSION_EXPIRATION_MS = 5 * 60_000;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface GraphRequest {
  readonly method: string;
  /** Path after the version, starting with `/`, without query. */
  readonly route: string;
  readonly version: 'v1.0' | 'beta';
  /** The query string, without `?` (only `$select` is read). */
  readonly query?: string;
  /** Parsed JSON body, undefined when empty, an Error when malformed. */
  readonly body: unknown;
  readonly authorization: string | undefined;
  readonly requestId: string;
  readonly clientRequestId?: string | undefined;
}

export interface GraphResult {
  readonly reply: Reply;
  readonly appId?: string;
}

type Access = 'read' | 'write';

function permitted(principal: Principal, access: Access, self: boolean): boolean {
  const has = (list: readonly string[], name: string): boolean => list.some((p) => p.toLowerCase() === name.toLowerCase());
  if (principal.kind === 'app') {
    return access === 'write' ? has(principal.roles, 'Presence.ReadWrite.All') : has(principal.roles, 'Presence.Read.All') || has(principal.roles, 'Presence.ReadWrite.All');
  }
  if (access === 'write') return self && has(principal.scopes, 'Presence.ReadWrite');
  if (has(principal.scopes, 'Presence.Read.All')) return true;
  return self && (has(principal.scopes, 'Presence.Read') || has(principal.scopes, 'Presence.ReadWrite'));
}

function presenceBody(core: EmulatorCore, version: string, userId: string, p: PresenceState): Record<string, unknown> {
  return {
    '@odata.context': `${core.origin}/${version}/$metadata#users('${userId}')/presence/$entity`,
    id: userId,
    availability: p.availability,
    activity: p.activity,
    statusMessage: null,
  };
}

function underThrottle(core: EmulatorCore, appId: string): number | undefined {
  if (core.throttleLimit <= 0) return undefined;
  const now = core.now();
  const hits = (core.throttleHits.get(appId) ?? []).filter((t) => t > now - THROTTLE_WINDOW_MS && t <= now);
  if (hits.length >= core.throttleLimit) {
    core.throttleHits.set(appId, hits);
    const oldest = hits[0] ?? now;
    // In seconds with milliseconds, as Graph's own sample (`Retry-After: 2.128`).
    return Math.max(1, oldest + THROTTLE_WINDOW_MS - now) / 1000;
  }
  hits.push(now);
  core.throttleHits.set(appId, hits);
  return undefined;
}

type Route =
  | { op: 'get'; user: string }
  | { op: 'setPresence' | 'clearPresence' | 'setUserPreferredPresence' | 'clearUserPreferredPresence'; user: string }
  | { op: 'getPresencesByUserId' }
  | { op: 'getUser'; user: string }
  | { op: 'members'; group: string; transitive: boolean }
  | { op: 'batch' };

type Fail = (status: number, code: string, message: string, headers?: Record<string, string>) => Reply;
/** Which Graph operation a path names, and the method it takes. */
function parseRoute(segments: readonly string[], lower: readonly string[], allowBatch: boolean): { route: Route | undefined; allowed: string } {
  let route: Route | undefined;
  let allowed = 'POST';
  const userSeg = lower[0] === 'me' ? 'me' : lower[0] === 'users' && segments[1] ? safeDecode(segments[1]) : undefined;
  const rest = lower[0] === 'me' ? lower.slice(1) : lower.slice(2);
  if (userSeg !== undefined && rest[0] === 'presence') {
    if (rest.length === 1) {
      route = { op: 'get', user: userSeg };
      allowed = 'GET';
    } else if (rest.length === 2) {
      const action = { setpresence: 'setPresence', clearpresence: 'clearPresence', setuserpreferredpresence: 'setUserPreferredPresence', clearuserpreferredpresence: 'clearUserPreferredPresence' }[rest[1] ?? ''] as
        | 'setPresence'
        | 'clearPresence'
        | 'setUserPreferredPresence'
        | 'clearUserPreferredPresence'
        | undefined;
      if (action) route = { op: action, user: userSeg };
    }
  } else if (userSeg !== undefined && rest.length === 0) {
    route = { op: 'getUser', user: userSeg };
    allowed = 'GET';
  } else if (lower.length === 2 && lower[0] === 'communications' && lower[1] === 'getpresencesbyuserid') {
    route = { op: 'getPresencesByUserId' };
  } else if (lower.length === 3 && lower[0] === 'groups' && (lower[2] === 'members' || lower[2] === 'transitivemembers')) {
    route = { op: 'members', group: safeDecode(segments[1] ?? ''), transitive: lower[2] === 'transitivemembers' };
    allowed = 'GET';
  } else if (lower.length === 1 && lower[0] === '$batch' && allowBatch) {
    route = { op: 'batch' };
  }
  return { route, allowed };
}

/** `POST /communications/getPresencesByUserId`: up to 650 ids, each one's presence. */
function presencesByUserId(core: EmulatorCore, req: GraphRequest, principal: Principal, now: number, fail: Fail): Reply {
  if (!permitted(principal, 'read', false)) return fail(403, 'Forbidden', 'Insufficient privileges to complete the operation.');
  if (req.body instanceof Error) return fail(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
  const ids = isRecord(req.body) ? req.body.ids : undefined;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id): id is string => typeof id === 'string')) {
    return fail(400, 'BadRequest', "The request body must contain 'ids', a non-empty array of user object ids.");
  }
  if (ids.length > MAX_PRESENCE_IDS) return fail(400, 'BadRequest', `The number of ids must not exceed ${MAX_PRESENCE_IDS}.`);
  const bad = ids.find((id) => !GUID.test(id));
  if (bad !== undefined) return fail(400, 'BadRequest', `'${bad}' is not a valid user object id.`);
  if (core.rejectIds?.(ids)) return fail(400, 'BadRequest', 'Bad Request');
  const unique = [...new Set(ids.map((id) => id.toLowerCase()))];
  const value = unique.map((id) => {
    const user = findUser(core.directory, id);
    const p = user ? core.store.presence(user.id, now) : { availability: 'PresenceUnknown', activity: 'PresenceUnknown' };
    const { ['@odata.context']: _ctx, ...rest } = presenceBody(core, req.version, user?.id ?? id, p);
    return rest;
  });
  return { status: 200, body: { '@odata.context': `${core.origin}/${req.version}/$metadata#Collection(microsoft.graph.presence)`, value } };
}

/** What one user's presence routes share: who is asked for, and may the caller. */
interface Caller {
  readonly principal: Principal;
  readonly appId: string;
  readonly now: number;
  readonly fail: Fail;
}

/** The per-user presence routes: read, set, clear, and the preferred presence. */
function userPresence(core: EmulatorCore, req: GraphRequest, route: Extract<Route, { user: string }>, caller: Caller): Reply {
  const { principal, appId, now, fail } = caller;
  // Per-user operations. Presence routes take the object id only: a user principal name does not
  // work there (msgraph-sdk-dotnet issue 1942), whatever other /users/{id} routes accept.
  if (route.user !== 'me' && !GUID.test(route.user)) {
    return fail(400, 'BadRequest', `Invalid user id '${route.user}': presence routes take the user's object id (a GUID), not a user principal name.`);
  }
  let user: EmulatedUser | undefined;
  if (route.user === 'me') {
    if (principal.kind !== 'user') return fail(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
    user = core.directory.users.find((u) => u.id === principal.userId);
  }
  const targetId = route.user === 'me' ? (principal.userId ?? '') : route.user;
  if (route.user !== 'me') user = findUser(core.directory, route.user);
  const self = principal.kind === 'user' && user !== undefined && user.id === principal.userId;
  const access: Access = route.op === 'get' ? 'read' : 'write';
  // A delegated write to someone else is a 401, not a 403 (microsoft-graph-explorer-v4 issue 3096).
  if (access === 'write' && principal.kind === 'user' && user !== undefined && !self) {
    return fail(401, 'Unauthorized', 'Cannot set the presence of another user.');
  }
  if (!permitted(principal, access, self || (principal.kind === 'user' && targetId.toLowerCase() === principal.userId?.toLowerCase()))) {
    return fail(403, 'Forbidden', 'Insufficient privileges to complete the operation.');
  }
  if (!user) return fail(404, 'NotFound', `User '${targetId}' was not found.`);

  if (route.op === 'get') return { status: 200, body: presenceBody(core, req.version, user.id, core.store.presence(user.id, now)) };

  if (route.op === 'clearUserPreferredPresence') {
    core.store.setPreferred(user.id, null, now);
    core.changed();
    return { status: 200 };
  }

  if (req.body instanceof Error) return fail(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
  const body = isRecord(req.body) ? req.body : undefined;
  if (!body) return fail(400, 'BadRequest', 'The request body is missing or is not a JSON object.');

  return writePresence(core, { op: route.op, userId: user.id, body, appId, now, fail });
}

/** setPresence, clearPresence and setUserPreferredPresence, with their body checks. */
function writePresence(core: EmulatorCore, w: { op: Route['op']; userId: string; body: Record<string, unknown>; appId: string; now: number; fail: Fail }): Reply {
  const { body, appId, now, fail } = w;
  const user = { id: w.userId };
  const route = { op: w.op };
  const checkSession = (): Reply | undefined => {
    const sessionId = body.sessionId;
    if (typeof sessionId !== 'string' || sessionId === '') return fail(400, 'BadRequest', "The 'sessionId' property is required.");
    if (sessionId.toLowerCase() !== appId.toLowerCase()) return fail(400, 'BadRequest', `The sessionId '${sessionId}' must be the application id of the caller.`);
    return undefined;
  };
  const duration = (fallback: number, min: number, max: number): number | Reply => {
    const raw = body.expirationDuration;
    if (raw === undefined || raw === null) return fallback;
    const ms = typeof raw === 'string' ? parseIsoDuration(raw) : undefined;
    if (ms === undefined) return fail(400, 'BadRequest', `The expirationDuration '${JSON.stringify(raw)}' is not a valid ISO 8601 duration.`);
    if (ms < min || ms > max) return fail(400, 'InvalidArgument', `The expirationDuration '${JSON.stringify(raw)}' is out of range: it must be between PT5M and PT4H.`);
    return ms;
  };

  if (route.op === 'clearPresence') {
    const problem = checkSession();
    if (problem) return problem;
    if (!core.store.clearSession(user.id, appId, now)) return fail(404, 'NotFound', `No presence session '${String(body.sessionId)}' for user '${user.id}'.`);
    core.changed();
    return { status: 200 };
  }

  const availability = body.availability;
  const activity = body.activity;
  if (typeof availability !== 'string' || typeof activity !== 'string') return fail(400, 'BadRequest', "The 'availability' and 'activity' properties are required.");

  if (route.op === 'setPresence') {
    const problem = checkSession();
    if (problem) return problem;
    if (!SESSION_PAIRS.some((p) => p.availability === availability && p.activity === activity)) {
      return fail(400, 'BadRequest', `The presence '${availability}/${activity}' is not supported by setPresence.`);
    }
    const ms = duration(DEFAULT_SESSION_EXPIRATION_MS, MIN_SESSION_EXPIRATION_MS, MAX_SESSION_EXPIRATION_MS);
    if (typeof ms !== 'number') return ms;
    core.store.setSession(user.id, { clientId: appId, availability, activity, setAt: now, expiresAt: now + ms });
    core.changed();
    return { status: 200 };
  }

  // setUserPreferredPresence
  if (!PREFERRED_PAIRS.some((p) => p.availability === availability && p.activity === activity)) {
    return fail(400, 'BadRequest', `The presence '${availability}/${activity}' is not supported by setUserPreferredPresence.`);
  }
  const fallback = availability === 'DoNotDisturb' || availability === 'Busy' ? 86_400_000 : 7 * 86_400_000;
  const raw = body.expirationDuration;
  let ms = fallback;
  if (raw !== undefined && raw !== null) {
    const parsed = typeof raw === 'string' ? parseIsoDuration(raw) : undefined;
    if (parsed === undefined || parsed <= 0) return fail(400, 'BadRequest', `The expirationDuration '${JSON.stringify(raw)}' is not a valid ISO 8601 duration.`);
    ms = parsed;
  }
  core.store.setPreferred(user.id, { availability, activity, setAt: now, expiresAt: now + ms }, now);
  core.changed();
  return { status: 200 };
}

export function handleGraph(core: EmulatorCore, req: GraphRequest, allowBatch = true): GraphResult {
  const ctx = { requestId: req.requestId, now: core.now(), clientRequestId: req.clientRequestId };
  const fail = (status: number, code: string, message: string, headers?: Record<string, string>): Reply => graphError(status, code, message, ctx, headers);
  const segments = req.route.split('/').filter(Boolean);
  const lower = segments.map((s) => safeDecode(s).toLowerCase());
  const method = req.method.toUpperCase();

  const { route, allowed } = parseRoute(segments, lower, allowBatch);
  if (!route) {
    const last = segments.at(-1) ?? '';
    return { reply: fail(400, 'BadRequest', `Resource not found for the segment '${safeDecode(last)}'.`) };
  }
  if (method !== allowed) return { reply: fail(405, 'MethodNotAllowed', `The HTTP method '${method}' is not allowed for this resource.`) };

  if (route.op === 'batch') {
    const outer = verifyAccessToken(core, req.authorization);
    if ('error' in outer) return { reply: fail(401, 'InvalidAuthenticationToken', outer.error) };
    return batch(core, req);
  }

  const principal = verifyAccessToken(core, req.authorization);
  if ('error' in principal) {
    return { reply: fail(401, 'InvalidAuthenticationToken', principal.error, { 'www-authenticate': `Bearer realm="", authorization_uri="${core.origin}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"` }) };
  }
  const appId = principal.appId;
  // Directory reads have their own limits, not the presence budget (docs/emulator.md).
  if (route.op === 'members') {
    return { appId, reply: listMembers(core, principal, { groupId: route.group, transitive: route.transitive, version: req.version, query: req.query ?? '' }, core.memberPageSize ?? DEFAULT_MEMBER_PAGE_SIZE, fail) };
  }
  const retryAfter = underThrottle(core, appId);
  if (retryAfter !== undefined) {
    return { appId, reply: fail(429, 'TooManyRequests', 'Too many requests.', { 'retry-after': String(retryAfter) }) };
  }
  const now = core.now();

  if (route.op === 'getUser') return { appId, reply: getUser(core, req, principal, route.user, fail) };

  if (route.op === 'getPresencesByUserId') return { appId, reply: presencesByUserId(core, req, principal, now, fail) };
  return { appId, reply: userPresence(core, req, route, { principal, appId, now, fail }) };
}

/** Directory read permissions that let an app or a user look another user up (least privileged first). */
export const DIRECTORY_READ_PERMISSIONS = ['User.ReadBasic.All', 'User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];

const USER_FIELDS = ['id', 'displayName', 'userPrincipalName', 'mail', 'givenName', 'surname', 'jobTitle', 'businessPhones', 'mobilePhone', 'officeLocation', 'preferredLanguage'];

/**
 * `GET /users/{id | userPrincipalName}` and `GET /me`, with `$select`. Looking up another user
 * needs User.ReadBasic.All or more; `/me` needs the delegated User.Read.
 * https://learn.microsoft.com/graph/api/user-get
 */
function getUser(core: EmulatorCore, req: GraphRequest, principal: Principal, idOrUpn: string, fail: (status: number, code: string, message: string) => Reply): Reply {
  const has = (list: readonly string[], names: readonly string[]): boolean => list.some((p) => names.some((n) => n.toLowerCase() === p.toLowerCase()));
  let user: EmulatedUser | undefined;
  if (idOrUpn === 'me') {
    if (principal.kind !== 'user') return fail(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
    if (!has(principal.scopes, ['User.Read', 'User.ReadWrite', ...DIRECTORY_READ_PERMISSIONS])) return fail(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    user = core.directory.users.find((u) => u.id === principal.userId);
  } else {
    const self = principal.kind === 'user' && (findUser(core.directory, idOrUpn)?.id ?? '') === principal.userId;
    const granted = principal.kind === 'app' ? has(principal.roles, DIRECTORY_READ_PERMISSIONS) : has(principal.scopes, DIRECTORY_READ_PERMISSIONS) || (self && has(principal.scopes, ['User.Read']));
    if (!granted) return fail(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    user = findUser(core.directory, idOrUpn);
  }
  if (!user) return fail(404, 'Request_ResourceNotFound', `Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.`);
  const full: Record<string, unknown> = { id: user.id, displayName: user.displayName, userPrincipalName: user.userPrincipalName, mail: user.userPrincipalName, givenName: null, surname: null, jobTitle: null, businessPhones: [], mobilePhone: null, officeLocation: null, preferredLanguage: null };
  const select = new URLSearchParams(req.query ?? '').get('$select');
  const fields = select ? select.split(',').map((f) => f.trim()).filter(Boolean) : USER_FIELDS;
  const unknown = fields.find((f) => !USER_FIELDS.some((k) => k.toLowerCase() === f.toLowerCase()));
  if (unknown !== undefined) return fail(400, 'BadRequest', `Could not find a property named '${unknown}' on type 'microsoft.graph.user'.`);
  const body: Record<string, unknown> = { '@odata.context': `${core.origin}/${req.version}/$metadata#users(${fields.join(',')})/$entity` };
  for (const f of fields) {
    const key = USER_FIELDS.find((k) => k.toLowerCase() === f.toLowerCase()) ?? f;
    body[key] = full[key];
  }
  return { status: 200, body };
}

interface BatchItem {
  id: string;
  method: string;
  url: string;
  body?: unknown;
  dependsOn?: string[];
}

function hasContentType(headers: unknown): boolean {
  return isRecord(headers) && Object.entries(headers).some(([name, value]) => name.toLowerCase() === 'content-type' && typeof value === 'string' && value !== '');
}

/** JSON batching: https://learn.microsoft.com/graph/json-batching */
function batch(core: EmulatorCore, req: GraphRequest): GraphResult {
  const ctx = { requestId: req.requestId, now: core.now(), clientRequestId: req.clientRequestId };
  const bad = (message: string): GraphResult => ({ reply: graphError(400, 'BadRequest', message, ctx) });
  if (req.body instanceof Error || !isRecord(req.body)) return bad('Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
  const requests = req.body.requests;
  if (!Array.isArray(requests) || requests.length === 0) return bad("The batch request must contain a non-empty 'requests' array.");
  if (requests.length > MAX_BATCH_REQUESTS) return bad(`Number of batch request steps exceeds the maximum value of ${MAX_BATCH_REQUESTS}.`);
  const items: BatchItem[] = [];
  for (const r of requests) {
    if (!isRecord(r) || typeof r.id !== 'string' || typeof r.method !== 'string' || typeof r.url !== 'string') {
      return bad("Each batch request must have string 'id', 'method' and 'url'.");
    }
    // Request ids are compared without regard to case (JSON batching page).
    const id = r.id;
    if (items.some((i) => i.id.toLowerCase() === id.toLowerCase())) return bad(`Batch request id '${id}' is not unique.`);
    // "If a body is included with the request, the headers object must contain a value for Content-Type."
    if (r.body !== undefined && r.body !== null && !hasContentType(r.headers)) return bad(`Write request id : ${id} does not contain Content-Type header or body.`);
    const dependsOn = Array.isArray(r.dependsOn) ? r.dependsOn.filter((d): d is string => typeof d === 'string') : undefined;
    items.push({ id: r.id, method: r.method, url: r.url, body: r.body, ...(dependsOn ? { dependsOn } : {}) });
  }
  for (const item of items) {
    for (const dep of item.dependsOn ?? []) if (!items.some((i) => i.id.toLowerCase() === dep.toLowerCase())) return bad(`Batch request '${item.id}' depends on unknown request '${dep}'.`);
  }
  const statusById = new Map<string, number>();
  const responses: unknown[] = [];
  let appId: string | undefined;
  for (const item of items) {
    const subId = `${req.requestId}.${item.id}`;
    const failedDep = (item.dependsOn ?? []).find((d) => {
      const s = statusById.get(d.toLowerCase());
      return s === undefined || s >= 400;
    });
    let reply: Reply;
    if (failedDep !== undefined) {
      reply = graphError(424, 'FailedDependency', `Request failed because the request '${failedDep}' it depends on failed.`, { ...ctx, requestId: subId });
    } else {
      const url = item.url.startsWith('/') ? item.url : `/${item.url}`;
      const [path = url, query = ''] = url.split('?');
      const versionless = path.replace(/^\/(v1\.0|beta)(?=\/)/i, '');
      const result = handleGraph(core, { ...req, method: item.method, route: versionless, query, body: item.body, requestId: subId }, false);
      reply = result.reply;
      appId ??= result.appId;
      core.logBatchItem?.({ method: item.method.toUpperCase(), path, route: versionless, appId: result.appId, body: item.body, status: reply.status, requestId: subId });
    }
    statusById.set(item.id.toLowerCase(), reply.status);
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    for (const [name, value] of Object.entries(reply.headers ?? {})) headers[name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())] = value;
    responses.push({ id: item.id, status: reply.status, headers, body: reply.body ?? null });
  }
  return { ...(appId ? { appId } : {}), reply: { status: 200, body: { responses } } };
}
