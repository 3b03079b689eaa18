import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';
import { startEmulator } from '../../src/emulator/index.js';
import { INTENT_STORE_FILE } from '../../src/session/intentStore.js';
import { accessoriesByUser, HttpClient, PIN, read } from './hap.js';
import { freePort, HomebridgeProcess, homebridgeConfig, homebridgeFixture, tempDir } from './homebridgeRunner.js';

/**
 * Issue 20 in the plugin: a HomeKit switch is set once and never reports again. After a real
 * Homebridge restart (a config edit, an update: `onShutdown: keep`) and after Homebridge is
 * SIGKILLed the switch shows, and the bridge asserts, what HomeKit had asked for, with no clear in
 * between; turning it off clears.
 */

const fixture = homebridgeFixture();
const cleanups = fixture.cleanups;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Homebridge restart with a HomeKit switch on', () => {
  it('after a restart and after a SIGKILL the switch shows on again and the bridge asserts it, with no clear in between; off then clears', async () => {
    const emulator = await startEmulator({});
    cleanups.push(() => emulator.close());
    const storagePath = await tempDir('pb-hb-restore-');
    cleanups.push(() => rm(storagePath, { recursive: true, force: true }));
    const port = await freePort();
    const alex = emulator.users[0]!;
    const block = {
      platform: 'PresenceBridge',
      name: 'Presence Bridge',
      ...emulatorConfigBlock(emulator, { graph: { pollSeconds: 0, expiration: 'PT1H' } }),
      users: [{ key: 'alex', id: alex.id, name: 'Alex' }],
      onShutdown: 'keep',
    };
    const start = async (): Promise<HomebridgeProcess> => {
      const homebridge = new HomebridgeProcess({ storagePath, pluginPath: fixture.pluginPath, config: homebridgeConfig(port, PIN, [block]) });
      cleanups.push(() => (homebridge.running ? homebridge.stop() : Promise.resolve()));
      await homebridge.start();
      await homebridge.waitFor(/is running on port/, 60_000);
      return homebridge;
    };
    const setCalls = (from: number): string[] =>
      emulator
        .requestLog()
        .slice(from)
        .flatMap((e) =>
          e.route === `/users/${alex.id}/presence/setPresence`
            ? [`set ${(e.body as { availability: string }).availability} ${e.status}`]
            : e.route === `/users/${alex.id}/presence/clearPresence`
              ? [`clear ${e.status}`]
              : [],
        );

    let homebridge = await start();
    const client = new HttpClient('pb-restore-controller', '127.0.0.1', port);
    await client.pairSetup(PIN);
    const pairing = client.getLongTermData();
    cleanups.push(() => client.close());
    const busy = accessoriesByUser((await client.getAccessories()).accessories).get('alex')!.switches.get('Alex Busy')!;
    await client.setCharacteristics({ [busy]: true });
    await expect.poll(() => emulator.presenceOf(alex.id).availability, { timeout: 20_000, interval: 200 }).toBe('Busy');
    await expect
      .poll(async () => (await readFile(join(storagePath, INTENT_STORE_FILE), 'utf8').catch(() => '')).includes('"homekit"'), { timeout: 10_000, interval: 100 })
      .toBe(true);
    await client.close();

    const mark = emulator.requestLog().length;
    await homebridge.stop();
    homebridge = await start();
    const again = new HttpClient('pb-restore-controller', '127.0.0.1', port, pairing ?? undefined);
    cleanups.push(() => again.close());
    const busyAgain = accessoriesByUser((await again.getAccessories()).accessories).get('alex')!.switches.get('Alex Busy')!;
    // HomeKit sees the switch on: what it had asked for, restored.
    await expect.poll(async () => Number(await read(again, busyAgain)), { timeout: 20_000, interval: 200 }).toBe(1);
    await expect.poll(() => setCalls(mark), { timeout: 20_000, interval: 200 }).toContain('set Busy 200');
    expect(homebridge.output()).toMatch(/alex: restored Busy\/InACall from input "homekit"/);
    // Past the start-up grace: still Busy, never cleared.
    await sleep(7_000);
    expect(emulator.presenceOf(alex.id).availability).toBe('Busy');
    expect(setCalls(mark).filter((c) => c.startsWith('clear'))).toEqual([]);

    // A crash (SIGKILL: no shutdown at all) keeps it the same way.
    await again.close();
    const killMark = emulator.requestLog().length;
    expect((await homebridge.kill()).signal).toBe('SIGKILL');
    await start();
    const third = new HttpClient('pb-restore-controller', '127.0.0.1', port, pairing ?? undefined);
    cleanups.push(() => third.close());
    const busyThird = accessoriesByUser((await third.getAccessories()).accessories).get('alex')!.switches.get('Alex Busy')!;
    await expect.poll(async () => Number(await read(third, busyThird)), { timeout: 20_000, interval: 200 }).toBe(1);
    await expect.poll(() => setCalls(killMark), { timeout: 20_000, interval: 200 }).toContain('set Busy 200');
    await sleep(7_000);
    expect(emulator.presenceOf(alex.id).availability).toBe('Busy');
    expect(setCalls(killMark).filter((c) => c.startsWith('clear'))).toEqual([]);

    // Off clears what HomeKit asked for before the restart.
    await third.setCharacteristics({ [busyThird]: false });
    await expect.poll(() => setCalls(killMark), { timeout: 20_000, interval: 200 }).toContain('clear 200');
    expect(emulator.sessionsOf(alex.id)).toEqual([]);
  }, 240_000);
});
