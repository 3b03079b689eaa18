import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { createGraphStack, GraphError, type GraphStack } from '../../src/graph/index.js';
import { graphErrorFrom } from '../../src/graph/graphPresenceClient.js';
import { MAX_GRAPH_CONNECTIONS, redactProxy } from '../../src/graph/httpStack.js';
import { ManualClock, systemClock } from '../../src/shared/clock.js';
import { configFor, startConnectProxy, tempDir, watchOutgoing } from './helpers.js';
import { capturingLogger } from '../helpers/logger.js';

describe('one HTTP stack: proxy, CAs, timeouts', () => {
  let emulator: Emulator;
  let proxy: Awaited<ReturnType<typeof startConnectProxy>>;
  let storage: { path: string; remove(): Promise<void> };
  const stacks: GraphStack[] = [];
  const open = (patch: Parameters<typeof configFor>[1], env: NodeJS.ProcessEnv = {}, logger = capturingLogger()) => {
    const stack = createGraphStack(configFor(emulator, patch), { logger, clock: systemClock, storagePath: storage.path, env });
    stacks.push(stack);
    return stack;
  };

  beforeAll(async () => {
    emulator = await startEmulator();
    proxy = await startConnectProxy();
    storage = await tempDir();
  });
  afterAll(async () => {
    for (const s of stacks) await s.close();
    await proxy.close();
    await emulator.close();
    await storage.remove();
  });

  it('sends sign-in and Graph through the configured proxy (CONNECT tunnels)', async () => {
    proxy.targets.length = 0;
    emulator.clearRequestLog();
    const logger = capturingLogger();
    const stack = open({ proxy: proxy.url }, {}, logger);
    await stack.client.setPresence(emulator.users[0]!.id, { availability: 'Busy', activity: 'InACall' }, 'PT1H');
    const target = new URL(emulator.graphBaseUrl).host;
    expect(proxy.targets.length).toBeGreaterThanOrEqual(1);
    expect(new Set(proxy.targets)).toEqual(new Set([target]));
    expect(emulator.requestLog().map((e) => e.kind)).toEqual(['identity', 'graph']);
    expect(logger.texts().some((l) => l.includes(`proxy ${proxy.url}`))).toBe(true);
  });

  it('uses HTTPS_PROXY from the environment, and NO_PROXY bypasses it', async () => {
    proxy.targets.length = 0;
    await open({}, { HTTPS_PROXY: proxy.url }).tokens.getToken();
    expect(proxy.targets.length).toBeGreaterThanOrEqual(1);

    proxy.targets.length = 0;
    await open({}, { https_proxy: proxy.url, NO_PROXY: 'localhost,127.0.0.1' }).client.getPresence(emulator.users[0]!.id);
    expect(proxy.targets).toEqual([]);
  });

  it('opens at most MAX_GRAPH_CONNECTIONS sockets to Graph however many requests are in flight (issue 16, memory)', async () => {
    const stack = open({ proxy: proxy.url });
    await stack.tokens.getToken();
    proxy.targets.length = 0; // from here, one CONNECT tunnel per new socket
    const id = emulator.users[0]!.id;
    await Promise.all(Array.from({ length: MAX_GRAPH_CONNECTIONS * 3 }, () => stack.client.getPresence(id)));
    expect(proxy.targets.length).toBeGreaterThan(1); // the requests did go out in parallel
    expect(proxy.targets.length).toBeLessThanOrEqual(MAX_GRAPH_CONNECTIONS);
  });

  it('an unreachable proxy is a retryable NETWORK error', async () => {
    const stack = open({ proxy: 'http://127.0.0.1:9' });
    const error = await stack.tokens.getToken().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NETWORK', retryable: true });
  });

  it('redacts proxy credentials in what it logs', () => {
    expect(redactProxy('http://user:pa55word@proxy.example:3128')).toBe('http://proxy.example:3128');
  });

  it('a hanging Graph times out after graph.timeoutSeconds as a retryable NETWORK error', async () => {
    const stack = open({ graph: { timeoutSeconds: 0.5 } });
    await stack.tokens.getToken();
    emulator.injectFault({ kind: 'hang', count: 1, path: '/users/' });
    const error = await stack.client.getPresence(emulator.users[0]!.id).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NETWORK', retryable: true });
    expect((error as Error).message).toMatch(/UND_ERR_HEADERS_TIMEOUT|timeout/i);
  });

  it('a dropped connection is a retryable NETWORK error', async () => {
    const stack = open({});
    await stack.tokens.getToken();
    emulator.injectFault({ kind: 'drop', count: 1, path: '/users/' });
    const error = await stack.client.setPresence(emulator.users[0]!.id, { availability: 'Busy', activity: 'InACall' }, 'PT1H').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NETWORK', retryable: true });
  });

  it('no request leaves loopback', async () => {
    const outgoing = watchOutgoing();
    try {
      const stack = open({ proxy: proxy.url });
      await stack.client.getPresences(emulator.users.map((u) => u.id));
      await stack.client.clearPresence(emulator.users[0]!.id);
    } finally {
      outgoing.stop();
    }
    expect([...outgoing.hosts]).toEqual(['127.0.0.1']);
  });
});

describe('a token Graph keeps refusing after a refresh', () => {
  it('is UNAUTHORIZED with a sign-in-again hint, after exactly one forced refresh', async () => {
    // Tokens that live 0 s on a clock that does not move: every token is expired on arrival.
    const emulator = await startEmulator({ clock: new ManualClock(Date.now()), tokenLifetimeSeconds: 0 });
    const storage = await tempDir();
    const stack = createGraphStack(configFor(emulator), { logger: capturingLogger(), clock: systemClock, storagePath: storage.path });
    try {
      const error = await stack.client.setPresence(emulator.users[0]!.id, { availability: 'Busy', activity: 'InACall' }, 'PT1H').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'UNAUTHORIZED', status: 401, retryable: false });
      expect((error as GraphError).hint).toContain('sign in again');
      expect(emulator.requestLog().filter((e) => e.kind === 'graph').map((e) => e.status)).toEqual([401, 401]);
    } finally {
      await stack.close();
      await emulator.close();
      await storage.remove();
    }
  });
});

describe('Graph error answers become coded errors', () => {
  const now = Date.UTC(2026, 0, 5, 9, 0, 0);
  const body = (code: string, message: string) => JSON.stringify({ error: { code, message, innerError: { 'request-id': 'rid-1', date: '2026-01-05T09:00:00' } } });
  it.each([
    [400, {}, body('BadRequest', "The value 'Foo' is not valid for availability."), { code: 'BAD_REQUEST', retryable: false, graphCode: 'BadRequest', requestId: 'rid-1' }, 'availability'],
    [400, {}, body('BadRequest', 'Something else.'), { code: 'BAD_REQUEST' }, 'Availability/Activity'],
    [403, {}, body('Forbidden', 'Insufficient privileges.'), { code: 'FORBIDDEN', retryable: false }, 'Presence.ReadWrite.All'],
    [404, {}, body('NotFound', 'No user.'), { code: 'NOT_FOUND' }, 'users[].id'],
    [429, { 'retry-after': '2' }, body('TooManyRequests', 'Slow down.'), { code: 'THROTTLED', retryable: true, retryAfterMs: 2000 }, 'throttling'],
    [429, { 'retry-after': '2.128' }, body('TooManyRequests', 'Slow down.'), { code: 'THROTTLED', retryable: true, retryAfterMs: 2128 }, 'throttling'],
    [401, {}, body('InvalidAuthenticationToken', 'Access token validation failure.'), { code: 'UNAUTHORIZED', retryable: false }, 'auth.tenantId'],
    [401, {}, body('Unauthorized', 'Cannot set the presence of another user.'), { code: 'OTHER_USER', retryable: false }, 'can set only its own presence'],
    [503, { 'retry-after': 'Mon, 05 Jan 2026 09:00:30 GMT' }, body('ServiceUnavailable', 'Busy.'), { code: 'UNAVAILABLE', retryable: true, retryAfterMs: 30_000 }, 'unavailable'],
    [504, { 'request-id': 'rid-h' }, '<html>Gateway Timeout</html>', { code: 'UNAVAILABLE', retryable: true, requestId: 'rid-h', graphCode: undefined }, 'unavailable'],
    [500, {}, '', { code: 'UNAVAILABLE', retryable: true, retryAfterMs: undefined }, 'unavailable'],
    [409, {}, body('Conflict', 'x'), { code: 'UNEXPECTED', retryable: false }, 'HTTP 409'],
  ] as const)('HTTP %i', (status, headers, text, expected, hintPart) => {
    const error = graphErrorFrom({ status, headers, text }, { operation: 'setPresence', mode: 'application', now });
    expect(error).toBeInstanceOf(GraphError);
    expect(error).toMatchObject({ status, ...expected });
    expect(error.hint).toContain(hintPart);
  });

  it('names the delegated permission in delegated mode', () => {
    const error = graphErrorFrom({ status: 403, headers: {}, text: body('Forbidden', 'x') }, { operation: 'setPresence', mode: 'delegated', now });
    expect(error.hint).toContain('delegated permission Presence.ReadWrite');
  });
});
