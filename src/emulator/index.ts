/**
 * Microsoft Graph presence + Entra ID sign-in emulator over HTTPS, for tests, the demo and dry
 * runs (`presence-bridge emulator`). See docs/emulator.md for what is emulated and how.
 */
import { createPrivateKey, createPublicKey, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorMessage, silentLogger, type Logger } from '../logger.js';
import { createScaledClock, type Clock } from '../shared/clock.js';
import { createCertificateAuthority, createServerCertificate, type CertificateAuthority } from './certificates.js';
import type { EmulatorCore, RefreshGrant, RequestLogEntry } from './context.js';
import { createControlApi, type ControlApi, type GroupSpec, type SessionSpec, type UserSpec } from './controlApi.js';
import type { ControlEnv } from './controlRoutes.js';
import { createDirectory, type AppSpec, type Directory, type EmulatedApp, type EmulatedGroup, type EmulatedUser } from './directory.js';
import { FaultList, type FaultSpec } from './faults.js';
import { graphError } from './http.js';
import { OffsetClock, rsaMaterial } from './keys.js';
import { createPersister, type Persister } from './persistence.js';
import { PresenceStore, type PresenceState, type SessionView, type StoredPreferred } from './presenceStore.js';
import { handleRequest, send, type HandlerEnv } from './requestHandler.js';
import { loadState, type EmulatorState } from './state.js';

export type { RequestLogEntry } from './context.js';
export type { AppSpec, EmulatedApp, EmulatedUser, EmulatedGroup } from './directory.js';
export type { FaultSpec } from './faults.js';
export type { SessionSpec, UserSpec, GroupSpec } from './controlApi.js';
export { GROUP_MEMBER_PERMISSIONS, DEFAULT_MEMBER_PAGE_SIZE, MAX_MEMBER_PAGE_SIZE } from './groups.js';
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
  /** Page size of group member lists without `$top` (default 100, as Graph). */
  memberPageSize?: number;
  /**
   * Registrations to add after apps[0] and apps[1] in a new directory, each with apps[0]'s
   * application permissions and its own secret (apps[2], apps[3], …); e.g. one per shard with
   * `fleet.shardAuth`. The throttle counts per app, so each has its own budget. Default 0.
   */
  extraApps?: number;
  logger?: Logger;
}

/** The one JSON line `presence-bridge emulator` prints. */
export interface EmulatorFacts {
  authorityHost: string;
  graphBaseUrl: string;
  caCertFile: string;
  tenantId: string;
  apps: { clientId: string; clientSecret: string }[];
  users: { id: string; userPrincipalName: string }[];
  groups: { id: string; displayName: string }[];
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
  /** apps[0]: Presence.ReadWrite.All (+ delegated Presence.ReadWrite, public client, a certificate); apps[1]: no presence permission; then `extraApps` and those `addApp()` made. */
  readonly apps: readonly EmulatedApp[];
  readonly users: readonly EmulatedUser[];
  readonly groups: readonly EmulatedGroup[];
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
  /** New users in the directory (object ids generated unless given). */
  addUsers(users: readonly UserSpec[]): EmulatedUser[];
  /** A new group; members are user ids or UPNs, or group ids (nesting). */
  addGroup(group: GroupSpec): EmulatedGroup;
  addGroupMembers(groupId: string, memberIds: readonly string[]): void;
  /** False when the object was not a direct member. */
  removeGroupMember(groupId: string, memberId: string): boolean;
  /** Another app registration with its own secret, appended to `apps` (permissions of apps[0] unless given). */
  addApp(spec?: AppSpec): EmulatedApp;
}

const MAX_LOG_ENTRIES = 10_000;

interface Material {
  readonly saved: EmulatorState | undefined;
  readonly ca: CertificateAuthority;
  readonly signingKey: KeyObject;
  readonly serverCert: { certPem: string; keyPem: string };
  readonly directory: Directory;
}

async function loadMaterial(options: EmulatorOptions): Promise<Material> {
  const saved = options.stateFile ? await loadState(options.stateFile) : undefined;
  const wallNow = new Date();
  if (saved) {
    return { saved, ca: saved.ca, signingKey: createPrivateKey(saved.signingKeyPem), serverCert: await createServerCertificate(saved.ca, wallNow), directory: saved.directory };
  }
  const [ca, [signingKey, clientCertificate]] = await Promise.all([createCertificateAuthority(wallNow), rsaMaterial()]);
  return { saved, ca, signingKey, serverCert: await createServerCertificate(ca, wallNow), directory: createDirectory(clientCertificate, options.appPermissions) };
}

function createCore(options: EmulatorOptions, m: Material, clock: Clock, timeScale: number, logger: Logger, hooks: { rejectIds: EmulatorCore['rejectIds']; logBatchItem: EmulatorCore['logBatchItem']; changed: () => void }): EmulatorCore {
  const store = new PresenceStore();
  if (m.saved) store.restore(m.saved.presence);
  const publicJwk = createPublicKey(m.signingKey).export({ format: 'jwk' }) as Record<string, unknown>;
  return {
    directory: m.directory,
    store,
    logger,
    signingKey: m.signingKey,
    signingKid: `emu-${typeof publicJwk.n === 'string' ? publicJwk.n.slice(0, 12) : 'key'}`,
    publicJwk,
    origin: '',
    now: () => clock.now(),
    timeScale,
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3600,
    deviceCodeIntervalSeconds: options.deviceCodeIntervalSeconds ?? 5,
    deviceCodes: new Map(),
    refreshTokens: new Map<string, RefreshGrant>(m.saved?.refreshTokens ?? []),
    throttleLimit: options.throttleLimit ?? 1500,
    throttleHits: new Map(),
    ...(options.memberPageSize !== undefined ? { memberPageSize: options.memberPageSize } : {}),
    ...hooks,
  };
}

function createHttpsServer(m: Material, env: HandlerEnv, logger: Logger): Server {
  const server = createServer({ cert: m.serverCert.certPem, key: m.serverCert.keyPem, ca: m.ca.certPem }, (req, res) => {
    handleRequest(env, req, res).catch((error: unknown) => {
      logger.error(`emulator: ${req.method ?? ''} ${req.url ?? ''} failed: ${errorMessage(error)}`);
      send(res, graphError(500, 'InternalServerError', 'The emulator failed on this request.', { requestId: randomUUID(), now: env.clock.now() }), randomUUID(), undefined);
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
  return server;
}

/** Listens and answers the origin (`https://host:port`). */
async function listen(server: Server, port: number, host: string, logger: Logger): Promise<{ origin: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => logger.error(`emulator: server error: ${errorMessage(error)}`));
  const actual = (server.address() as AddressInfo).port;
  const hostForUrl = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return { origin: `https://${hostForUrl}:${actual}`, port: actual };
}

async function writeCaCert(options: EmulatorOptions, ca: CertificateAuthority): Promise<{ caCertFile: string; tempDir?: string }> {
  if (options.caCertFile) {
    await writeFile(options.caCertFile, ca.certPem);
    return { caCertFile: options.caCertFile };
  }
  const tempDir = await mkdtemp(join(tmpdir(), 'presence-bridge-emulator-'));
  const caCertFile = join(tempDir, 'ca.pem');
  await writeFile(caCertFile, ca.certPem);
  return { caCertFile, tempDir };
}

function factsOf(origin: string, caCertFile: string, directory: Directory): EmulatorFacts {
  return {
    authorityHost: origin,
    graphBaseUrl: origin,
    caCertFile,
    tenantId: directory.tenantId,
    apps: directory.apps.map((a) => ({ clientId: a.clientId, clientSecret: a.clientSecret })),
    users: directory.users.map((u) => ({ id: u.id, userPrincipalName: u.userPrincipalName })),
    groups: directory.groups.map((g) => ({ id: g.id, displayName: g.displayName })),
  };
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const logger = options.logger ?? silentLogger;
  const timeScale = options.clock ? 1 : (options.timeScale ?? 1);
  const ownClock = options.clock ? undefined : new OffsetClock(createScaledClock(timeScale));
  const clock: Clock = options.clock ?? ownClock!;
  const m = await loadMaterial(options);
  if (m.saved && ownClock && m.saved.savedAt > ownClock.now()) ownClock.offset = m.saved.savedAt - ownClock.now();
  const { caCertFile, tempDir } = await writeCaCert(options, m.ca);

  const log: RequestLogEntry[] = [];
  const faults = new FaultList();
  const record = (entry: RequestLogEntry): void => {
    logger.debug(`emulator: ${entry.method} ${entry.path} -> ${entry.status === 0 ? 'no answer (fault)' : entry.status}${entry.appId ? ` [${entry.appId}]` : ''}`);
    log.push(entry);
    if (log.length > MAX_LOG_ENTRIES) log.splice(0, log.length - MAX_LOG_ENTRIES);
  };
  // eslint-disable-next-line prefer-const -- the persister needs the core it saves
  let persister: Persister | undefined;
  const core = createCore(options, m, clock, timeScale, logger, {
    rejectIds: (ids) => faults.rejectIds(ids),
    logBatchItem: (entry) => record({ ...entry, kind: 'batch', at: clock.now() }),
    changed: () => persister?.schedule(),
  });
  persister = createPersister(
    options.stateFile,
    () => ({ version: 1 as const, savedAt: clock.now(), directory: m.directory, presence: core.store.snapshot(), refreshTokens: [...core.refreshTokens.entries()], ca: m.ca, signingKeyPem: m.signingKey.export({ format: 'pem', type: 'pkcs8' }).toString() }),
    logger,
  );
  const api = createControlApi(core, faults, clock, ownClock);
  if (!m.saved) for (let i = 0; i < (options.extraApps ?? 0); i++) api.addApp();
  const facts = (): EmulatorFacts => factsOf(core.origin, caCertFile, m.directory);
  const hung = new Set<ServerResponse>();
  const control: ControlEnv = { api, faults, log, directory: m.directory, clock, ownsClock: ownClock !== undefined, timeScale, facts };
  const server = createHttpsServer(m, { core, clock, faults, control, record, hung }, logger);
  const { origin, port } = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1', logger);
  core.origin = origin;
  if (options.stateFile && !m.saved) await persister.persistNow();
  logger.info(`emulator: listening on ${origin} (tenant ${m.directory.tenantId}${timeScale !== 1 ? `, time x${timeScale}` : ''})`);

  const stopper = persister;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      for (const res of hung) res.destroy();
      hung.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      stopper.cancel();
      if (options.stateFile) await stopper.persistNow();
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
      logger.info('emulator: stopped');
    })();
    return closed;
  };
  return emulatorHandle({ origin, port, caCertFile, caCert: m.ca.certPem, directory: m.directory, clock, facts, close, log, faults, api });
}

function emulatorHandle(p: { origin: string; port: number; caCertFile: string; caCert: string; directory: Directory; clock: Clock; facts: () => EmulatorFacts; close: () => Promise<void>; log: RequestLogEntry[]; faults: FaultList; api: ControlApi }): Emulator {
  const { api, log, faults } = p;
  return {
    authorityHost: p.origin,
    graphBaseUrl: p.origin,
    caCertFile: p.caCertFile,
    caCert: p.caCert,
    tenantId: p.directory.tenantId,
    port: p.port,
    apps: p.directory.apps,
    users: p.directory.users,
    groups: p.directory.groups,
    clock: p.clock,
    facts: p.facts,
    close: p.close,
    requestLog: () => log.map((e) => ({ ...e })),
    clearRequestLog: () => {
      log.length = 0;
    },
    injectFault: api.injectFault,
    clearFaults: () => faults.clear(),
    approveDeviceCode: api.approveDeviceCode,
    declineDeviceCode: api.declineDeviceCode,
    addSession: api.addSession,
    setPreferred: api.setPreferred,
    presenceOf: api.presenceOf,
    sessionsOf: api.sessionsOf,
    preferredOf: api.preferredOf,
    advanceTime: api.advanceTime,
    addUsers: api.addUsers,
    addGroup: api.addGroup,
    addGroupMembers: api.addGroupMembers,
    removeGroupMember: api.removeGroupMember,
    addApp: api.addApp,
  };
}
