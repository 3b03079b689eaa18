import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { createGraphStack, GraphError, type GraphStack } from '../../src/graph/index.js';
import { ManualClock, systemClock } from '../../src/shared/clock.js';
import { withRetry } from '../../src/graph/withRetry.js';
import { MAX_PRESENCE_IDS } from '../../src/graph/graphPresenceClient.js';
import { configFor, tempDir, until } from './helpers.js';
import { capturingLogger } from '../helpers/logger.js';

describe('Graph presence client, application mode (client secret), against the emulator', () => {
  let emulator: Emulator;
  let stack: GraphStack;
  let storage: { path: string; remove(): Promise<void> };

  beforeAll(async () => {
    emulator = await startEmulator();
    storage = await tempDir();
    stack = createGraphStack(configFor(emulator), { logger: capturingLogger(), clock: systemClock, storagePath: storage.path });
  });
  afterAll(async () => {
    await stack.close();
    await emulator.close();
    await storage.remove();
  });

  it('sets a session with the client id as sessionId and reads it back', async () => {
    const user = emulator.users[0]!;
    emulator.clearRequestLog();
    await stack.client.setPresence(user.id, { availability: 'Busy', activity: 'InACall' }, 'PT1H');

    expect(stack.client.sessionId).toBe(emulator.apps[0]!.clientId);
    const posted = emulator.requestLog().filter((e) => e.route.endsWith('/setPresence'));
    expect(posted).toHaveLength(1);
    expect(posted[0]!.body).toEqual({ sessionId: emulator.apps[0]!.clientId, availability: 'Busy', activity: 'InACall', expirationDuration: 'PT1H' });
    expect(emulator.sessionsOf(user.id).map((s) => s.clientId)).toContain(emulator.apps[0]!.clientId);

    const read = await stack.client.getPresence(user.id);
    expect(read).toMatchObject({ id: user.id, availability: 'Busy', activity: 'InACall' });
  });

  it('reads many users with getPresencesByUserId', async () => {
    const [a, b, c] = emulator.users;
    await stack.client.setPresence(b!.id, { availability: 'DoNotDisturb', activity: 'Presenting' }, 'PT30M');
    const all = await stack.client.getPresences([a!.id, b!.id, c!.id]);
    expect(all.map((p) => p.id).sort()).toEqual([a!.id, b!.id, c!.id].sort());
    expect(all.find((p) => p.id === b!.id)).toMatchObject({ availability: 'DoNotDisturb', activity: 'Presenting' });
  });

  it('chunks getPresencesByUserId at 650 ids', async () => {
    const [a, b, c] = emulator.users;
    await stack.client.setPresence(a!.id, { availability: 'Busy', activity: 'InACall' }, 'PT1H');
    // Real users first in the first chunk, first in the second and last of all; the rest unknown ids.
    const ids = Array.from({ length: MAX_PRESENCE_IDS + 5 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    ids[0] = a!.id;
    ids[MAX_PRESENCE_IDS] = b!.id;
    ids[ids.length - 1] = c!.id;
    emulator.clearRequestLog();

    const presences = await stack.client.getPresences(ids);

    const calls = emulator.requestLog().filter((e) => e.route === '/communications/getPresencesByUserId');
    const sent = calls.map((call) => (call.body as { ids: string[] }).ids);
    expect(sent.map((chunk) => chunk.length)).toEqual([MAX_PRESENCE_IDS, 5]);
    expect(sent.flat()).toEqual(ids.map((id) => id.toLowerCase())); // every id once, in order
    // The merged result: one presence per id asked, in order, each user's own.
    expect(presences.map((p) => p.id)).toEqual(ids);
    expect(presences[0]).toMatchObject({ availability: 'Busy', activity: 'InACall' });
    for (const [index, user] of [[0, a!], [MAX_PRESENCE_IDS, b!], [ids.length - 1, c!]] as const) {
      const shown = emulator.presenceOf(user.id);
      expect(presences[index], user.id).toMatchObject({ id: user.id, availability: shown.availability, activity: shown.activity });
    }
    const unknown = presences.filter((p) => !(p.id === a!.id || p.id === b!.id || p.id === c!.id));
    expect(unknown).toHaveLength(ids.length - 3);
    for (const p of unknown) expect(p, p.id).toMatchObject({ availability: 'PresenceUnknown', activity: 'PresenceUnknown' });
  });

  it('sets and clears a preferred presence', async () => {
    const user = emulator.users[2]!;
    emulator.addSession(user.id, { clientId: 'teams-desktop', availability: 'Available', activity: 'Available' }); // preferred shows only with a session
    await stack.client.setUserPreferredPresence(user.id, { availability: 'DoNotDisturb', activity: 'DoNotDisturb' }, 'PT2H');
    expect(emulator.preferredOf(user.id)).toMatchObject({ availability: 'DoNotDisturb', activity: 'DoNotDisturb' });
    expect(emulator.presenceOf(user.id)).toMatchObject({ availability: 'DoNotDisturb' });
    await stack.client.clearUserPreferredPresence(user.id);
    expect(emulator.preferredOf(user.id)).toBeNull();
  });

  it('clears a session, and a second clear counts as already cleared (Graph 404)', async () => {
    const user = emulator.users[0]!;
    await stack.client.setPresence(user.id, { availability: 'Away', activity: 'Away' }, 'PT5M');
    expect(await stack.client.clearPresence(user.id)).toBe('cleared');
    expect(emulator.sessionsOf(user.id).map((s) => s.clientId)).not.toContain(emulator.apps[0]!.clientId);
    expect(await stack.client.clearPresence(user.id)).toBe('already-cleared');
  });

  it('many users at once share one token request', async () => {
    const fresh = createGraphStack(configFor(emulator), { logger: capturingLogger(), clock: systemClock, storagePath: storage.path });
    try {
      emulator.clearRequestLog();
      await Promise.all(emulator.users.flatMap((u) => [fresh.client.getPresence(u.id), fresh.client.getPresence(u.id)]));
      expect(emulator.requestLog().filter((e) => e.kind === 'identity')).toHaveLength(1);
      expect(emulator.requestLog().filter((e) => e.kind === 'graph' && e.status === 200)).toHaveLength(6);
    } finally {
      await fresh.close();
    }
  });

  it('path-encodes a user principal name it looks up, and never sends one to a presence route', async () => {
    emulator.clearRequestLog();
    const weird = 'a/b?c#d';
    await expect(stack.client.getPresence(weird)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const paths = emulator.requestLog().map((e) => e.path);
    expect(paths).toEqual([`/v1.0/users/${encodeURIComponent(weird)}`]);
  });

  it('turns an unknown user into NOT_FOUND with a hint about users[].id, and keeps the request-id', async () => {
    const error = await stack.client.setPresence('00000000-0000-0000-0000-000000000000', { availability: 'Busy', activity: 'InACall' }, 'PT1H').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphError);
    expect(error).toMatchObject({ code: 'NOT_FOUND', status: 404, retryable: false });
    expect((error as GraphError).hint).toContain('users[].id');
    expect((error as GraphError).requestId).toMatch(/\S/);
    expect((error as GraphError).graphCode).toMatch(/\S/);
  });

  it('turns a 400 into BAD_REQUEST naming the field', async () => {
    const error = await stack.client.setPresence(emulator.users[0]!.id, { availability: 'Busy', activity: 'InACall' }, 'PT1M').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BAD_REQUEST', status: 400, retryable: false });
    expect((error as GraphError).hint).toContain('expirationDuration');
  });
});

describe('retries and token refresh on a moved clock', () => {
  let emulator: Emulator;
  let clock: ManualClock;
  let stack: GraphStack;
  let storage: { path: string; remove(): Promise<void> };
  const logger = capturingLogger();
  const bearer = new Set<string>();
  const onRequest = (message: unknown) => {
    for (const m of JSON.stringify((message as { request: { headers: unknown } }).request.headers).matchAll(/Bearer ([A-Za-z0-9._~+/=-]+)/g)) bearer.add(m[1]!);
  };

  beforeAll(async () => {
    subscribe('undici:request:create', onRequest);
    // The clock starts at wall time: MSAL stamps client assertions and caches tokens by wall time.
    clock = new ManualClock(Date.now());
    emulator = await startEmulator({ clock, tokenLifetimeSeconds: 3600 });
    storage = await tempDir();
    stack = createGraphStack(configFor(emulator), { logger, clock, storagePath: storage.path });
  });
  afterAll(async () => {
    unsubscribe('undici:request:create', onRequest);
    await stack.close();
    await emulator.close();
    await storage.remove();
  });

  it('retries a 429 with Retry-After 2 after 2 s of clock time', async () => {
    const user = emulator.users[0]!;
    await stack.tokens.getToken();
    emulator.clearRequestLog();
    emulator.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 2, count: 1, path: '/users/' });
    const retries: number[] = [];
    const done = withRetry(() => stack.client.setPresence(user.id, { availability: 'Busy', activity: 'InACall' }, 'PT1H'), {
      clock,
      maxAttempts: 3,
      random: () => 0,
      onRetry: (info) => retries.push(info.delayMs),
    });
    await until(() => clock.pending() > 0, 'the retry timer');
    const first = emulator.requestLog().filter((e) => e.route.endsWith('/setPresence'));
    expect(first.map((e) => e.status)).toEqual([429]);
    expect(retries).toEqual([2000]);
    expect(clock.nextDue()! - clock.now()).toBe(2000);

    await clock.advance(1999);
    expect(emulator.requestLog().filter((e) => e.route.endsWith('/setPresence'))).toHaveLength(1);
    await clock.advance(1);
    await done;
    const calls = emulator.requestLog().filter((e) => e.route.endsWith('/setPresence'));
    expect(calls.map((e) => e.status)).toEqual([429, 200]);
    expect(calls[1]!.at - calls[0]!.at).toBe(2000);
  });

  it('gives up after maxAttempts on a lasting 503', async () => {
    emulator.injectFault({ kind: 'status', status: 503, count: 5, path: '/users/' });
    const done = withRetry(() => stack.client.getPresence(emulator.users[0]!.id), { clock, maxAttempts: 2, random: () => 0.5 }).catch((e: unknown) => e);
    await until(() => clock.pending() > 0, 'the retry timer');
    await clock.advance(clock.nextDue()! - clock.now());
    const error = await done;
    expect(error).toMatchObject({ name: 'RetriesExhaustedError', attempts: 2, lastError: { code: 'UNAVAILABLE', status: 503 } });
    emulator.clearFaults();
  });

  it('refreshes an access token that expired mid-run without the caller noticing', async () => {
    const user = emulator.users[1]!;
    await stack.client.setPresence(user.id, { availability: 'Busy', activity: 'InACall' }, 'PT1H');
    const before = await stack.tokens.getToken();
    emulator.clearRequestLog();
    await clock.advance(3601_000);
    await stack.client.setPresence(user.id, { availability: 'DoNotDisturb', activity: 'Presenting' }, 'PT1H');
    const log = emulator.requestLog();
    const graph = log.filter((e) => e.kind === 'graph').map((e) => e.status);
    expect(graph).toEqual([401, 200]);
    expect(log.filter((e) => e.kind === 'identity' && e.status === 200)).toHaveLength(1);
    expect(await stack.tokens.getToken()).not.toBe(before);
    expect(emulator.presenceOf(user.id)).toMatchObject({ availability: 'DoNotDisturb' });
  });

  it('logged every request, and no token or secret, at debug level', () => {
    const all = logger.texts().join('\n');
    expect(all).toContain('POST /users/');
    expect(all).toContain('-> 401');
    expect(bearer.size).toBeGreaterThanOrEqual(2);
    for (const secret of [...bearer, emulator.apps[0]!.clientSecret]) expect(all.includes(secret)).toBe(false);
    expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
  });
});
