import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBridge, type CoreBridge } from '../../src/bridge.js';
import type { Emulator } from '../../src/emulator/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import type { StateEvent, StatusSnapshot } from '../../src/statusPage/index.js';
import { emulatorConfig, storageDir } from '../helpers/bridgeOnEmulator.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';
import type { Cleanup } from '../helpers/cleanups.js';
import { capturingLogger } from '../helpers/logger.js';
import { freePort } from '../helpers/net.js';
import { waitFor } from '../helpers/waitFor.js';
import { startEmulator } from '../../src/emulator/index.js';

/*
 * The status page with 3,000 users (issue 19): the bridge on the emulator through createBridge
 * with an `http` section, as the daemon and the plugin run it. The snapshot and the live stream
 * stay one page of users plus counts, the worst users lead, and search finds one user among
 * thousands, over HTTP and in a real Chromium.
 */

const USERS = 3000;
const key = (i: number): string => `user-${String(i).padStart(4, '0')}`;
/** Their ids are unknown to the emulator's directory: Graph answers 404 and they turn unhealthy. */
const GHOSTS = [1234, 2999];

const cleanups: Cleanup[] = [];
let emulator: Emulator;
let bridge: CoreBridge;
let base: string;
const clock = new ManualClock();

beforeAll(async () => {
  emulator = await startEmulator({ clock, port: 0, host: '127.0.0.1' });
  cleanups.push(() => emulator.close());
  const directory = emulator.users as { id: string; userPrincipalName: string; displayName: string }[];
  for (let i = directory.length; i < USERS; i++) directory.push({ id: randomUUID(), userPrincipalName: `${key(i)}@contoso.example`, displayName: `Person ${i}` });
  const users = Array.from({ length: USERS }, (_, i) => ({ key: key(i), id: GHOSTS.includes(i) ? randomUUID() : directory[i]!.id, name: `Person ${i}` }));
  const port = await freePort();
  const config = emulatorConfig(emulator, { graph: { pollSeconds: 0, maxRequestsPer30s: 100_000 }, users, http: { port } });
  bridge = createBridge(config, { logger: capturingLogger(), clock, storagePath: await storageDir('pb-many-', cleanups) });
  await bridge.start();
  cleanups.push(() => bridge.stop());
  base = `http://127.0.0.1:${port}/`;
  const busy = { kind: 'set', pair: { availability: 'Busy', activity: 'InACall' }, at: clock.now() } as const;
  for (const i of [...GHOSTS, 7]) bridge.setIntent(key(i), 'homekit', busy);
  await waitFor(() => GHOSTS.every((i) => bridge.state(key(i))?.health === 'unhealthy') && bridge.state(key(7))?.health === 'ok', {
    what: 'the ghosts refused, user 7 Busy',
    timeoutMs: 30_000,
    onPoll: () => clock.advance(1000),
  });
}, 120_000);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function state(query = ''): Promise<StatusSnapshot> {
  const res = await fetch(`${base}api/state${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as StatusSnapshot;
}

/** The first `count` server-sent events, and the bytes of each frame. */
function events(count: number, onFirst: () => void): Promise<{ event: string; data: unknown; bytes: number }[]> {
  return new Promise((resolve, reject) => {
    const got: { event: string; data: unknown; bytes: number }[] = [];
    let buffer = '';
    const req = request(`${base}events`, (res) => {
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.+)$/m.exec(frame)?.[1];
          const data = /^data: (.+)$/m.exec(frame)?.[1];
          if (!event || !data) continue;
          got.push({ event, data: JSON.parse(data) as unknown, bytes: Buffer.byteLength(frame) });
          if (got.length === 1) onFirst();
          if (got.length >= count) {
            req.destroy();
            resolve(got);
          }
        }
      });
    });
    req.on('error', (error) => {
      if (got.length < count) reject(error);
    });
    req.end();
  });
}

describe(`status page with ${USERS.toLocaleString('en-US')} users`, () => {
  it('answers one page, worst first, with counts over everyone', async () => {
    const snapshot = await state();
    expect(snapshot.users).toHaveLength(100);
    expect(snapshot.users.slice(0, 2).map((u) => [u.userKey, u.health])).toEqual(GHOSTS.map((i) => [key(i), 'unhealthy']));
    expect(snapshot.users[2]?.userKey).toBe(key(0)); // then the rest in config order
    expect(snapshot.counts.total).toBe(USERS);
    expect(snapshot.counts.health).toEqual({ ok: USERS - GHOSTS.length, unhealthy: GHOSTS.length });
    // read-back is off: user 7 counts as what Graph confirmed for our session
    expect(snapshot.counts.presence).toEqual({ Busy: 1, unknown: USERS - 1 });
    expect(snapshot.query).toEqual({ q: '', health: null, page: 1, pageSize: 100, matched: USERS });

    const last = await state('?page=30');
    expect(last.users.map((u) => u.userKey).at(-1)).toBe(key(USERS - 1 - (GHOSTS.includes(USERS - 1) ? 1 : 0)));
    expect((await state('?pageSize=100000')).users).toHaveLength(500);
    expect((await state('?health=unhealthy')).users.map((u) => u.userKey)).toEqual(GHOSTS.map(key));
  });

  it('finds one user among thousands by key, name or id', async () => {
    const byKey = await state(`?q=${key(2345)}`);
    expect(byKey.users.map((u) => u.userKey)).toEqual([key(2345)]);
    expect(byKey.query.matched).toBe(1);
    const byName = await state('?q=PERSON%202346');
    expect(byName.users.map((u) => u.userKey)).toEqual([key(2346)]);
    const id = bridge.state(key(2347))!.userId;
    expect((await state(`?q=${id}`)).users.map((u) => u.userKey)).toEqual([key(2347)]);
    expect((await state('?q=nobody-by-this-name')).users).toEqual([]);
  });

  it('streams a bounded snapshot, then one user per state event with the new counts', async () => {
    const all = JSON.stringify(bridge.states());
    const received = await events(2, () => bridge.setIntent(key(2500), 'homekit', { kind: 'set', pair: { availability: 'Away', activity: 'Away' }, at: clock.now() }));
    const [snapshot, change] = received;
    expect(snapshot?.event).toBe('snapshot');
    expect((snapshot?.data as StatusSnapshot).users).toHaveLength(100);
    // a page and counts, not every user: a small share of what all states weigh
    expect(snapshot!.bytes).toBeLessThan(Buffer.byteLength(all) / 10);
    expect(change?.event).toBe('state');
    const event = change?.data as StateEvent;
    expect(event.state.userKey).toBe(key(2500));
    expect(event.counts.total).toBe(USERS);
    expect(change!.bytes).toBeLessThan(2048);
  });

  describe('in headless Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
    });

    it('shows the counts and the unhealthy first, and the search box finds one user', async () => {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(base);
      await page.locator('#conn.live').waitFor({ timeout: 15_000 });
      await page.locator(`[data-user="${key(1234)}"]`).waitFor();
      expect(await page.locator('[data-user]').count()).toBe(100);
      expect(await page.locator('[data-user]').first().getAttribute('data-user')).toBe(key(1234));
      expect(await page.locator('#summary').textContent()).toContain(`${USERS} users`);
      expect(await page.locator('#summary [data-health="unhealthy"]').textContent()).toBe(`unhealthy ${GHOSTS.length}`);
      expect(await page.locator('#range').textContent()).toBe(`1–100 of ${USERS}`);

      await page.locator('#search').fill('Person 2718');
      await expect.poll(() => page.locator('[data-user]').count(), { timeout: 10_000 }).toBe(1);
      expect(await page.locator(`[data-user="${key(2718)}"] h3`).textContent()).toBe('Person 2718');

      // A change to the user shown updates its card in place.
      bridge.setIntent(key(2718), 'homekit', { kind: 'set', pair: { availability: 'DoNotDisturb', activity: 'Presenting' }, at: clock.now() });
      await page.locator(`[data-user="${key(2718)}"] [data-field="desired"]`, { hasText: 'DoNotDisturb/Presenting' }).waitFor({ timeout: 10_000 });

      await page.locator('#search').fill('');
      await expect.poll(() => page.locator('[data-user]').count(), { timeout: 10_000 }).toBe(100);
      await page.locator('#summary [data-health="unhealthy"]').click();
      await expect.poll(() => page.locator('[data-user]').count(), { timeout: 10_000 }).toBe(GHOSTS.length);
      expect(errors).toEqual([]);
      await page.close();
    }, 60_000);
  });
});
