import { randomUUID } from 'node:crypto';
import { createBridge } from '../../src/bridge.js';
import type { CoreBridge } from '../../src/bridge.js';
import type { Emulator } from '../../src/emulator/index.js';
import type { FeatureContext } from '../../src/feature.js';
import { apiSchema, httpApiFeature } from '../../src/httpApi/index.js';
import type { HttpApi } from '../../src/httpApi/index.js';
import { prefixedLogger } from '../../src/logger.js';
import { ManualClock, yieldToEventLoop } from '../../src/shared/clock.js';
import { UndiciHttpClient } from '../../src/shared/httpClient.js';
import { RouteTable } from '../../src/shared/routeTable.js';
import { emulatorConfig, emulatorOn, stopMovingClock, storageDir } from '../helpers/bridgeOnEmulator.js';
import type { Cleanup } from '../helpers/cleanups.js';
import { capturingLogger } from '../helpers/logger.js';
import type { CapturingLogger } from '../helpers/logger.js';
import type { OpenApiCheck } from './openApiCheck.js';
import { serveRoutes } from './routeServer.js';

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON, or the text when the response is not JSON. */
  readonly body: unknown;
}

export interface CallOptions {
  /** An object is sent as JSON with Content-Type application/json unless `contentType` says otherwise. */
  readonly body?: unknown;
  /** null sends no Content-Type. */
  readonly contentType?: string | null;
  readonly token?: string;
}

export interface ApiRig {
  readonly clock: ManualClock;
  readonly emulator: Emulator;
  readonly bridge: CoreBridge;
  readonly api: HttpApi;
  readonly routes: RouteTable;
  readonly logger: CapturingLogger;
  readonly url: string;
  /** Object ids: alex and sam are emulator users; ghost is not in the emulator's directory. */
  readonly ids: { readonly alex: string; readonly sam: string; readonly ghost: string };
  /** A request whose response is checked against the OpenAPI document before it is returned. */
  readonly call: (method: string, path: string, options?: CallOptions) => Promise<ApiResponse>;
  /** Waits until the bridge made every Graph call it queued. */
  readonly settle: () => Promise<void>;
}

/**
 * A real bridge on the emulator (real MSAL, real undici), the API feature created through its
 * FeatureDefinition with a context built from real pieces, and its routes served over real HTTP.
 */
export async function apiRig(cleanups: Cleanup[], check: OpenApiCheck, options: { api?: Record<string, unknown>; token?: string } = {}): Promise<ApiRig> {
  const clock = new ManualClock();
  const emulator = await emulatorOn(clock, cleanups);
  const ids = { alex: emulator.users[0]!.id, sam: emulator.users[1]!.id, ghost: randomUUID() };
  const config = emulatorConfig(emulator, {
    graph: { pollSeconds: 0 },
    users: [
      { key: 'alex', id: ids.alex },
      { key: 'sam', id: ids.sam },
      { key: 'ghost', id: ids.ghost },
    ],
  });
  const storagePath = await storageDir('pb-api-', cleanups);
  const logger = capturingLogger();
  const bridge = createBridge(config, { logger, clock, storagePath, features: [] });
  await bridge.start();
  cleanups.push(() => stopMovingClock(bridge, clock));

  const routes = new RouteTable();
  const context: FeatureContext = {
    logger: prefixedLogger(logger, '[httpApi]'),
    clock,
    storagePath,
    config,
    bridge,
    events: bridge.events,
    http: new UndiciHttpClient(),
    routes,
    instance: { id: 'test', shard: { index: 0, count: 1 } },
  };
  const slice = apiSchema.parse(options.api ?? {});
  const api = httpApiFeature.create?.(slice, context) as HttpApi;
  await api.start();
  cleanups.push(() => api.stop());
  const server = await serveRoutes(routes, options.token === undefined ? {} : { token: options.token });
  cleanups.push(() => server.close());

  const settle = async (): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      await yieldToEventLoop();
      await bridge.whenIdle();
    }
  };

  const call = async (method: string, path: string, callOptions: CallOptions = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = {};
    let body: string | undefined;
    if (callOptions.body !== undefined) {
      body = typeof callOptions.body === 'string' ? callOptions.body : JSON.stringify(callOptions.body);
      if (callOptions.contentType !== null) headers['content-type'] = callOptions.contentType ?? 'application/json';
    }
    if (callOptions.token !== undefined) headers.authorization = `Bearer ${callOptions.token}`;
    const response = await fetch(`${server.url}${path}`, { method, headers, body });
    const text = await response.text();
    const contentType = response.headers.get('content-type');
    const parsed: unknown = contentType?.startsWith('application/json') ? JSON.parse(text) : text;
    check.check({ method, path, status: response.status, contentType, body: parsed });
    return { status: response.status, headers: response.headers, body: parsed };
  };

  return { clock, emulator, bridge, api, routes, logger, url: server.url, ids, call, settle };
}

/** Presence calls the emulator received for a user since the start, as `set Pair` / `clear` / `prefer …`. */
export function graphCalls(emulator: Emulator, userId: string): string[] {
  return emulator.requestLog().flatMap((e) => {
    const body = e.body as { availability?: string; activity?: string } | undefined;
    if (e.route === `/users/${userId}/presence/setPresence`) return [`set ${body?.availability}/${body?.activity}`];
    if (e.route === `/users/${userId}/presence/clearPresence`) return ['clear'];
    if (e.route === `/users/${userId}/presence/setUserPreferredPresence`) return [`prefer ${body?.availability}/${body?.activity}`];
    if (e.route === `/users/${userId}/presence/clearUserPreferredPresence`) return ['unprefer'];
    return [];
  });
}
