import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { TLSSocket } from 'node:tls';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { holdUntil, TOKEN_REFRESH_BEFORE_EXPIRY_MS } from '../../src/graph/baseTokenProvider.js';
import { createGraphStack, type GraphStack } from '../../src/graph/index.js';
import { systemClock } from '../../src/shared/clock.js';
import { capturingLogger } from '../helpers/logger.js';
import { configFor, tempDir } from './helpers.js';

// Issue 16: what each Graph request costs the bridge besides the request itself. Behaviour, not
// timing: how often MSAL is asked for a token, and how many TLS contexts the connections share.

const BUSY = { availability: 'Busy', activity: 'InACall' } as const;

describe('the cost of a Graph request', () => {
  let emulator: Emulator;
  let storage: { path: string; remove(): Promise<void> };
  let stack: GraphStack | undefined;

  beforeAll(async () => {
    emulator = await startEmulator();
    storage = await tempDir();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await stack?.close();
    stack = undefined;
  });
  afterAll(async () => {
    await emulator.close();
    await storage.remove();
  });

  const open = (): GraphStack => {
    stack = createGraphStack(configFor(emulator), { logger: capturingLogger(), clock: systemClock, storagePath: storage.path });
    return stack;
  };

  it('1,000 requests with a valid token ask MSAL for it once and the token endpoint once', async () => {
    const msal = vi.spyOn(ConfidentialClientApplication.prototype, 'acquireTokenByClientCredential');
    emulator.clearRequestLog();
    const { client } = open();
    const ids = emulator.users.map((u) => u.id);
    for (let round = 0; round < 50; round++) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => client.setPresence(ids[i % ids.length]!, BUSY, 'PT1H')));
    }
    const log = emulator.requestLog();
    expect(log.filter((e) => e.kind === 'graph' && e.status === 200)).toHaveLength(1000);
    expect(log.filter((e) => e.kind === 'identity')).toHaveLength(1);
    // the real MSAL ran (the spy passes through), once: not once per request
    expect(msal).toHaveBeenCalledTimes(1);
  });

  it('a held token Graph refuses (401) is refreshed once through MSAL, skipping its cache, and the new one is held', async () => {
    const msal = vi.spyOn(ConfidentialClientApplication.prototype, 'acquireTokenByClientCredential');
    emulator.clearRequestLog();
    const { client } = open();
    const id = emulator.users[0]!.id;
    await client.setPresence(id, BUSY, 'PT1H');
    emulator.injectFault({ kind: 'status', status: 401, count: 1, path: '/users/' });
    await client.setPresence(id, BUSY, 'PT1H');
    for (let i = 0; i < 10; i++) await client.setPresence(id, BUSY, 'PT1H');
    expect(msal).toHaveBeenCalledTimes(2);
    expect(msal.mock.calls.map(([request]) => request.skipCache === true)).toEqual([false, true]);
    const log = emulator.requestLog();
    expect(log.filter((e) => e.kind === 'identity')).toHaveLength(2);
    expect(log.filter((e) => e.kind === 'graph').map((e) => e.status)).toEqual([200, 401, ...Array<number>(11).fill(200)]);
  });

  it('every TLS connection to Graph and the sign-in service shares one secure context (the CAs are parsed once)', async () => {
    const sockets: TLSSocket[] = [];
    const onConnected = (message: unknown) => sockets.push((message as { socket: TLSSocket }).socket);
    subscribe('undici:client:connected', onConnected);
    try {
      const { client } = open();
      const ids = emulator.users.map((u) => u.id);
      // concurrent requests: undici opens a connection for each one that finds none free
      await Promise.all(Array.from({ length: 12 }, (_, i) => client.setPresence(ids[i % ids.length]!, BUSY, 'PT1H')));
    } finally {
      unsubscribe('undici:client:connected', onConnected);
    }
    expect(sockets.length).toBeGreaterThanOrEqual(3);
    // Node keeps the context a TLS socket was made with in its options; a new one per socket
    // means every CA was parsed again for it.
    const contexts = new Set(sockets.map((s) => (s as unknown as { _tlsOptions?: { secureContext?: object } })._tlsOptions?.secureContext));
    expect(contexts.has(undefined)).toBe(false);
    expect(contexts.size).toBe(1);
  });
});

describe('how long a token is held without asking MSAL', () => {
  const now = 1_000_000_000_000;
  it('until 5 minutes before it expires', () => {
    expect(holdUntil({ expiresOn: new Date(now + 3_600_000), refreshOn: undefined }, now)).toBe(now + 3_600_000 - TOKEN_REFRESH_BEFORE_EXPIRY_MS);
  });
  it('half the lifetime of a short-lived token', () => {
    expect(holdUntil({ expiresOn: new Date(now + 60_000), refreshOn: undefined }, now)).toBe(now + 30_000);
  });
  it('not past the refresh time the sign-in service asked for', () => {
    expect(holdUntil({ expiresOn: new Date(now + 3_600_000), refreshOn: new Date(now + 1_800_000) }, now)).toBe(now + 1_800_000);
  });
  it('not at all when it is already expired or has no expiry', () => {
    expect(holdUntil({ expiresOn: new Date(now), refreshOn: undefined }, now)).toBe(now);
    expect(holdUntil({ expiresOn: null, refreshOn: undefined }, now)).toBe(now);
  });
});
