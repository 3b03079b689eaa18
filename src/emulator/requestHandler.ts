/** One HTTPS request of the emulator: control routes, faults, Graph, sign-in. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../shared/clock.js';
import type { EmulatorCore, Fault, RequestLogEntry } from './context.js';
import { CONTROL_PREFIX, controlRoute, type ControlEnv } from './controlRoutes.js';
import { matchesTenant } from './directory.js';
import type { FaultList } from './faults.js';
import { handleGraph } from './graphApi.js';
import { BodyTooLargeError, EmulatorError, graphError, parseJson, readBody, type Reply } from './http.js';
import { aadError, approveDeviceCode, deviceCodeEndpoint, jwks, openIdConfiguration, tokenEndpoint } from './identity.js';
import { devicePage } from './devicePage.js';

export interface HandlerEnv {
  readonly core: EmulatorCore;
  readonly clock: Clock;
  readonly faults: FaultList;
  readonly control: ControlEnv;
  readonly record: (entry: RequestLogEntry) => void;
  /** Responses a `hang` fault holds open, destroyed on close. */
  readonly hung: Set<ServerResponse>;
}

interface Ctx {
  readonly requestId: string;
  readonly clientRequestId?: string | undefined;
}

export function send(res: ServerResponse, reply: Reply, requestId: string, clientRequestId: string | undefined): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string> = { 'request-id': requestId, 'client-request-id': clientRequestId ?? requestId, 'cache-control': 'no-store', ...(reply.headers ?? {}) };
  let payload: string | undefined;
  if (typeof reply.body === 'string') {
    payload = reply.body;
    headers['content-type'] = reply.contentType ?? 'text/plain; charset=utf-8';
  } else if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    headers['content-type'] = 'application/json; charset=utf-8';
  }
  headers['content-length'] = String(payload ? Buffer.byteLength(payload) : 0);
  res.writeHead(reply.status, headers);
  res.end(payload);
}

function bodyError(error: unknown, errCtx: Ctx & { now: number }): Reply {
  return error instanceof BodyTooLargeError ? graphError(413, 'RequestEntityTooLarge', 'The request body is too large.', errCtx, { connection: 'close' }) : graphError(400, 'BadRequest', 'Cannot read the request body.', errCtx);
}

async function handleControl(env: HandlerEnv, req: IncomingMessage, method: string, path: string, errCtx: Ctx & { now: number }, reply: (r: Reply) => void): Promise<void> {
  let raw: Buffer;
  try {
    raw = await readBody(req);
  } catch (error) {
    reply(bodyError(error, errCtx));
    req.resume();
    return;
  }
  try {
    reply(controlRoute(env.control, method, path.slice(CONTROL_PREFIX.length).split('/').filter(Boolean), parseJson(raw)));
  } catch (error) {
    if (error instanceof EmulatorError) reply(graphError(error.status, error.code, error.message, errCtx));
    else throw error;
  }
}

const FAULT_CODES: Record<number, [string, string]> = {
  401: ['InvalidAuthenticationToken', 'Access token validation failure.'],
  429: ['TooManyRequests', 'Too many requests.'],
  500: ['InternalServerError', 'An internal server error occurred.'],
  503: ['ServiceUnavailable', 'The service is temporarily unavailable.'],
  504: ['GatewayTimeout', 'The gateway timed out.'],
};

function faultReply(env: HandlerEnv, fault: Fault, isGraph: boolean, errCtx: Ctx & { now: number }): Reply {
  const status = fault.status ?? 503;
  // Graph's own throttling sample sends fractional seconds; so does the emulator by default.
  const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : status === 429 ? { 'retry-after': '1.5' } : {};
  const [code, message] = FAULT_CODES[status] ?? ['UnknownError', 'Error.'];
  return isGraph ? graphError(status, code, message, errCtx, headers) : aadError(env.core, errCtx, status, 'temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.', headers);
}

function identityRoute(env: HandlerEnv, method: string, segments: string[], raw: Buffer, authorization: string | undefined, ctx: Ctx): { reply: Reply; appId?: string; logBody?: Record<string, unknown> } {
  const { core } = env;
  const [tenant, ...rest] = segments;
  const tail = rest.join('/').toLowerCase();
  if (segments.length === 1 && tenant === 'devicelogin') {
    return { reply: devicePage(method, raw, core.directory.users, (code, user) => approveDeviceCode(core, code, user)) };
  }
  const notFound: Reply = graphError(404, 'NotFound', `'${segments.join('/')}' is not an endpoint of this emulator. Graph is under /v1.0 and /beta; sign-in under /{tenant}/oauth2/v2.0.`, { ...ctx, now: env.clock.now() });
  if (!tenant || rest.length === 0) return { reply: notFound };
  const endpoints = ['v2.0/.well-known/openid-configuration', 'discovery/v2.0/keys', 'oauth2/v2.0/token', 'oauth2/v2.0/devicecode', 'oauth2/v2.0/authorize'];
  if (!endpoints.includes(tail)) return { reply: notFound };
  if (!matchesTenant(core.directory, tenant)) {
    return { reply: aadError(core, ctx, 400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`) };
  }
  const post = (): Reply => ({ status: 405, body: { error: 'invalid_request', error_description: `AADSTS900561: The endpoint only accepts POST requests. Received a ${method} request.` } });
  switch (tail) {
    case 'v2.0/.well-known/openid-configuration':
      return { reply: { status: 200, body: openIdConfiguration(core, tenant) } };
    case 'discovery/v2.0/keys':
      return { reply: { status: 200, body: jwks(core) } };
    case 'oauth2/v2.0/authorize':
      return { reply: aadError(core, ctx, 400, 'unsupported_response_type', 900144, 'The emulator does not serve the authorization code flow; use the device code flow.') };
    case 'oauth2/v2.0/token': {
      if (method !== 'POST') return { reply: post() };
      const r = tokenEndpoint(core, ctx, tenant, raw, authorization);
      return { reply: r.reply, ...(r.appId ? { appId: r.appId } : {}), logBody: { grant_type: r.grantType, scope: r.scope } };
    }
    default: {
      if (method !== 'POST') return { reply: post() };
      const r = deviceCodeEndpoint(core, ctx, tenant, raw);
      return { reply: r.reply, ...(r.appId ? { appId: r.appId } : {}), logBody: { scope: r.scope } };
    }
  }
}

function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', 'https://emulator.invalid');
  } catch {
    return new URL('https://emulator.invalid/');
  }
}

/** Answers one request (never rejects for a client's mistake; a bug rejects and the server answers 500). */
export async function handleRequest(env: HandlerEnv, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = randomUUID();
  const header = req.headers['client-request-id'];
  const clientRequestId = typeof header === 'string' ? header : undefined;
  const method = (req.method ?? 'GET').toUpperCase();
  const url = requestUrl(req);
  const path = url.pathname;
  const errCtx = { requestId, now: env.clock.now(), clientRequestId };
  const reply = (r: Reply): void => send(res, r, requestId, clientRequestId);
  if (path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`)) return handleControl(env, req, method, path, errCtx, reply);

  const segments = path.split('/').filter(Boolean);
  const versionMatch = /^(v1\.0|beta)$/i.exec(segments[0] ?? '');
  const isGraph = versionMatch !== null;
  const isToken = !isGraph && segments.slice(1).join('/').toLowerCase() === 'oauth2/v2.0/token';
  const kind: RequestLogEntry['kind'] = isGraph ? 'graph' : 'identity';
  const route = isGraph ? `/${segments.slice(1).join('/')}` : path;
  const fault = path === '/devicelogin' ? undefined : env.faults.pick(isGraph ? 'graph' : isToken ? 'token' : 'identity', route, path);
  const at = env.clock.now();
  const logged = (r: Reply, extra: { appId?: string | undefined; body?: unknown } = {}): void => {
    env.record({ method, path, route, kind, ...(extra.appId ? { appId: extra.appId } : {}), ...(extra.body !== undefined ? { body: extra.body } : {}), status: r.status, at, requestId });
    reply(r);
  };

  if (fault && (fault.kind === 'hang' || fault.kind === 'drop')) {
    env.record({ method, path, route, kind, status: 0, at, requestId });
    req.resume();
    if (fault.kind === 'drop') {
      req.socket.destroy();
    } else {
      env.hung.add(res);
      res.on('close', () => env.hung.delete(res));
    }
    return;
  }
  let raw: Buffer;
  try {
    raw = await readBody(req);
  } catch (error) {
    logged(bodyError(error, errCtx));
    req.resume();
    return;
  }
  if (fault) return logged(faultReply(env, fault, isGraph, errCtx));
  if (isGraph) {
    const body = parseJson(raw);
    const version = (versionMatch[1] ?? 'v1.0').toLowerCase() === 'beta' ? 'beta' : 'v1.0';
    const result = handleGraph(env.core, { method, route, version, query: url.search.replace(/^\?/, ''), body, authorization: req.headers.authorization, requestId, clientRequestId });
    return logged(result.reply, { appId: result.appId, body: body !== undefined && !(body instanceof Error) ? body : undefined });
  }
  const identity = identityRoute(env, method, segments, raw, req.headers.authorization, { requestId, clientRequestId });
  logged(identity.reply, { appId: identity.appId, body: identity.logBody });
}
