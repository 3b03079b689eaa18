import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { connectAsync } from 'mqtt';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type Demo } from '../../src/demo/index.js';
import { silentLogger } from '../../src/logger.js';
import { CHROMIUM_ARGS } from '../helpers/chromium.js';

/*
 * The demo's status page in a real headless Chromium: press a demo button, watch the user turn
 * Busy live (server-sent events), check hostile payloads show as text, leave screenshots in
 * test-output/ (gitignored) for a person to look at.
 */

const OUTPUT = resolve(import.meta.dirname, '../../test-output');
describe('status page in headless Chromium', () => {
  let demo: Demo;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await mkdir(OUTPUT, { recursive: true });
    demo = await startDemo({ logger: silentLogger });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('shows the demo users, goes live, and a demo button turns Megan Busy on the page', async () => {
    await page.goto(demo.statusUrl);
    await page.locator('#conn.live').waitFor({ timeout: 15_000 });
    await page.locator('[data-user="megan"]').waitFor();
    expect(await page.locator('[data-user]').count()).toBe(3); // alex, megan, and lee (with Teams running)
    expect(await page.locator('[data-user="megan"] h3').textContent()).toBe('Megan Bowen');
    expect(await page.locator('#scale').textContent()).toBe('time runs ×60');

    await page.locator('button[data-button]', { hasText: 'Headset off hook' }).click();
    await page.locator('[data-user="megan"] [data-field="actual"]', { hasText: 'Busy/InACall' }).waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-user="megan"] [data-field="badge"]').textContent()).toBe('Busy · InACall');
    expect(await page.locator('[data-user="megan"] [data-field="desired"]').textContent()).toBe('Busy/InACall from Headset');
    expect(await page.locator('[data-user="megan"] [data-field="confirmed"]').textContent()).toBe('Busy/InACall');
    expect(await page.locator('[data-user="megan"] [data-field="health"]').textContent()).toBe('ok');
    expect(await page.locator('#demo-msg').textContent()).toBe('published OFFHOOK to desk/headset/hook');
    // The expiry counts down on the page by itself (PT1H emulated = 60 s at x60).
    const expires = page.locator('[data-user="megan"] [data-field="expires"]');
    const first = await expires.textContent();
    expect(first).toMatch(/^in \d+ min \d\d s$/);
    await expect.poll(() => expires.textContent(), { timeout: 10_000, interval: 200 }).not.toBe(first);
    // The timeline has the signal and the Graph call.
    await page.locator('#timeline li', { hasText: 'signal Headset' }).first().waitFor();
    await page.locator('#timeline li', { hasText: 'Graph setPresence' }).first().waitFor();
    // The bridge agrees with the page.
    expect(demo.bridge.state('megan')?.confirmed).toEqual({ availability: 'Busy', activity: 'InACall' });
    await page.screenshot({ path: join(OUTPUT, 'status-page.png'), fullPage: true });
  }, 60_000);

  it('a payload full of markup shows as text and runs nothing', async () => {
    const hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b>bold</b>';
    // Published as a device would, to the headset's topic: the value maps to nothing and is shown.
    const client = await connectAsync(demo.broker.url, { protocolVersion: 4 });
    await client.publishAsync('desk/headset/hook', hostile);
    await client.endAsync();
    const row = page.locator('#timeline li', { hasText: '<script>window.__pwned' }).first();
    await row.waitFor({ timeout: 15_000 });
    expect(await row.locator('.detail').textContent()).toContain('<script>window.__pwned = 1</script><img src=x onerror=');
    expect(await page.locator('#timeline img, #timeline b, #timeline script').count()).toBe(0);
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(pageErrors).toEqual([]);
  }, 30_000);

  it('reads on a phone: no horizontal scrolling at 390 px', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await phone.goto(demo.statusUrl);
    await phone.locator('#conn.live').waitFor({ timeout: 15_000 });
    await phone.locator('[data-user="megan"] [data-field="actual"]', { hasText: 'Busy/InACall' }).waitFor({ timeout: 15_000 });
    const overflow = await phone.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: join(OUTPUT, 'status-page-phone.png'), fullPage: true });
    await phone.close();
  }, 30_000);
});
