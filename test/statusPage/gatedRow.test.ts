import { chromium, type Browser } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { FEATURES } from '../../src/features.js';
import type { StatusSnapshot } from '../../src/statusPage/index.js';
import { OUTSIDE_NOTE } from '../../src/workingHours/index.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';
import { Harness, MINUTE } from '../helpers/harness.js';
import { freePort } from '../helpers/net.js';

/*
 * The status page's "Held back" row (issue 18): the registry's working-hours gate, the one HTTP
 * server and the status page on a bridge on the emulator. A press after hours shows why nothing
 * was asserted, in the JSON snapshot and on the page in a real Chromium; once the window opens the
 * row goes and the presence shows instead.
 */

const ALL_DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const hhmm = (ms: number): string => new Date(ms).toISOString().slice(11, 16);

let harness: Harness | undefined;
let browser: Browser | undefined;

afterEach(async () => {
  await browser?.close();
  browser = undefined;
  await harness?.close();
  harness = undefined;
});

async function snapshot(base: string): Promise<StatusSnapshot> {
  const res = await fetch(`${base}api/state`);
  expect(res.status).toBe(200);
  return (await res.json()) as StatusSnapshot;
}

describe('the status page while working hours hold a press back', () => {
  it('shows the held-back row with its reason, and drops it when the window opens', { timeout: 60_000 }, async () => {
    const probe = await Harness.create({ start: false });
    const now = probe.clock.now();
    await probe.close();
    // one daily window (UTC) opening 30 minutes from now, on a whole minute
    const opensAt = Math.ceil((now + 30 * MINUTE) / MINUTE) * MINUTE;
    const port = await freePort();
    const h = await Harness.create({
      start: false,
      features: FEATURES.filter((f) => ['workingHours', 'statusPage', 'http'].includes(f.name)),
      config: {
        http: { port, host: '127.0.0.1' },
        workingHours: { timeZone: 'UTC', windows: [{ days: ALL_DAYS, from: hhmm(opensAt), to: hhmm(opensAt + 8 * 60 * MINUTE) }] },
      },
    });
    harness = h;
    const shift = h.clock.now() - now;
    await h.bridge.start();
    await h.settle();
    const base = `http://127.0.0.1:${port}/`;

    await h.signal('desk', 'busy');
    expect(h.callNames()).toEqual([]);
    const held = (await snapshot(base)).users.find((u) => u.userKey === 'u0');
    expect(held?.gated).toMatchObject({ note: OUTSIDE_NOTE });

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    await page.goto(base);
    const row = page.locator('[data-user="u0"] [data-field="gated"]');
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toBe(OUTSIDE_NOTE);
    expect(await page.locator('[data-user="u0"] [data-field="desired"]').textContent()).toBe('clear');

    await h.advance(opensAt + shift - h.clock.now());
    expect(h.callNames()).toEqual(['set Busy/InACall']);
    const open = (await snapshot(base)).users.find((u) => u.userKey === 'u0');
    expect(open?.gated ?? null).toBeNull();
    await page.locator('[data-user="u0"] [data-field="desired"]', { hasText: 'Busy/InACall' }).waitFor({ timeout: 15_000 });
    expect(await row.count()).toBe(0);
  });
});
