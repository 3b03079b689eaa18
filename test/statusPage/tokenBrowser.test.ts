import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { startStatusServer, type StatusServer } from '../helpers/statusServer.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium.js';
import { RecordingBridge } from '../helpers/recordingBridge.js';
import { userState } from '../helpers/userState.js';

/*
 * The status page bound beyond loopback, in a real headless Chromium: the printed address with
 * ?token= lets the browser in (cookie, then the bare address), the live stream works on the
 * cookie alone, and a browser without it gets nothing.
 */

describe('status page with a token, in headless Chromium', () => {
  let browser: Browser;
  let server: StatusServer;
  const bridge = new RecordingBridge({ states: [userState('alex', { displayName: 'Alex Wilber' })] });

  beforeAll(async () => {
    // Bound to every address; the browser talks to 127.0.0.1 only.
    server = await startStatusServer(bridge, { port: 0, host: '0.0.0.0', logger: silentLogger });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('opens through the printed address, drops the token from the address bar, and goes live', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(server.signInUrl);
    expect(page.url()).toBe(server.url);
    await page.locator('#conn.live').waitFor({ timeout: 15_000 });
    await page.locator('[data-user="alex"]').waitFor();
    bridge.events.emit('state', userState('alex', { displayName: 'Alex Wilber', desired: { availability: 'Busy', activity: 'InACall' }, source: 'Desk button' }));
    await page.locator('[data-user="alex"] [data-field="desired"]', { hasText: 'Busy/InACall from Desk button' }).waitFor({ timeout: 10_000 });
    await context.close();
  }, 60_000);

  it('shows a stranger nothing but the 401', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const response = await page.goto(server.url);
    expect(response?.status()).toBe(401);
    expect(await page.content()).not.toContain('Alex');
    expect(await page.locator('[data-user]').count()).toBe(0);
    await context.close();
  });
});
