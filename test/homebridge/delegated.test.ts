import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { accessoriesByUser, HttpClient, PIN, read } from './hap.js';
import { freePort, HomebridgeProcess, homebridgeConfig, keepHomebridgeOutputOnFailure, tempDir } from './homebridgeRunner.js';
import { pluginAndBrowser, UiHarness } from './uiHarness.js';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';

const cleanups: (() => Promise<unknown>)[] = [];
const fixture = pluginAndBrowser(180_000);

afterEach(async (context) => {
  await keepHomebridgeOutputOnFailure(context);
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe('delegated mode: the Home app shows a fault until the user signs in from the custom UI', () => {
  it('faults without a sign-in; signing in from the UI while it runs lets the held switch through; a restart reuses the sign-in', async () => {
    const emulator = await startEmulator({ deviceCodeIntervalSeconds: 1 });
    cleanups.push(() => emulator.close());
    const storagePath = await tempDir('pb-hb-delegated-');
    cleanups.push(() => rm(storagePath, { recursive: true, force: true }));
    const port = await freePort();
    const alex = emulator.users[0]!;
    const app = emulator.apps[0]!;
    const block = {
      platform: 'PresenceBridge',
      name: 'Presence Bridge',
      ...emulatorConfigBlock(emulator, { mode: 'delegated', graph: { pollSeconds: 1 } }),
      users: [{ key: 'alex', id: alex.id, name: 'Alex' }],
    };
    const config = homebridgeConfig(port, PIN, [block]);

    // 1. Not signed in yet: Graph cannot be reached as the user, the sensor shows a fault.
    let homebridge = new HomebridgeProcess({ storagePath, pluginPath: fixture.plugin.pluginPath, config });
    cleanups.push(() => (homebridge.running ? homebridge.stop() : Promise.resolve()));
    await homebridge.start();
    await homebridge.waitFor(/is running on port/, 60_000);
    const client = new HttpClient('pb-delegated', '127.0.0.1', port);
    cleanups.push(() => client.close());
    await client.pairSetup(PIN);
    const pairing = client.getLongTermData() ?? undefined;
    const ids = accessoriesByUser((await client.getAccessories()).accessories)
      .get('alex')!;
    // Read-back is refused before anything is switched: the fault shows already.
    await expect.poll(() => read(client, ids.fault), { timeout: 30_000, interval: 250 }).toBe(1);
    await client.setCharacteristics({ [ids.switches.get('Alex Busy')!]: true });
    await expect.poll(() => homebridge.output(), { timeout: 30_000, interval: 250 }).toMatch(/alex: setPresence .*refused \(SIGN_IN_REQUIRED\)/);
    expect(await read(client, ids.fault)).toBe(1);
    expect(emulator.requestLog().some((e) => e.route.endsWith('/presence/setPresence'))).toBe(false);

    // 2. Sign in from the custom UI (headless Chromium, the real UI server process) while the
    //    plugin runs: it notices the new sign-in, the held Busy request goes through, the fault clears.
    const harness = new UiHarness({ packageDir: fixture.plugin.packageDir, storagePath, pluginConfig: [block] });
    await harness.start();
    cleanups.push(() => harness.close());
    const page = await fixture.browser.newPage();
    cleanups.push(() => page.close());
    await page.goto(harness.url);
    const frame = page.frameLocator('#plugin');
    await frame.locator('#signin-button').click();
    const code = frame.locator('#signin-user-code');
    await code.waitFor({ state: 'visible', timeout: 20_000 });
    emulator.approveDeviceCode(((await code.textContent()) ?? '').trim(), alex.id);
    await frame.locator('#signin-ok').waitFor({ state: 'visible', timeout: 30_000 });
    await expect.poll(() => emulator.presenceOf(alex.id).availability, { timeout: 30_000, interval: 250 }).toBe('Busy');
    const set = emulator.requestLog().find((e) => e.route === `/users/${alex.id}/presence/setPresence`);
    expect(set?.appId).toBe(app.clientId);
    await expect.poll(() => read(client, ids.fault), { timeout: 20_000, interval: 250 }).toBe(0);
    await expect.poll(() => read(client, ids.occupancy), { timeout: 20_000, interval: 250 }).toBe(1);
    expect(homebridge.output()).toMatch(/new sign-in found; trying again/);

    // 3. The UI's status view shows what the running plugin wrote.
    await frame.locator('#status-refresh').click();
    const row = frame.locator('tr[data-user="alex"]');
    // Health and presence read together: the row held Busy (homekit) while unhealthy before.
    const rowText = async () => ((await row.count()) > 0 ? [await row.locator('td').nth(1).textContent(), await row.locator('td').nth(2).textContent()] : []);
    await expect.poll(rowText, { timeout: 20_000 }).toEqual(['ok', 'Busy/InACall (homekit)']);

    // 4. Restarted, the plugin uses the cached sign-in: no second device code.
    await client.close();
    await homebridge.stop();
    emulator.clearRequestLog();
    homebridge = new HomebridgeProcess({ storagePath, pluginPath: fixture.plugin.pluginPath, config });
    await homebridge.start();
    await homebridge.waitFor(/is running on port/, 60_000);
    const again = new HttpClient('pb-delegated', '127.0.0.1', port, pairing);
    cleanups.push(() => again.close());
    await again.setCharacteristics({ [ids.switches.get('Alex Do Not Disturb')!]: true });
    await expect.poll(() => emulator.presenceOf(alex.id).availability, { timeout: 30_000, interval: 250 }).toBe('DoNotDisturb');
    expect(await read(again, ids.fault)).toBe(0);
    const identity = emulator.requestLog().filter((e) => e.kind === 'identity');
    expect(identity.some((e) => e.route.endsWith('/devicecode') || JSON.stringify(e.body ?? '').includes('device_code'))).toBe(false);
  }, 240_000);
});
