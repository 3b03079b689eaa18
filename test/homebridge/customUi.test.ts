import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import type { UserState } from '../../src/bridgeTypes.js';
import { silentLogger } from '../../src/logger.js';
import { StateFileWriter } from '../../src/homebridge/stateFile.js';
import { startEmulator } from '../../src/emulator/index.js';
import { TOKEN_CACHE_FILE } from '../../src/graph/index.js';
import { userState as blankUserState } from '../helpers/userState.js';
import { tempDir } from './homebridgeRunner.js';
import { pluginAndBrowser, UiHarness } from './uiHarness.js';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';

const applicationConfig = {
  platform: 'PresenceBridge',
  name: 'Presence Bridge',
  auth: { mode: 'application', tenantId: '11111111-2222-3333-4444-555555555555', clientId: '66666666-7777-8888-9999-000000000000', clientSecret: 'not-a-real-secret' },
  users: [{ key: 'alex', id: 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3' }],
};

function userState(overrides: Partial<UserState>): UserState {
  return blankUserState('alex', { userId: 'fa8bf3dc-eca7-46b7-bad1-db199b62afc3', displayName: 'Alex', updatedAt: Date.UTC(2026, 0, 5, 9, 0, 0), ...overrides });
}

const cleanups: (() => Promise<void>)[] = [];
const fixture = pluginAndBrowser(120_000);

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openUi(pluginConfig: unknown[], states?: UserState[], existingStorage?: string): Promise<{ page: Page; frame: Frame; harness: UiHarness; storagePath: string }> {
  const storagePath = existingStorage ?? (await tempDir('pb-ui-storage-'));
  if (!existingStorage) cleanups.push(() => rm(storagePath, { recursive: true, force: true }));
  if (states) {
    const writer = new StateFileWriter(storagePath, silentLogger);
    writer.write(() => ({ writtenAt: Date.UTC(2026, 0, 5, 9, 1, 0), users: states }));
    await writer.flush();
  }
  const harness = new UiHarness({ packageDir: fixture.plugin.packageDir, storagePath, pluginConfig });
  await harness.start();
  cleanups.push(() => harness.close());
  const page = await fixture.browser.newPage();
  cleanups.push(() => page.close());
  await page.goto(harness.url);
  const frame = page.frameLocator('#plugin');
  await frame.locator('#presence-bridge').waitFor({ state: 'visible', timeout: 20_000 });
  const handle = page.frames().find((f) => f.url().endsWith('/plugin/index.html'));
  if (!handle) throw new Error('plugin frame not found');
  return { page, frame: handle, harness, storagePath };
}

describe('custom UI (headless Chromium, real plugin-ui-utils server over IPC)', () => {
  it('shows each user\'s session from the state the plugin wrote', async () => {
    const { frame } = await openUi(
      [applicationConfig],
      [
        userState({
          desired: { availability: 'Busy', activity: 'InACall' },
          source: 'homekit',
          confirmed: { availability: 'Busy', activity: 'InACall' },
          actual: { availability: 'Busy', activity: 'InACall' },
          sessionExpiresAt: Date.UTC(2026, 0, 5, 10, 0, 0),
        }),
        userState({
          userKey: 'sam',
          displayName: 'Sam',
          health: 'unhealthy',
          lastError: { code: 'FORBIDDEN', message: 'Forbidden', hint: 'Grant Presence.ReadWrite.All and admin consent', at: 0 },
        }),
      ],
    );
    const alex = frame.locator('tr[data-user="alex"]');
    await alex.waitFor({ timeout: 20_000 });
    expect(await alex.locator('td').nth(1).textContent()).toBe('ok');
    expect(await alex.locator('td').nth(2).textContent()).toBe('Busy/InACall (homekit)');
    expect(await alex.locator('td').nth(3).textContent()).toBe('Busy/InACall');
    const sam = frame.locator('tr[data-user="sam"]');
    expect(await sam.locator('td').nth(1).textContent()).toBe('unhealthy');
    expect(await sam.locator('td.problem').textContent()).toBe('FORBIDDEN: Grant Presence.ReadWrite.All and admin consent');
    expect(await sam.locator('td').nth(2).textContent()).toBe('nothing (cleared)');
  });

  it('says so when the plugin has not written any state yet', async () => {
    const { frame } = await openUi([applicationConfig]);
    const note = frame.locator('#status-note');
    await expect.poll(() => note.textContent(), { timeout: 20_000 }).toContain('No status yet');
    expect(await frame.locator('#status-table').isHidden()).toBe(true);
  });

  it('hides the device code sign-in in application mode (the secret or certificate signs in)', async () => {
    const { frame } = await openUi([applicationConfig]);
    await frame.locator('#status-note').filter({ hasText: 'No status yet' }).waitFor({ timeout: 20_000 });
    expect(await frame.locator('#signin-card').isHidden()).toBe(true);
    expect(await frame.locator('#signin-button').isVisible()).toBe(false);
  });

  it('lists every config error instead of starting a sign-in', async () => {
    const broken = { ...applicationConfig, auth: { mode: 'delegated', clientId: '' }, users: [] };
    const { frame } = await openUi([broken]);
    await frame.locator('#signin-button').click();
    const error = frame.locator('#signin-error');
    await error.waitFor({ state: 'visible', timeout: 20_000 });
    const text = (await error.textContent()) ?? '';
    expect(text).toContain('The configuration has errors');
    expect(text).toMatch(/auth\.tenantId/);
    expect(text).toMatch(/users/);
  });

  it('signs in with a device code: shows the code and link, then the account, and caches the token privately', async () => {
    const emulator = await startEmulator({ deviceCodeIntervalSeconds: 1 });
    cleanups.push(() => emulator.close());
    const user = emulator.users[0]!;
    const delegated = {
      platform: 'PresenceBridge',
      name: 'Presence Bridge',
      ...emulatorConfigBlock(emulator, { mode: 'delegated' }),
      users: [{ key: 'alex', id: user.id }],
    };
    const { page, frame, storagePath } = await openUi([delegated]);
    const account = frame.locator('#signin-account');
    await account.filter({ hasText: 'Nobody is signed in yet.' }).waitFor({ timeout: 20_000 });
    expect(await frame.locator('#signout-button').isHidden()).toBe(true);
    await frame.locator('#signin-button').click();
    const code = frame.locator('#signin-user-code');
    await code.waitFor({ state: 'visible', timeout: 20_000 });
    const userCode = ((await code.textContent()) ?? '').trim();
    expect(userCode).toMatch(/^[A-Z0-9-]{6,}$/);
    const link = frame.locator('#signin-link');
    expect(await link.getAttribute('href')).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//);
    expect(await frame.locator('#signin-button').isDisabled()).toBe(true);
    // While the code waits: a spinner and the code's remaining time (the emulator's codes last 15 minutes).
    // (The stand-in shell has no Bootstrap, so the spinner has no size here; it is not hidden.)
    expect(await frame.locator('#signin-spinner').getAttribute('hidden')).toBeNull();
    expect(await frame.locator('#signin-remaining').textContent()).toMatch(/expires in 1[45]:\d\d\./);

    // The user enters the code at the sign-in page (the emulator's stand-in for it).
    emulator.approveDeviceCode(userCode, user.id);
    const ok = frame.locator('#signin-ok');
    await ok.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await ok.textContent()).toContain(user.userPrincipalName);
    expect(await frame.locator('#signin-code').isHidden()).toBe(true);
    expect(await page.evaluate(() => (globalThis as unknown as { harness: { toasts: { action: string }[] } }).harness.toasts.map((t) => t.action))).toContain('toast.success');
    expect(await frame.locator('#signin-spinner').getAttribute('hidden')).not.toBeNull();
    const cache = await stat(join(storagePath, TOKEN_CACHE_FILE));
    expect(cache.mode & 0o777).toBe(0o600);
    await account.filter({ hasText: `Signed in as` }).waitFor({ timeout: 20_000 });
    expect(await account.textContent()).toContain(user.userPrincipalName);

    // Opened again later, the panel says who is signed in; Sign out forgets the account.
    const again = await openUi([delegated], undefined, storagePath);
    const accountAgain = again.frame.locator('#signin-account');
    await accountAgain.filter({ hasText: user.userPrincipalName }).waitFor({ timeout: 20_000 });
    await again.frame.locator('#signout-button').click();
    await accountAgain.filter({ hasText: 'Nobody is signed in yet.' }).waitFor({ timeout: 20_000 });
    expect(await readFile(join(storagePath, TOKEN_CACHE_FILE), 'utf8')).not.toContain(user.userPrincipalName);
    expect((await stat(join(storagePath, TOKEN_CACHE_FILE))).mode & 0o777).toBe(0o600);
  });
});
