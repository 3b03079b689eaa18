import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { accessoriesByUser, HttpClient, PIN, read } from './hap.js';
import { freePort, HomebridgeProcess, homebridgeConfig, homebridgeFixture, tempDir } from './homebridgeRunner.js';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';
import { connectAsync } from 'mqtt';
import { startMosquitto } from '../helpers/mosquitto.js';

const fixture = homebridgeFixture();
const cleanups = fixture.cleanups;

function platformBlock(emulator: Emulator, users: { key: string; id: string; name?: string }[], extra: Record<string, unknown> = {}) {
  return {
    platform: 'PresenceBridge',
    name: 'Presence Bridge',
    ...emulatorConfigBlock(emulator, { graph: { pollSeconds: 1, expiration: 'PT1H' } }),
    users,
    ...extra,
  };
}

async function startHomebridge(storagePath: string, port: number, platforms: unknown[]): Promise<HomebridgeProcess> {
  const homebridge = new HomebridgeProcess({ storagePath, pluginPath: fixture.pluginPath, config: homebridgeConfig(port, PIN, platforms) });
  cleanups.push(() => (homebridge.running ? homebridge.stop() : Promise.resolve()));
  await homebridge.start();
  await homebridge.waitFor(/is running on port/, 60_000);
  return homebridge;
}

describe('Homebridge 2 with the plugin, a HomeKit client and the Graph emulator', () => {
  it('pairs, drives presence from a switch, shows presence on the sensor, restores accessories after a restart, removes a dropped user, keeps them on a broken config', async () => {
    const emulator = await startEmulator({});
    cleanups.push(() => emulator.close());
    const storagePath = await tempDir('pb-hb-storage-');
    cleanups.push(() => rm(storagePath, { recursive: true, force: true }));
    const port = await freePort();
    const [alex, sam] = emulator.users;
    const ghostId = '0b9c4c36-0000-4000-8000-00000000dead';
    const users = [
      { key: 'alex', id: alex!.id, name: 'Alex' },
      { key: 'sam', id: sam!.id, name: 'Sam' },
      { key: 'ghost', id: ghostId, name: 'Ghost' },
    ];
    const block = platformBlock(emulator, users);

    let homebridge = await startHomebridge(storagePath, port, [block]);
    const client = new HttpClient('pb-e2e-controller', '127.0.0.1', port);
    await client.pairSetup(PIN);
    const pairing = client.getLongTermData();
    cleanups.push(() => client.close());

    const first = (await client.getAccessories());
    const byUser = accessoriesByUser(first.accessories);
    expect([...byUser.keys()].sort()).toEqual(['alex', 'ghost', 'sam']);
    const alexIds = byUser.get('alex')!;
    expect([...alexIds.switches.keys()].sort()).toEqual(['Alex Busy', 'Alex Do Not Disturb']);

    // The Busy switch asserts Busy/InACall through a Graph presence session.
    await client.setCharacteristics({ [alexIds.switches.get('Alex Busy')!]: true });
    await expect
      .poll(
        () =>
          emulator
            .requestLog()
            .filter((e) => e.route === `/users/${alex!.id}/presence/setPresence` && e.status === 200)
            .map((e) => e.body as { availability: string; activity: string }),
        { timeout: 20_000, interval: 200 },
      )
      .toContainEqual(expect.objectContaining({ availability: 'Busy', activity: 'InACall' }));
    expect(emulator.presenceOf(alex!.id).availability).toBe('Busy');
    // Read-back sees Busy: the sensor turns occupied.
    await expect.poll(() => read(client, alexIds.occupancy), { timeout: 20_000, interval: 250 }).toBe(1);

    // Mutually exclusive: Do Not Disturb on turns Busy off and asserts DoNotDisturb/Presenting.
    await client.setCharacteristics({ [alexIds.switches.get('Alex Do Not Disturb')!]: true });
    await expect.poll(() => emulator.presenceOf(alex!.id).availability, { timeout: 20_000, interval: 200 }).toBe('DoNotDisturb');
    // HAP sends booleans as 0/1.
    expect(Number(await read(client, alexIds.switches.get('Alex Busy')!))).toBe(0);
    expect(Number(await read(client, alexIds.switches.get('Alex Do Not Disturb')!))).toBe(1);

    // Off clears our session at Graph; the sensor follows the read-back.
    await client.setCharacteristics({ [alexIds.switches.get('Alex Do Not Disturb')!]: false });
    await expect
      .poll(() => emulator.requestLog().some((e) => e.route === `/users/${alex!.id}/presence/clearPresence`), { timeout: 20_000, interval: 200 })
      .toBe(true);
    await expect.poll(() => read(client, alexIds.occupancy), { timeout: 20_000, interval: 250 }).toBe(0);

    // A presence changed at Graph by someone else (the user's preferred presence) shows on the sensor.
    const samIds = byUser.get('sam')!;
    expect(await read(client, samIds.occupancy)).toBe(0);
    // Subscribed as a home hub is: automations run on these notifications.
    const events: unknown[] = [];
    client.on('event', (event: { characteristics: { aid: number; iid: number; value: unknown }[] }) => {
      for (const c of event.characteristics) if (`${c.aid}.${c.iid}` === samIds.occupancy) events.push(c.value);
    });
    await client.subscribeCharacteristics([samIds.occupancy]);
    // a preferred presence shows only while a session exists: Sam's Teams client holds one
    emulator.addSession(sam!.id, { clientId: 'teams-desktop', availability: 'Available', activity: 'Available' });
    emulator.setPreferred(sam!.id, { availability: 'DoNotDisturb', activity: 'DoNotDisturb' });
    await expect.poll(() => events, { timeout: 20_000, interval: 100 }).toEqual([1]);
    expect(await read(client, samIds.occupancy)).toBe(1);
    emulator.setPreferred(sam!.id, null);
    await expect.poll(() => events, { timeout: 20_000, interval: 100 }).toEqual([1, 0]);
    await client.unsubscribeCharacteristics([samIds.occupancy]);

    // Graph refuses the unknown user: the sensor reports a fault.
    const ghostIds = byUser.get('ghost')!;
    expect(await read(client, ghostIds.fault)).toBe(0);
    await client.setCharacteristics({ [ghostIds.switches.get('Ghost Busy')!]: true });
    await expect.poll(() => read(client, ghostIds.fault), { timeout: 30_000, interval: 250 }).toBe(1);

    // The state the custom UI reads.
    const state = JSON.parse(await readFile(join(storagePath, 'presence-bridge', 'state.json'), 'utf8')) as { users: { userKey: string; health: string }[] };
    expect(state.users.map((u) => u.userKey).sort()).toEqual(['alex', 'ghost', 'sam']);

    // Shutdown honours onShutdown (clear, the default): the session asserted at stop is cleared.
    await client.setCharacteristics({ [alexIds.switches.get('Alex Busy')!]: true });
    await expect.poll(() => emulator.presenceOf(alex!.id).availability, { timeout: 20_000, interval: 200 }).toBe('Busy');
    const clearsBefore = emulator.requestLog().filter((e) => e.route === `/users/${alex!.id}/presence/clearPresence`).length;

    // Restart: the same accessories, by AID and serial, none added twice.
    await client.close();
    const exit = await homebridge.stop();
    expect(emulator.requestLog().filter((e) => e.route === `/users/${alex!.id}/presence/clearPresence`).length).toBe(clearsBefore + 1);
    expect(emulator.sessionsOf(alex!.id)).toEqual([]);
    expect(exit.signal === 'SIGTERM' || exit.code === 143 || exit.code === 0, `Homebridge exit ${JSON.stringify(exit)}`).toBe(true);
    homebridge = await startHomebridge(storagePath, port, [block]);
    expect(homebridge.output()).not.toMatch(/adding \d+ accessory/);
    const again = new HttpClient('pb-e2e-controller', '127.0.0.1', port, pairing ?? undefined);
    cleanups.push(() => again.close());
    const second = (await again.getAccessories());
    expect(second.accessories.length).toBe(first.accessories.length);
    const restored = accessoriesByUser(second.accessories);
    expect([...restored.entries()].map(([key, ids]) => [key, ids.aid]).sort()).toEqual([...byUser.entries()].map(([key, ids]) => [key, ids.aid]).sort());
    const cached = JSON.parse(await readFile(join(storagePath, 'accessories', 'cachedAccessories'), 'utf8')) as { UUID: string }[];
    expect(new Set(cached.map((a) => a.UUID)).size).toBe(3);
    expect(cached.length).toBe(3);
    await again.close();

    // A user removed from the config: that accessory goes, the others stay.
    await homebridge.stop();
    homebridge = await startHomebridge(storagePath, port, [platformBlock(emulator, users.slice(0, 2))]);
    const third = new HttpClient('pb-e2e-controller', '127.0.0.1', port, pairing ?? undefined);
    cleanups.push(() => third.close());
    const remaining = accessoriesByUser(((await third.getAccessories())).accessories);
    expect([...remaining.keys()].sort()).toEqual(['alex', 'sam']);
    expect(remaining.get('alex')!.aid).toBe(byUser.get('alex')!.aid);
    expect(homebridge.output()).toMatch(/removing 1 accessory\(ies\) of users no longer configured: Ghost/);
    await third.close();

    // A broken config: errors logged, the accessories kept (not removed), their sensors faulty.
    await homebridge.stop();
    homebridge = await startHomebridge(storagePath, port, [{ ...platformBlock(emulator, users.slice(0, 2)), graph: { pollSeconds: -1 } }]);
    expect(homebridge.output()).toMatch(/graph\.pollSeconds: /);
    const fourth = new HttpClient('pb-e2e-controller', '127.0.0.1', port, pairing ?? undefined);
    cleanups.push(() => fourth.close());
    const kept = accessoriesByUser((await fourth.getAccessories()).accessories);
    expect([...kept.keys()].sort()).toEqual(['alex', 'sam']);
    expect(await read(fourth, kept.get('alex')!.fault)).toBe(1);
    expect(homebridge.output()).not.toMatch(/removing \d+ accessory/);
  }, 240_000);

  it('a switch stays on while a higher input wins, status sensors follow the emulator\'s presence, the fault shows with the busy sensor off, a Home app rename survives a restart', async () => {
    const emulator = await startEmulator({});
    cleanups.push(() => emulator.close());
    const broker = await startMosquitto();
    cleanups.push(() => broker.close());
    const storagePath = await tempDir('pb-hb-kit-');
    cleanups.push(() => rm(storagePath, { recursive: true, force: true }));
    const port = await freePort();
    const [alex] = emulator.users;
    const ghostId = '0b9c4c36-0000-4000-8000-00000000beef';
    const block = (alexName: string) =>
      platformBlock(
        emulator,
        [
          { key: 'alex', id: alex!.id, name: alexName },
          { key: 'ghost', id: ghostId, name: 'Ghost' },
        ],
        {
          mqtt: { url: broker.url },
          inputs: [{ type: 'mqtt', name: 'Desk button', topic: 'desk/button', user: 'alex', map: { dnd: 'DoNotDisturb/Presenting', off: 'clear' } }],
          homekit: { sensor: false, statusSensors: ['Busy', 'InACall', 'DoNotDisturb', 'Presenting', 'Offline'] },
        },
      );

    let homebridge = await startHomebridge(storagePath, port, [block('Alex')]);
    const client = new HttpClient('pb-e2e-kit', '127.0.0.1', port);
    await client.pairSetup(PIN);
    const pairing = client.getLongTermData();
    cleanups.push(() => client.close());
    const ids = accessoriesByUser((await client.getAccessories()).accessories);
    const a = ids.get('alex')!;
    expect(a.occupancy).toBe(''); // homekit.sensor: false
    expect([...a.statusSensors.keys()]).toEqual(['Alex Teams Busy', 'Alex Teams In a Call', 'Alex Teams Do Not Disturb', 'Alex Teams Presenting', 'Alex Teams Offline']);
    const busySwitch = a.switches.get('Alex Busy')!;
    const dndSwitch = a.switches.get('Alex Do Not Disturb')!;
    const statuses = async () => {
      const on: string[] = [];
      for (const [name, id] of a.statusSensors) if ((await read(client, id)) === 1) on.push(name.replace('Alex Teams ', ''));
      return on;
    };

    // Renamed in the Home app: it writes ConfiguredName.
    await client.setCharacteristics({ [a.configuredNames.get('Alex Busy')!]: 'On Air', [a.configuredNames.get('Alex Teams In a Call')!]: 'Call light' });
    expect(await read(client, a.configuredNames.get('Alex Busy')!)).toBe('On Air');

    // Subscribed as a home hub is: an automation on "Busy turned off" runs on these notifications.
    const busySwitchEvents: unknown[] = [];
    client.on('event', (event: { characteristics: { aid: number; iid: number; value: unknown }[] }) => {
      for (const c of event.characteristics) if (`${c.aid}.${c.iid}` === busySwitch) busySwitchEvents.push(Number(c.value));
    });
    await client.subscribeCharacteristics([busySwitch]);

    await client.setCharacteristics({ [busySwitch]: true });
    await expect.poll(() => emulator.presenceOf(alex!.id), { timeout: 20_000, interval: 200 }).toMatchObject({ availability: 'Busy', activity: 'InACall' });
    await expect.poll(statuses, { timeout: 20_000, interval: 250 }).toEqual(['Busy', 'In a Call']);
    // hap-controller listens on a connection of its own, so it hears of its own write.
    await expect.poll(() => busySwitchEvents, { timeout: 10_000, interval: 100 }).toEqual([1]);

    // The desk button asks for Do Not Disturb and wins at Graph; the Busy switch stays on (HomeKit still
    // asks for Busy), the DND switch stays off (HomeKit did not ask), the status sensors show the outcome.
    const desk = await connectAsync(broker.url, { protocolVersion: 4 });
    cleanups.push(() => desk.endAsync());
    await desk.publishAsync('desk/button', 'dnd', { qos: 1 });
    await expect.poll(() => emulator.presenceOf(alex!.id), { timeout: 20_000, interval: 200 }).toMatchObject({ availability: 'DoNotDisturb', activity: 'Presenting' });
    await expect.poll(statuses, { timeout: 20_000, interval: 250 }).toEqual(['Do Not Disturb', 'Presenting']);
    expect(Number(await read(client, busySwitch))).toBe(1);
    expect(Number(await read(client, dndSwitch))).toBe(0);

    // The desk button lets go: HomeKit's held request is asserted again.
    await desk.publishAsync('desk/button', 'off', { qos: 1 });
    await expect.poll(() => emulator.presenceOf(alex!.id), { timeout: 20_000, interval: 200 }).toMatchObject({ availability: 'Busy', activity: 'InACall' });
    await expect.poll(statuses, { timeout: 20_000, interval: 250 }).toEqual(['Busy', 'In a Call']);
    expect(busySwitchEvents).toEqual([1]); // never told "off" while the other input won

    // Only the user turning it off ends it.
    await client.setCharacteristics({ [busySwitch]: false });
    await expect.poll(() => emulator.sessionsOf(alex!.id), { timeout: 20_000, interval: 200 }).toEqual([]);
    await expect.poll(statuses, { timeout: 20_000, interval: 250 }).toEqual(['Offline']);
    expect(Number(await read(client, busySwitch))).toBe(0);
    await expect.poll(() => busySwitchEvents, { timeout: 10_000, interval: 100 }).toEqual([1, 0]);
    await client.unsubscribeCharacteristics([busySwitch]);

    // No busy sensor, yet Graph refusing the unknown user shows as a fault (on its switches and sensors).
    const g = ids.get('ghost')!;
    expect(g.occupancy).toBe('');
    expect(await read(client, g.faults.get('Ghost Busy')!)).toBe(0);
    await client.setCharacteristics({ [g.switches.get('Ghost Busy')!]: true });
    await expect.poll(() => read(client, g.faults.get('Ghost Busy')!), { timeout: 30_000, interval: 250 }).toBe(1);
    expect(await read(client, g.faults.get('Ghost Do Not Disturb')!)).toBe(1);
    expect(await read(client, g.faults.get('Ghost Teams Busy')!)).toBe(1);
    expect(await read(client, a.faults.get('Alex Busy')!)).toBe(0);
    await client.close();

    // Restart: the names given in the Home app are kept.
    await homebridge.stop();
    homebridge = await startHomebridge(storagePath, port, [block('Alex')]);
    const again = new HttpClient('pb-e2e-kit', '127.0.0.1', port, pairing ?? undefined);
    cleanups.push(() => again.close());
    const restored = accessoriesByUser((await again.getAccessories()).accessories).get('alex')!;
    expect(await read(again, restored.configuredNames.get('Alex Busy')!)).toBe('On Air');
    expect(await read(again, restored.configuredNames.get('Alex Teams In a Call')!)).toBe('Call light');
    expect(await read(again, restored.configuredNames.get('Alex Do Not Disturb')!)).toBe('Alex Do Not Disturb');
    await again.close();

    // The user's name changed in the config: the services take the new name.
    await homebridge.stop();
    await startHomebridge(storagePath, port, [block('Alexandra')]);
    const third = new HttpClient('pb-e2e-kit', '127.0.0.1', port, pairing ?? undefined);
    cleanups.push(() => third.close());
    const renamed = accessoriesByUser((await third.getAccessories()).accessories).get('alex')!;
    expect(await read(third, renamed.configuredNames.get('Alexandra Busy')!)).toBe('Alexandra Busy');
    expect(await read(third, renamed.configuredNames.get('Alexandra Teams In a Call')!)).toBe('Alexandra Teams In a Call');
    await third.close();
  }, 240_000);

  it('logs every config error, registers nothing and keeps Homebridge running (as a child bridge)', async () => {
    const storagePath = await tempDir('pb-hb-bad-');
    cleanups.push(() => rm(storagePath, { recursive: true, force: true }));
    const port = await freePort();
    const childPort = await freePort();
    const broken = {
      platform: 'PresenceBridge',
      name: 'Presence Bridge',
      auth: { mode: 'application', tenantId: 'contoso', clientId: '' },
      graph: { expiration: 'PT10S' },
      users: [],
      _bridge: { username: `0E:3C:21:7B:${(childPort >> 8).toString(16).padStart(2, '0')}:${(childPort & 0xff).toString(16).padStart(2, '0')}`.toUpperCase(), port: childPort },
    };
    const homebridge = await startHomebridge(storagePath, port, [broken]);
    await homebridge.waitFor(/error\(s\); Presence Bridge stays inactive/, 30_000);
    // The errors are logged in the platform's constructor, before the child bridge publishes.
    await homebridge.waitFor(new RegExp(`is running on port ${childPort}`), 30_000);
    const output = homebridge.output();
    expect(output).toMatch(/the configuration has 4 error\(s\)/);
    expect(output).toMatch(/auth\.clientId: /);
    expect(output).toMatch(/graph\.expiration: /);
    expect(output).toMatch(/users: /);
    expect(output).not.toMatch(/_bridge/);
    // The child bridge is up with no accessory of ours; Homebridge did not crash.
    const client = new HttpClient('pb-e2e-bad', '127.0.0.1', childPort);
    cleanups.push(() => client.close());
    await client.pairSetup(PIN);
    const accessories = (await client.getAccessories());
    expect(accessoriesByUser(accessories.accessories).size).toBe(0);
    expect(homebridge.running).toBe(true);
    expect(output).not.toMatch(/TypeError|Unhandled|uncaught/i);
  }, 120_000);
});
