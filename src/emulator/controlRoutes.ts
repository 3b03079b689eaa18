/** The `/_emulator/...` control routes (docs/emulator.md, "Control interface"). */
import type { Clock } from '../shared/clock.js';
import { parseIsoDuration } from '../presence/duration.js';
import type { RequestLogEntry } from './context.js';
import type { ControlApi } from './controlApi.js';
import { findUser, type Directory } from './directory.js';
import type { FaultList, FaultSpec } from './faults.js';
import { findGroup, membersOf } from './groups.js';
import { EmulatorError, isRecord, safeDecode, type Reply } from './http.js';

export const CONTROL_PREFIX = '/_emulator';

export interface ControlEnv {
  readonly api: ControlApi;
  readonly faults: FaultList;
  readonly log: RequestLogEntry[];
  readonly directory: Directory;
  readonly clock: Clock;
  /** False when the emulator runs on an external clock. */
  readonly ownsClock: boolean;
  readonly timeScale: number;
  facts(): unknown;
}

type Parts = readonly (string | undefined)[];

const json = (status: number, value?: unknown): Reply => ({ status, body: value });

function requireObject(body: unknown): Record<string, unknown> {
  if (body instanceof Error || !isRecord(body)) throw new EmulatorError(400, 'BadRequest', 'the body must be a JSON object');
  return body;
}

function strings(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) throw new EmulatorError(400, 'BadRequest', `${what} must be an array of strings`);
  return value;
}

function faultRoutes(env: ControlEnv, method: string, body: unknown): Reply | undefined {
  if (method === 'GET') return json(200, { value: env.faults.items });
  if (method === 'DELETE') {
    env.faults.clear();
    return json(204);
  }
  if (method !== 'POST') return undefined;
  const f = requireObject(body);
  env.api.injectFault({
    kind: f.kind as FaultSpec['kind'],
    count: typeof f.count === 'number' ? f.count : 1,
    ...(typeof f.status === 'number' ? { status: f.status as FaultSpec['status'] } : {}),
    ...(typeof f.retryAfterSeconds === 'number' ? { retryAfterSeconds: f.retryAfterSeconds } : {}),
    ...(typeof f.path === 'string' ? { path: f.path } : {}),
    ...(Array.isArray(f.ids) ? { ids: f.ids as string[] } : {}),
  });
  return json(201, { value: env.faults.items });
}

function timeRoutes(env: ControlEnv, method: string, body: unknown): Reply | undefined {
  const { clock } = env;
  if (method === 'GET') return json(200, { now: new Date(clock.now()).toISOString(), ms: clock.now(), external: !env.ownsClock, timeScale: env.timeScale });
  if (method !== 'POST') return undefined;
  const o = requireObject(body);
  if (!env.ownsClock) throw new EmulatorError(409, 'Conflict', 'the emulator runs on an external clock; move that clock instead');
  let ms: number | undefined;
  if (typeof o.advanceSeconds === 'number') ms = o.advanceSeconds * 1000;
  else if (typeof o.advance === 'string') ms = parseIsoDuration(o.advance);
  else if (typeof o.now === 'string') ms = Date.parse(o.now) - clock.now();
  if (ms === undefined || !Number.isFinite(ms)) throw new EmulatorError(400, 'BadRequest', 'give advanceSeconds, advance (ISO 8601 duration) or now (ISO date)');
  env.api.advanceTime(ms);
  return json(200, { now: new Date(clock.now()).toISOString(), ms: clock.now() });
}

function userSessionRoutes(env: ControlEnv, method: string, userId: string, c: string | undefined, body: unknown): Reply | undefined {
  const { api } = env;
  if (!c) {
    if (method === 'GET') return json(200, { presence: api.presenceOf(userId), preferred: api.preferredOf(userId), sessions: api.sessionsOf(userId) });
    if (method !== 'POST') return undefined;
    const o = requireObject(body);
    api.addSession(userId, {
      clientId: typeof o.clientId === 'string' ? o.clientId : '',
      availability: typeof o.availability === 'string' ? o.availability : '',
      activity: typeof o.activity === 'string' ? o.activity : '',
      ...(typeof o.expirationDuration === 'string' ? { expirationDuration: o.expirationDuration } : {}),
    });
    return json(201, { presence: api.presenceOf(userId), sessions: api.sessionsOf(userId) });
  }
  if (method !== 'DELETE') return undefined;
  if (!api.removeSession(userId, safeDecode(c))) throw new EmulatorError(404, 'NotFound', `no session '${c}'`);
  return json(204);
}

function userRoutes(env: ControlEnv, method: string, [, a, b, c]: Parts, body: unknown): Reply | undefined {
  const { api } = env;
  if (!a) {
    if (method !== 'POST') return undefined;
    const o = requireObject(body);
    const specs = Array.isArray(o.users) ? o.users : [o];
    const added = api.addUsers(specs.map((s) => requireObject(s)).map((s) => ({ userPrincipalName: String(s.userPrincipalName), ...(typeof s.displayName === 'string' ? { displayName: s.displayName } : {}), ...(typeof s.id === 'string' ? { id: s.id } : {}) })));
    return json(201, { value: added });
  }
  const user = findUser(env.directory, safeDecode(a));
  if (!user) throw new EmulatorError(404, 'NotFound', `no user '${a}'`);
  if (b === 'sessions') return userSessionRoutes(env, method, user.id, c, body);
  if (b === 'preferred' && !c) {
    if (method === 'DELETE') {
      api.setPreferred(user.id, null);
      return json(204);
    }
    if (method === 'POST') {
      const o = requireObject(body);
      if (typeof o.availability !== 'string' || typeof o.activity !== 'string') throw new EmulatorError(400, 'BadRequest', 'availability and activity are required');
      api.setPreferred(user.id, { availability: o.availability, activity: o.activity }, typeof o.expirationDuration === 'string' ? o.expirationDuration : undefined);
      return json(200, { presence: api.presenceOf(user.id) });
    }
  }
  if (!b && method === 'GET') return json(200, user);
  return undefined;
}

function groupRoutes(env: ControlEnv, method: string, [, a, b, c]: Parts, body: unknown): Reply | undefined {
  const { api } = env;
  if (!a) {
    if (method === 'GET') return json(200, { value: env.directory.groups });
    if (method !== 'POST') return undefined;
    const o = requireObject(body);
    const group = api.addGroup({ displayName: typeof o.displayName === 'string' ? o.displayName : '', ...(typeof o.id === 'string' ? { id: o.id } : {}), ...(o.members !== undefined ? { members: strings(o.members, 'members') } : {}) });
    return json(201, group);
  }
  const group = findGroup(env.directory, safeDecode(a));
  if (!group) throw new EmulatorError(404, 'NotFound', `no group '${a}'`);
  if (!b && method === 'GET') return json(200, { ...group, transitiveUserCount: membersOf(env.directory, group, true).filter((m) => m.kind === 'user').length });
  if (b !== 'members') return undefined;
  if (!c && method === 'POST') {
    const o = requireObject(body);
    api.addGroupMembers(group.id, strings(o.ids, 'ids'));
    return json(200, group);
  }
  if (c && method === 'DELETE') {
    if (!api.removeGroupMember(group.id, safeDecode(c))) throw new EmulatorError(404, 'NotFound', `'${c}' is not a direct member of group '${group.id}'`);
    return json(204);
  }
  return undefined;
}

function deviceCodeRoutes(env: ControlEnv, method: string, action: string | undefined, body: unknown): Reply | undefined {
  if (method !== 'POST' || (action !== 'approve' && action !== 'decline')) return undefined;
  const o = requireObject(body);
  const code = typeof o.user_code === 'string' ? o.user_code : typeof o.userCode === 'string' ? o.userCode : '';
  if (action === 'approve') env.api.approveDeviceCode(code, typeof o.userId === 'string' ? o.userId : '');
  else env.api.declineDeviceCode(code);
  return json(200, { status: action === 'approve' ? 'approved' : 'declined' });
}

/** `POST /_emulator/apps` `{displayName?, permissions?}`: another registration, secret included. */
function appRoute(env: ControlEnv, body: unknown): Reply {
  const o = body === undefined ? {} : requireObject(body);
  const app = env.api.addApp({ ...(typeof o.displayName === 'string' ? { displayName: o.displayName } : {}), ...(o.permissions !== undefined ? { permissions: strings(o.permissions, 'permissions') } : {}) });
  return json(201, { clientId: app.clientId, clientSecret: app.clientSecret, displayName: app.displayName, permissions: app.permissions });
}

/** Answers one control request; throws EmulatorError for a refusal. */
export function controlRoute(env: ControlEnv, method: string, parts: Parts, body: unknown): Reply {
  const [head, a] = parts;
  let reply: Reply | undefined;
  if (head === 'facts' && !a && method === 'GET') reply = json(200, env.facts());
  else if (head === 'requests' && !a) {
    if (method === 'GET') reply = json(200, { value: env.log });
    if (method === 'DELETE') {
      env.log.length = 0;
      reply = json(204);
    }
  } else if (head === 'faults' && !a) reply = faultRoutes(env, method, body);
  else if (head === 'devicecode') reply = deviceCodeRoutes(env, method, a, body);
  else if (head === 'time' && !a) reply = timeRoutes(env, method, body);
  else if (head === 'users') reply = userRoutes(env, method, parts, body);
  else if (head === 'groups') reply = groupRoutes(env, method, parts, body);
  else if (head === 'apps' && !a && method === 'POST') reply = appRoute(env, body);
  if (reply) return reply;
  throw new EmulatorError(404, 'NotFound', `no control route ${method} ${CONTROL_PREFIX}/${parts.join('/')}`);
}
