/**
 * Microsoft Graph presence + Entra ID sign-in emulator over HTTPS, for tests, the demo and dry
 * runs (`presence-bridge emulator`). See docs/emulator.md for what is emulated and how.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorMessage, silentLogger, type Logger } from '../logger.js';
import { createScaledClock, type Clock, type TimerHandle } from '../shared/clock.js';
import { parseIsoDuration } from '../presence/duration.js';
import { createCertificateAuthority, createClientCertificate, createServerCertificate, type CertificateAuthority, type ClientCertificate } from './certificates.js';
import type { EmulatorCore, Fault, RefreshGrant, RequestLogEntry } from './context.js';
import { createDirectory, findUser, matchesTenant, type EmulatedApp, type EmulatedUser } from './directory.js';
import { handleGraph } from './graphApi.js';
import { BodyTooLargeError, graphError, isRecord, parseJson, readBody, safeDecode, type Reply } from './http.js';
import { approveDeviceCode, declineDeviceCode, deviceCodeEndpoint, jwks, openIdConfiguration, tokenEndpoint, aadError } from './identity.js';
import { PresenceStore, SESSION_ANY_AVAILABILITIES, type PresenceState, type SessionView, type StoredPreferred } from './presenceStore.js';
import { loadState, saveState } from './state.js';
import { devicePage } from './devicePage.js';

export type { RequestLogEntry } from './context.js';
export type { EmulatedApp, EmulatedUser } from './directory.js';
export type { SessionView, PresenceState } from './presenceStore.js';
export { NO_PRESENCE, AVAILABLE_INACTIVE_AFTER_MS, AVAILABLE_AWAY_AFTER_MS } from './presenceStore.js';
export { MAX_BATCH_REQUESTS, MAX_PRESENCE_IDS } from './graphApi.js';
export { MAX_BODY_BYTES } from './http.js';
export { emulatorConfigBlock, type EmulatorConnectionFacts } from './configBlock.js';

export interface EmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Listening address; loopback by default. */
  host?: string;
  /** Emulated seconds per real second when no `clock` is given (default 1). */
  timeScale?: number;
  /** Time source shared with the code under test (a ManualClock in tests). */
  clock?: Clock;
  /** Keeps tenant, apps, users, sessions and refresh tokens across restarts. */
  stateFile?: string;
  /** Where the CA certificate is written (default: a new temporary directory). */
  caCertFile?: string;
  /** Access token lifetime in emulated seconds (default 3600). */
  tokenLifetimeSeconds?: number;
  /** Polling interval the device code endpoint tells clients, in seconds (default 5, as Entra). */
  deviceCodeIntervalSeconds?: number;
  /** Presence requests allowed per application per 30 s before 429 (default 1500, the documented floor; 0 disables). */
  throttleLimit?: number;
  /**
   * Application permissions of apps[0] in a new directory (default Presence.ReadWrite.All and
   * User.ReadBasic.All, which resolving a user principal name needs).
   */
  appPermissions?: readonly string[];
  logger?: Logger;
}

export interface FaultSpec {
  /**
   * `status`: the next `count` Graph requests (or those under `path`) get this status; 401 is the
   * intermittent refusal of a valid token reported in the field. `rejectIds`: the next `count`
   * getPresencesByUserId requests naming one of `ids` get a bare 400. See docs/emulator.md.
   */
  kind: 'status' | 'hang' | 'drop' | 'tokenOutage' | 'rejectIds';
  status?: 401 | 429 | 500 | 503 | 504;
  /** Seconds, fractional allowed (Graph sends e.g. `2.128`). */
  retryAfterSeconds?: number;
  ids?: string[];
  count: number;
  path?: string;
}

export interface SessionSpec {
  clientId: string;
  availability: string;
  activity: string;
  expirationDuration?: string;
}

/** The one JSON line `presence-bridge emulator` prints. */
export interface EmulatorFacts {
  authorityHost: string;
  graphBaseUrl: string;
  caCertFile: string;
  tenantId: string;
  apps: { clientId: string; clientSecret: string }[];
  users: { id: string; userPrincipalName: string }[];
}

export interface Emulator {
  /** `https://127.0.0.1:PORT`: MSAL authority is `${authorityHost}/${tenantId}`. */
  readonly authorityHost: string;
  /** `https://127.0.0.1:PORT`: Graph is `${graphBaseUrl}/v1.0`. */
  readonly graphBaseUrl: string;
  readonly caCertFile: string;
  /** PEM of the CA that signed the server certificate. */
  readonly caCert: string;
  readonly tenantId: string;
  readonly port: number;
  /** apps[0]: Presence.ReadWrite.All (+ delegated Presence.ReadWrite, public client, a certificate); apps[1]: no presence permission. */
  readonly apps: readonly EmulatedApp[];
  readonly users: readonly EmulatedUser[];
  readonly clock: Clock;
  facts(): EmulatorFacts;
  close(): Promise<void>;
  requestLog(): RequestLogEntry[];
  clearRequestLog(): void;
  injectFault(fault: FaultSpec): void;
  clearFaults(): void;
  approveDeviceCode(userCode: string, userId: string): void;
  declineDeviceCode(userCode: string): void;
  /** A session of another client (e.g. a Teams desktop app), as if it had called setPresence. */
  addSession(userId: string, session: SessionSpec): void;
  setPreferred(userId: string, pair: { availability: string; activity: string } | null, expirationDuration?: string): void;
  presenceOf(userId: string): PresenceState;
  sessionsOf(userId: string): SessionView[];
  preferredOf(userId: string): StoredPreferred | null;
  /** Moves the emulator's own clock (refused when an external clock was given). */
  advanceTime(ms: number): void;
}

const MAX_LOG_ENTRIES = 10_000;
const CONTROL_PREFIX = '/_emulator';

/** A clock the control route can move forward (only when the emulator owns its clock). */
class OffsetClock implements Clock {
  offset = 0;
  constructor(private readonly base: Clock) {}
  now(): number {
    return this.base.now() + this.offset;
  }
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    return this.base.setTimeout(callback, delayMs);
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    this.base.clearTimeout(handle);
  }
}

/**
 * RSA keys are the slow part of a start (tests start an emulator per test), so one process makes
 * them once: the token-signing key and apps[0]'s certificate. Tenants, secrets, CA and server
 * certificate stay per emulator, and tokens carry the tenant, so emulators still reject each
 * other's tokens.
 */
let sharedRsa: Promise<[KeyObject, ClientCertificate]> | undefined;
function rsaMaterial(): Promise<[KeyObject, ClientCertificate]> {
  sharedRsa ??= Promise.all([generateSigningKey(), createClientCertificate('Presence Bridge')]);
  sharedRsa.catch(() => {
    sharedRsa = undefined;
  });
  return sharedRsa;
}

function generateSigningKey(): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 2048 }, (error, _publicKey, privateKey) => {
      if (error) reject(error);
      else resolve(privateKey);
    });
  });
}

function validateSpec(session: SessionSpec): string | undefined {
  if (typeof session.clientId !== 'string' || session.clientId === '') return 'clientId is required';
  if (!SESSION_ANY_AVAILABILITIES.includes(session.availability)) return `availability must be one of ${SESSION_ANY_AVAILABILITIES.join(', ')}`;
  if (typeof session.activity !== 'string' || session.activity === '') return 'activity is required';
  if (session.expirationDuration !== undefined && !(parseIsoDuration(session.expirationDuration) ?? 0)) return 'expirationDuration must be an ISO 8601 duration';
  return undefined;
}

class EmulatorError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const logger = options.logger ?? silentLogger;
  const host = options.host ?? '127.0.0.1';
  const timeScale = options.clock ? 1 : (options.timeScale ?? 1);
  const ownClock = options.clock ? undefined : new OffsetClock(createScaledClock(timeScale));
  const clock: Clock = options.clock ?? ownClock!;
  const saved = options.stateFile ? await loadState(options.stateFile) : undefined;
  if (saved && ownClock && saved.savedAt > ownClock.now()) ownClock.offset = saved.savedAt - ownClock.now();

  const wallNow = new Date();
  let ca: CertificateAuthority;
  let signingKey: KeyObject;
  let clientCertificate: ClientCertificate | undefined;
  if (saved) {
    ca = saved.ca;
    signingKey = createPrivateKey(saved.signingKeyPem);
  } else {
    [ca, [signingKey, clientCertificate]] = await Promise.all([createCertificateAuthority(wallNow), rsaMaterial()]);
  }
  const serverCert = await createServerCertificate(ca, wallNow);
  const directory = saved?.directory ?? createDirectory(clientCertificate, options.appPermissions);
  const store = new PresenceStore();
  if (saved) store.restore(saved.presence);

  let tempDir: string | undefined;
  let caCertFile = options.caCertFile;
  if (!caCertFile) {
    tempDir = await mkdtemp(join(tmpdir(), 'presence-bridge-emulator-'));
    caCertFile = join(tempDir, 'ca.pem');
  }
  await writeFile(caCertFile, ca.certPem);

  const log: RequestLogEntry[] = [];
  const faults: Fault[] = [];
  const refreshTokens = new Map<string, RefreshGrant>(saved?.refreshTokens ?? []);
  const publicJwk = createPublicKey(signingKey).export({ format: 'jwk' }) as Record<string, unknown>;

  let persistTimer: NodeJS.Timeout | undefined;
  let persisting: Promise<void> = Promise.resolve();
  let saveQueued = false;
  // At most one save in flight and one queued; the queued one snapshots when it runs, so a slow
  // disk under many changes never piles up snapshots in memory.
  const persistNow = (): Promise<void> => {
    const file = options.stateFile;
    if (!file) return Promise.resolve();
    if (saveQueued) return persisting;
    saveQueued = true;
    const save = (): Promise<void> => {
      saveQueued = false;
      return saveState(file, {
        version: 1 as const,
        savedAt: clock.now(),
        directory,
        presence: store.snapshot(),
        refreshTokens: [...refreshTokens.entries()],
        ca,
        signingKeyPem: signingKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      });
    };
    persisting = persisting
      .then(save, save)
      .catch((error: unknown) => logger.error(`emulator: cannot write state file ${file}: ${errorMessage(error)}`));
    return persisting;
  };

  const record = (entry: RequestLogEntry): void => {
    logger.debug(`emulator: ${entry.method} ${entry.path} -> ${entry.status === 0 ? 'no answer (fault)' : entry.status}${entry.appId ? ` [${entry.appId}]` : ''}`);
    log.push(entry);
    if (log.length > MAX_LOG_ENTRIES) log.splice(0, log.length - MAX_LOG_ENTRIES);
  };

  const core: EmulatorCore = {
    directory,
    store,
    logger,
    signingKey,
    signingKid: `emu-${typeof publicJwk.n === 'string' ? publicJwk.n.slice(0, 12) : 'key'}`,
    publicJwk,
    origin: '',
    now: () => clock.now(),
    timeScale,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600,
    deviceCodeIntervalSeconds: options.deviceCodeIntervalSeconds ?? 5,
    deviceCodes: new Map(),
    refreshTokens,
    throttleLimit: options.throttleLimit ?? 1500,
    throttleHits: new Map(),
    rejectIds: (ids) => {
      const wanted = new Set(ids.map((id) => id.toLowerCase()));
      const index = faults.findIndex((f) => f.kind === 'rejectIds' && (f.ids ?? []).some((id) => wanted.has(id.toLowerCase())));
      if (index < 0) return false;
      const fault = faults[index]!;
      fault.remaining -= 1;
      if (fault.remaining <= 0) faults.splice(index, 1);
      return true;
    },
    logBatchItem: (entry) => record({ ...entry, kind: 'batch', at: clock.now() }),
    changed: () => {
      if (!options.stateFile || persistTimer) return;
      persistTimer = setTimeout(() => {
        persistTimer = undefined;
        void persistNow();
      }, 50);
      persistTimer.unref();
    },
  };

  const userOrThrow = (idOrUpn: string): EmulatedUser => {
    const user = findUser(directory, idOrUpn);
    if (!user) throw new EmulatorError(404, 'NotFound', `no user '${idOrUpn}'`);
    return user;
  };

  const api = {
    injectFault: (fault: FaultSpec): void => {
      if (!['status', 'hang', 'drop', 'tokenOutage', 'rejectIds'].includes(fault.kind)) throw new EmulatorError(400, 'BadRequest', `unknown fault kind '${String(fault.kind)}'`);
      if (fault.kind === 'status' && ![401, 429, 500, 503, 504].includes(fault.status ?? 0)) throw new EmulatorError(400, 'BadRequest', 'a status fault needs status 401, 429, 500, 503 or 504');
      if (fault.kind === 'rejectIds' && (!Array.isArray(fault.ids) || fault.ids.length === 0 || !fault.ids.every((id) => typeof id === 'string'))) {
        throw new EmulatorError(400, 'BadRequest', 'a rejectIds fault needs ids, a non-empty array of strings');
      }
      if (fault.retryAfterSeconds !== undefined && !(fault.retryAfterSeconds >= 0)) throw new EmulatorError(400, 'BadRequest', 'retryAfterSeconds must be a number of seconds, 0 or more');
      if (!Number.isInteger(fault.count) || fault.count < 1) throw new EmulatorError(400, 'BadRequest', 'count must be a positive integer');
      faults.push({ ...fault, remaining: fault.count });
    },
    approveDeviceCode: (userCode: string, userId: string): void => {
      const outcome = approveDeviceCode(core, userCode, userId);
      if (outcome === 'unknown-code') throw new EmulatorError(404, 'NotFound', `no pending device code '${userCode}'`);
      if (outcome === 'unknown-user') throw new EmulatorError(404, 'NotFound', `no user '${userId}'`);
      if (outcome === 'expired') throw new EmulatorError(400, 'BadRequest', `device code '${userCode}' has expired`);
    },
    declineDeviceCode: (userCode: string): void => {
      if (!declineDeviceCode(core, userCode)) throw new EmulatorError(404, 'NotFound', `no pending device code '${userCode}'`);
    },
    addSession: (userId: string, session: SessionSpec): void => {
      const problem = validateSpec(session);
      if (problem) throw new EmulatorError(400, 'BadRequest', problem);
      const user = userOrThrow(userId);
      const now = clock.now();
      const ms = session.expirationDuration ? (parseIsoDuration(session.expirationDuration) ?? 0) : 4 * 3_600_000;
      store.setSession(user.id, { clientId: session.clientId, availability: session.availability, activity: session.activity, setAt: now, expiresAt: now + ms });
      core.changed();
    },
    removeSession: (userId: string, clientId: string): boolean => {
      const user = userOrThrow(userId);
      const removed = store.clearSession(user.id, clientId, clock.now());
      core.changed();
      return removed;
    },
    setPreferred: (userId: string, pair: { availability: string; activity: string } | null, expirationDuration?: string): void => {
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
    presenceOf: (userId: string): PresenceState => store.presence(userOrThrow(userId).id, clock.now()),
    sessionsOf: (userId: string): SessionView[] => store.sessions(userOrThrow(userId).id, clock.now()),
    preferredOf: (userId: string): StoredPreferred | null => store.preferred(userOrThrow(userId).id, clock.now()),
    advanceTime: (ms: number): void => {
      if (!ownClock) throw new EmulatorError(409, 'Conflict', 'the emulator runs on an external clock; move that clock instead');
      if (!(ms >= 0)) throw new EmulatorError(400, 'BadRequest', 'time only moves forward');
      ownClock.offset += ms;
    },
  };

  const pickFault = (kind: 'graph' | 'identity' | 'token', route: string, path: string): Fault | undefined => {
    const index = faults.findIndex((f) => {
      if (f.kind === 'rejectIds') return false;
      if (f.kind === 'tokenOutage') return kind === 'token';
      if (f.path !== undefined) return route.startsWith(f.path) || path.startsWith(f.path);
      return kind === 'graph';
    });
    if (index < 0) return undefined;
    const fault = faults[index]!;
    fault.remaining -= 1;
    if (fault.remaining <= 0) faults.splice(index, 1);
    return fault;
  };

  const hung = new Set<ServerResponse>();

  const send = (res: ServerResponse, reply: Reply, requestId: string, clientRequestId: string | undefined): void => {
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
  };

  const control = async (method: string, parts: string[], body: unknown): Promise<Reply> => {
    const [head, a, b, c] = parts;
    const json = (status: number, value?: unknown): Reply => ({ status, body: value });
    const requireObject = (): Record<string, unknown> => {
      if (body instanceof Error || !isRecord(body)) throw new EmulatorError(400, 'BadRequest', 'the body must be a JSON object');
      return body;
    };
    if (head === 'facts' && method === 'GET') return json(200, facts());
    if (head === 'requests' && !a) {
      if (method === 'GET') return json(200, { value: log });
      if (method === 'DELETE') {
        log.length = 0;
        return json(204);
      }
    }
    if (head === 'faults' && !a) {
      if (method === 'GET') return json(200, { value: faults });
      if (method === 'DELETE') {
        faults.length = 0;
        return json(204);
      }
      if (method === 'POST') {
        const f = requireObject();
        api.injectFault({
          kind: f.kind as FaultSpec['kind'],
          count: typeof f.count === 'number' ? f.count : 1,
          ...(typeof f.status === 'number' ? { status: f.status as FaultSpec['status'] } : {}),
          ...(typeof f.retryAfterSeconds === 'number' ? { retryAfterSeconds: f.retryAfterSeconds } : {}),
          ...(typeof f.path === 'string' ? { path: f.path } : {}),
          ...(Array.isArray(f.ids) ? { ids: f.ids as string[] } : {}),
        });
        return json(201, { value: faults });
      }
    }
    if (head === 'devicecode' && method === 'POST' && (a === 'approve' || a === 'decline')) {
      const o = requireObject();
      const code = typeof o.user_code === 'string' ? o.user_code : typeof o.userCode === 'string' ? o.userCode : '';
      if (a === 'approve') api.approveDeviceCode(code, typeof o.userId === 'string' ? o.userId : '');
      else api.declineDeviceCode(code);
      return json(200, { status: a === 'approve' ? 'approved' : 'declined' });
    }
    if (head === 'time' && !a) {
      if (method === 'GET') return json(200, { now: new Date(clock.now()).toISOString(), ms: clock.now(), external: !ownClock, timeScale });
      if (method === 'POST') {
        const o = requireObject();
        if (!ownClock) throw new EmulatorError(409, 'Conflict', 'the emulator runs on an external clock; move that clock instead');
        let ms: number | undefined;
        if (typeof o.advanceSeconds === 'number') ms = o.advanceSeconds * 1000;
        else if (typeof o.advance === 'string') ms = parseIsoDuration(o.advance);
        else if (typeof o.now === 'string') ms = Date.parse(o.now) - clock.now();
        if (ms === undefined || !Number.isFinite(ms)) throw new EmulatorError(400, 'BadRequest', 'give advanceSeconds, advance (ISO 8601 duration) or now (ISO date)');
        api.advanceTime(ms);
        return json(200, { now: new Date(clock.now()).toISOString(), ms: clock.now() });
      }
    }
    if (head === 'users' && a) {
      const user = userOrThrow(safeDecode(a));
      if (b === 'sessions' && !c) {
        if (method === 'GET') return json(200, { presence: api.presenceOf(user.id), preferred: api.preferredOf(user.id), sessions: api.sessionsOf(user.id) });
        if (method === 'POST') {
          const o = requireObject();
          api.addSession(user.id, {
            clientId: typeof o.clientId === 'string' ? o.clientId : '',
            availability: typeof o.availability === 'string' ? o.availability : '',
            activity: typeof o.activity === 'string' ? o.activity : '',
            ...(typeof o.expirationDuration === 'string' ? { expirationDuration: o.expirationDuration } : {}),
          });
          return json(201, { presence: api.presenceOf(user.id), sessions: api.sessionsOf(user.id) });
        }
      }
      if (b === 'sessions' && c && method === 'DELETE') {
        if (!api.removeSession(user.id, safeDecode(c))) throw new EmulatorError(404, 'NotFound', `no session '${c}'`);
        return json(204);
      }
      if (b === 'preferred' && !c) {
        if (method === 'DELETE') {
          api.setPreferred(user.id, null);
          return json(204);
        }
        if (method === 'POST') {
          const o = requireObject();
          if (typeof o.availability !== 'string' || typeof o.activity !== 'string') throw new EmulatorError(400, 'BadRequest', 'availability and activity are required');
          api.setPreferred(user.id, { availability: o.availability, activity: o.activity }, typeof o.expirationDuration === 'string' ? o.expirationDuration : undefined);
          return json(200, { presence: api.presenceOf(user.id) });
        }
      }
      if (!b && method === 'GET') return json(200, user);
    }
    return Promise.reject(new EmulatorError(404, 'NotFound', `no control route ${method} ${CONTROL_PREFIX}/${parts.join('/')}`));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const clientRequestIdHeader = req.headers['client-request-id'];
    const clientRequestId = typeof clientRequestIdHeader === 'string' ? clientRequestIdHeader : undefined;
    const method = (req.method ?? 'GET').toUpperCase();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'https://emulator.invalid');
    } catch {
      url = new URL('https://emulator.invalid/');
    }
    const path = url.pathname;
    const errCtx = { requestId, now: clock.now(), clientRequestId };
    const reply = (r: Reply): void => send(res, r, requestId, clientRequestId);

    if (path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`)) {
      let raw: Buffer;
      try {
        raw = await readBody(req);
      } catch (error) {
        reply(error instanceof BodyTooLargeError ? graphError(413, 'RequestEntityTooLarge', 'The request body is too large.', errCtx, { connection: 'close' }) : graphError(400, 'BadRequest', 'Cannot read the request body.', errCtx));
        req.resume();
        return;
      }
      try {
        reply(await control(method, path.slice(CONTROL_PREFIX.length).split('/').filter(Boolean), parseJson(raw)));
      } catch (error) {
        if (error instanceof EmulatorError) reply(graphError(error.status, error.code, error.message, errCtx));
        else throw error;
      }
      return;
    }

    const segments = path.split('/').filter(Boolean);
    const versionMatch = /^(v1\.0|beta)$/i.exec(segments[0] ?? '');
    const isGraph = versionMatch !== null;
    const identityTail = segments.slice(1).join('/').toLowerCase();
    const isToken = !isGraph && identityTail === 'oauth2/v2.0/token';
    const kind: RequestLogEntry['kind'] = isGraph ? 'graph' : 'identity';
    const route = isGraph ? `/${segments.slice(1).join('/')}` : path;
    const fault = path === '/devicelogin' ? undefined : pickFault(isGraph ? 'graph' : isToken ? 'token' : 'identity', route, path);
    const at = clock.now();

    if (fault && (fault.kind === 'hang' || fault.kind === 'drop')) {
      record({ method, path, route, kind, status: 0, at, requestId });
      req.resume();
      if (fault.kind === 'drop') {
        req.socket.destroy();
      } else {
        hung.add(res);
        res.on('close', () => hung.delete(res));
      }
      return;
    }

    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch (error) {
      const r = error instanceof BodyTooLargeError ? graphError(413, 'RequestEntityTooLarge', 'The request body is too large.', errCtx, { connection: 'close' }) : graphError(400, 'BadRequest', 'Cannot read the request body.', errCtx);
      record({ method, path, route, kind, status: r.status, at, requestId });
      reply(r);
      req.resume();
      return;
    }

    if (fault) {
      const status = fault.kind === 'tokenOutage' ? (fault.status ?? 503) : (fault.status ?? 503);
      // Graph's own throttling sample sends fractional seconds; so does the emulator by default.
      const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : status === 429 ? { 'retry-after': '1.5' } : {};
      const codes: Record<number, [string, string]> = {
        401: ['InvalidAuthenticationToken', 'Access token validation failure.'],
        429: ['TooManyRequests', 'Too many requests.'],
        500: ['InternalServerError', 'An internal server error occurred.'],
        503: ['ServiceUnavailable', 'The service is temporarily unavailable.'],
        504: ['GatewayTimeout', 'The gateway timed out.'],
      };
      const [code, message] = codes[status] ?? ['UnknownError', 'Error.'];
      const r = isGraph ? graphError(status, code, message, errCtx, headers) : aadError(core, { requestId, clientRequestId }, status, 'temporarily_unavailable', 90033, 'A transient error has occurred. Please try again.', headers);
      record({ method, path, route, kind, status: r.status, at, requestId });
      reply(r);
      return;
    }

    if (isGraph) {
      const body = parseJson(raw);
      const result = handleGraph(core, {
        method,
        route,
        version: (versionMatch[1] ?? 'v1.0').toLowerCase() === 'beta' ? 'beta' : 'v1.0',
        query: url.search.replace(/^\?/, ''),
        body,
        authorization: req.headers.authorization,
        requestId,
        clientRequestId,
      });
      record({ method, path, route, kind, ...(result.appId ? { appId: result.appId } : {}), ...(body !== undefined && !(body instanceof Error) ? { body } : {}), status: result.reply.status, at, requestId });
      reply(result.reply);
      return;
    }

    const identity = identityRoute(method, segments, raw, req.headers.authorization, { requestId, clientRequestId });
    record({ method, path, route, kind, ...(identity.appId ? { appId: identity.appId } : {}), ...(identity.logBody ? { body: identity.logBody } : {}), status: identity.reply.status, at, requestId });
    reply(identity.reply);
  };

  const identityRoute = (
    method: string,
    segments: string[],
    raw: Buffer,
    authorization: string | undefined,
    ctx: { requestId: string; clientRequestId?: string | undefined },
  ): { reply: Reply; appId?: string; logBody?: Record<string, unknown> } => {
    const [tenant, ...rest] = segments;
    const tail = rest.join('/').toLowerCase();
    if (segments.length === 1 && tenant === 'devicelogin') {
      const page = devicePage(method, raw, directory.users, (code, user) => approveDeviceCode(core, code, user));
      return { reply: page };
    }
    const notFound: Reply = graphError(404, 'NotFound', `'${segments.join('/')}' is not an endpoint of this emulator. Graph is under /v1.0 and /beta; sign-in under /{tenant}/oauth2/v2.0.`, { ...ctx, now: clock.now() });
    if (!tenant || rest.length === 0) return { reply: notFound };
    const endpoints = ['v2.0/.well-known/openid-configuration', 'discovery/v2.0/keys', 'oauth2/v2.0/token', 'oauth2/v2.0/devicecode', 'oauth2/v2.0/authorize'];
    if (!endpoints.includes(tail)) return { reply: notFound };
    if (!matchesTenant(directory, tenant)) {
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
  };

  const server: Server = createServer({ cert: serverCert.certPem, key: serverCert.keyPem, ca: ca.certPem }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error(`emulator: ${req.method ?? ''} ${req.url ?? ''} failed: ${errorMessage(error)}`);
      send(res, graphError(500, 'InternalServerError', 'The emulator failed on this request.', { requestId: randomUUID(), now: clock.now() }), randomUUID(), undefined);
    });
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 0;
  server.on('tlsClientError', (error) => logger.debug(`emulator: TLS handshake failed: ${errorMessage(error)}`));
  server.on('clientError', (error: Error, socket: Socket) => {
    logger.debug(`emulator: client error: ${errorMessage(error)}`);
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => logger.error(`emulator: server error: ${errorMessage(error)}`));
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const origin = `https://${hostForUrl}:${port}`;
  core.origin = origin;
  if (options.stateFile && !saved) await persistNow();
  logger.info(`emulator: listening on ${origin} (tenant ${directory.tenantId}${timeScale !== 1 ? `, time x${timeScale}` : ''})`);

  const facts = (): EmulatorFacts => ({
    authorityHost: origin,
    graphBaseUrl: origin,
    caCertFile: caCertFile,
    tenantId: directory.tenantId,
    apps: directory.apps.map((a) => ({ clientId: a.clientId, clientSecret: a.clientSecret })),
    users: directory.users.map((u) => ({ id: u.id, userPrincipalName: u.userPrincipalName })),
  });

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      for (const res of hung) res.destroy();
      hung.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (persistTimer) {
        clearTimeout(persistTimer);
        persistTimer = undefined;
      }
      if (options.stateFile) await persistNow();
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
      logger.info('emulator: stopped');
    })();
    return closed;
  };

  return {
    authorityHost: origin,
    graphBaseUrl: origin,
    caCertFile,
    caCert: ca.certPem,
    tenantId: directory.tenantId,
    port,
    apps: directory.apps,
    users: directory.users,
    clock,
    facts,
    close,
    requestLog: () => log.map((e) => ({ ...e })),
    clearRequestLog: () => {
      log.length = 0;
    },
    injectFault: api.injectFault,
    clearFaults: () => {
      faults.length = 0;
    },
    approveDeviceCode: api.approveDeviceCode,
    declineDeviceCode: api.declineDeviceCode,
    addSession: api.addSession,
    setPreferred: api.setPreferred,
    presenceOf: api.presenceOf,
    sessionsOf: api.sessionsOf,
    preferredOf: api.preferredOf,
    advanceTime: api.advanceTime,
  };
}
