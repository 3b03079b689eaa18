import { readFile, rm, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBridge } from '../../src/bridge.js';
import { USER_ID_CACHE_FILE } from '../../src/graph/index.js';
import { INTENT_STORE_FILE } from '../../src/session/intentStore.js';
import { SESSION_LEDGER_FILE } from '../../src/session/sessionLedger.js';
import { UNAUTHORIZED_GRACE_MS } from '../../src/presence/retryDelay.js';
import { Harness, MINUTE } from '../helpers/harness.js';
import { waitFor } from '../helpers/waitFor.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const SECOND = 1000;
const presenceRoutes = (h: Harness) => h.emulator.requestLog().filter((e) => e.kind !== 'identity' && /\/presence(\/|$)/.test(e.route));

describe('a user given by user principal name', () => {
  it('is resolved once to the object id; every presence call, the read-back and a restart use the GUID', async () => {
    const probe = await Harness.create({ start: false });
    const upn = probe.emulator.users[0]!.userPrincipalName;
    await probe.close();
    harness = await Harness.create({ graph: { pollSeconds: 60 }, config: { users: [{ key: 'u0', id: upn.toUpperCase() }] } });
    const h = harness;
    const guid = h.emulator.users.find((u) => u.userPrincipalName === upn)!.id;
    await h.signal('desk', 'busy');
    await h.advance(2 * MINUTE);
    expect(h.emulator.presenceOf(guid)).toEqual({ availability: 'Busy', activity: 'InACall' });
    const lookups = h.emulator.requestLog().filter((e) => e.route.toLowerCase() === `/users/${encodeURIComponent(upn.toUpperCase())}`.toLowerCase());
    expect(lookups.map((e) => [e.method, e.status])).toEqual([['GET', 200]]);
    const routes = presenceRoutes(h);
    expect(routes.length).toBeGreaterThan(0);
    for (const e of routes) expect(e.route).toContain(guid);
    const reads = h.emulator.requestLog().filter((e) => e.route === '/communications/getPresencesByUserId');
    expect(reads.length).toBeGreaterThanOrEqual(2);
    for (const r of reads) expect(r.body).toEqual({ ids: [guid] });
    expect(h.bridge.state('u0')).toMatchObject({ health: 'ok', actual: { availability: 'Busy', activity: 'InACall' }, overridden: false, actualFrom: 'ours' });

    const file = join(h.storage, USER_ID_CACHE_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ users: { [upn.toLowerCase()]: { id: guid } } });
    // the session ledger lists the object id too (its listing lands within one write spacing)
    const ledger = (): unknown => JSON.parse(readFileSync(join(h.storage, SESSION_LEDGER_FILE), 'utf8'));
    await waitFor(() => (ledger() as { users: string[] }).users.includes(guid), { what: 'the ledger listing the object id', timeoutMs: 5_000 });
    expect(ledger()).toMatchObject({ users: [guid] });

    // a restart finds the mapping in the storage folder: no directory lookup
    await h.stop();
    h.emulator.clearRequestLog();
    const again = createBridge(h.config, { logger: h.logger, clock: h.clock, storagePath: h.storage, features: [], random: () => 0.5 });
    try {
      await again.start();
      again.signal({ input: 'desk', value: 'dnd', at: h.clock.now() });
      await h.clock.advance(10 * SECOND, async () => again.whenIdle());
      expect(h.emulator.presenceOf(guid)).toEqual({ availability: 'DoNotDisturb', activity: 'Presenting' });
      expect(h.logger.texts().filter((l) => l.includes('no longer configured'))).toEqual([]);
      expect(h.emulator.requestLog().filter((e) => e.route.startsWith('/users/') && !e.route.includes('/presence'))).toEqual([]);
      for (const e of presenceRoutes(h)) expect(e.route).toContain(guid);
    } finally {
      await again.stop();
    }
  });

  it("a session a crashed run left for a UPN user is found by its object id and cleared when nobody asks for it", async () => {
    const probe = await Harness.create({ start: false });
    const upn = probe.emulator.users[1]!.userPrincipalName;
    await probe.close();
    harness = await Harness.create({ config: { users: [{ key: 'u0', id: upn }], onShutdown: 'keep' } });
    const h = harness;
    const guid = h.emulator.users.find((u) => u.userPrincipalName === upn)!.id;
    await h.signal('desk', 'busy');
    expect(h.emulator.presenceOf(guid)).toEqual({ availability: 'Busy', activity: 'InACall' });
    await h.stop(); // keep: the session stays, as after a crash
    // and the input no longer holds it (else the restart restores and asserts it again)
    await rm(join(h.storage, INTENT_STORE_FILE), { force: true });
    const again = createBridge(h.config, { logger: h.logger, clock: h.clock, storagePath: h.storage, features: [], random: () => 0.5 });
    try {
      await again.start();
      await h.clock.advance(10 * SECOND, async () => again.whenIdle());
      // the take-over waits for the (cached) resolution, real file I/O, then the clear lands
      await expect.poll(() => h.emulator.presenceOf(guid), { timeout: 10_000, interval: 50 }).toEqual({ availability: 'Offline', activity: 'Offline' });
      expect(h.emulator.requestLog().filter((e) => e.route.endsWith('/clearPresence')).map((e) => [e.route, e.status])).toEqual([[`/users/${guid}/presence/clearPresence`, 200]]);
      expect(h.logger.texts().filter((l) => l.includes('no longer configured'))).toEqual([]);
    } finally {
      await again.stop();
    }
  });

  it('without User.ReadBasic.All: a fault naming the permission, and no presence call', async () => {
    const probe = await Harness.create({ start: false });
    const upn = probe.emulator.users[0]!.userPrincipalName;
    await probe.close();
    harness = await Harness.create({ emulator: { appPermissions: ['Presence.ReadWrite.All'] }, config: { users: [{ key: 'u0', id: upn }] } });
    const h = harness;
    await h.signal('desk', 'busy');
    await h.advance(MINUTE);
    const state = h.bridge.state('u0')!;
    expect(state).toMatchObject({ health: 'unhealthy', lastError: { code: 'FORBIDDEN' } });
    expect(state.lastError!.hint).toContain('User.ReadBasic.All');
    expect(state.lastError!.hint).toContain(upn);
    expect(presenceRoutes(h)).toEqual([]);
  });

  it('an unknown user principal name is named in the fault', async () => {
    harness = await Harness.create({ config: { users: [{ key: 'u0', id: 'nobody@contoso.example' }] } });
    const h = harness;
    await h.signal('desk', 'busy');
    await h.advance(MINUTE);
    const state = h.bridge.state('u0')!;
    expect(state).toMatchObject({ health: 'unhealthy', lastError: { code: 'NOT_FOUND' } });
    expect(state.lastError!.hint).toContain('no user nobody@contoso.example');
    expect(presenceRoutes(h)).toEqual([]);
  });
});

describe('Retry-After in decimal seconds', () => {
  it('Retry-After: 2.5 is waited in full on the moved clock', async () => {
    harness = await Harness.create();
    const h = harness;
    h.emulator.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 2.5, count: 1, path: '/users/' });
    await h.signal('desk', 'busy');
    await h.advance(MINUTE);
    const sets = h.emulator.requestLog().filter((e) => e.route.endsWith('/setPresence'));
    expect(sets.map((e) => e.status)).toEqual([429, 200]);
    const waited = sets[1]!.at - sets[0]!.at;
    expect(waited).toBeGreaterThanOrEqual(2500);
    expect(waited).toBe(3000); // 2.5 s plus half of the 1 s jitter (random = 0.5)
  });
});

describe('401 from Graph', () => {
  it('two transient 401s on a renewal: the Available user is renewed with no fade and no fault', async () => {
    harness = await Harness.create();
    const h = harness;
    await h.signal('desk', 'free');
    const firstRenewal = h.bridge.state('u0')!.nextRenewalAt!;
    await h.clock.advance(firstRenewal - h.clock.now() - SECOND, () => h.settle());
    h.emulator.injectFault({ kind: 'status', status: 401, count: 2, path: '/users/' });
    for (let i = 0; i < 40; i++) {
      await h.advance(15 * SECOND);
      expect(h.presenceOf(), `after ${(i + 1) * 15} s`).toBe('Available/Available');
      expect(h.bridge.state('u0')!.health).not.toBe('unhealthy');
    }
    const sets = h.emulator.requestLog().filter((e) => e.route.endsWith('/setPresence')).map((e) => e.status);
    expect(sets.slice(0, 4)).toEqual([200, 401, 401, 200]);
    expect(h.bridge.state('u0')).toMatchObject({ health: 'ok', lastError: null, confirmed: { availability: 'Available' } });
    expect(h.logger.texts().filter((l) => l.startsWith('error'))).toEqual([]);
  });

  it(`401s that persist past ${UNAUTHORIZED_GRACE_MS / MINUTE} minutes fault with the sign-in hint; before that the user shows retrying`, async () => {
    harness = await Harness.create();
    const h = harness;
    await h.signal('desk', 'busy');
    h.emulator.injectFault({ kind: 'status', status: 401, count: 1_000_000, path: '/users/' });
    await h.signal('desk', 'dnd');
    await h.advance(MINUTE);
    expect(h.bridge.state('u0')).toMatchObject({ health: 'retrying', lastError: { code: 'UNAUTHORIZED' } });
    await h.advance(UNAUTHORIZED_GRACE_MS);
    const state = h.bridge.state('u0')!;
    expect(state).toMatchObject({ health: 'unhealthy', lastError: { code: 'UNAUTHORIZED' } });
    expect(state.lastError!.hint).toContain('more than 5 minutes although sign-in works');
    expect(state.lastError!.hint).toContain('auth.tenantId');
    const calls = h.emulator.requestLog().filter((e) => e.route.endsWith('/setPresence')).length;
    await h.advance(10 * MINUTE);
    expect(h.emulator.requestLog().filter((e) => e.route.endsWith('/setPresence')).length).toBe(calls); // faulted: no more tries
  });
});

describe("the user's own Teams client", () => {
  it('a Teams session hides a bridge Available without a fault; a preferred presence is told apart', async () => {
    harness = await Harness.create({ graph: { pollSeconds: 60 } });
    const h = harness;
    h.emulator.addSession(h.userId('u0'), { clientId: 'teams-desktop', availability: 'Busy', activity: 'InAMeeting' });
    await h.signal('desk', 'free');
    await h.advance(2 * MINUTE);
    expect(h.presenceOf()).toBe('Busy/InAMeeting');
    expect(h.bridge.state('u0')).toMatchObject({ health: 'ok', lastError: null, confirmed: { availability: 'Available' }, actual: { availability: 'Busy', activity: 'InAMeeting' }, overridden: false, actualFrom: 'otherSession' });
    expect(h.logger.texts().filter((l) => l.includes('Teams shows Busy/InAMeeting from another session'))).toHaveLength(1);
    h.emulator.setPreferred(h.userId('u0'), { availability: 'BeRightBack', activity: 'BeRightBack' });
    await h.advance(MINUTE);
    expect(h.bridge.state('u0')).toMatchObject({ health: 'ok', overridden: true, actualFrom: 'preferred' });
    expect(h.logger.texts().some((l) => l.includes('a preferred presence'))).toBe(true);
    expect(h.logger.texts().filter((l) => l.startsWith('error') || l.startsWith('warn'))).toEqual([]);
  });
});

describe('read-back of 650 users', () => {
  it('a 400 on the 650-id request costs only the bad id', async () => {
    harness = await Harness.create({ userCount: 650, graph: { pollSeconds: 60 }, start: false });
    const h = harness;
    const bad = h.userId('u321');
    h.emulator.injectFault({ kind: 'rejectIds', ids: [bad], count: 1_000_000 });
    await h.bridge.start();
    await h.settle();
    const states = h.bridge.states();
    expect(states.filter((s) => s.actual === null).map((s) => s.userKey)).toEqual(['u321']);
    expect(states.filter((s) => s.actual !== null)).toHaveLength(649);
    expect(h.logger.texts().filter((l) => l.includes(bad) && l.startsWith('warn'))).toHaveLength(1);
    // later polls leave the refused id out: one request of 649 ids
    h.emulator.clearRequestLog();
    await h.advance(MINUTE);
    const reads = h.emulator.requestLog().filter((e) => e.route === '/communications/getPresencesByUserId');
    expect(reads.map((r) => [r.status, (r.body as { ids: string[] }).ids.length])).toEqual([[200, 649]]);
  });
});
