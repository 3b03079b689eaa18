// The API object Homebridge hands to plugins (not in the package's exports, so by path).
import { HomebridgeAPI } from '../../node_modules/homebridge/dist/api.js';
import { User } from '../../node_modules/homebridge/dist/user.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logging, PlatformAccessory } from 'homebridge';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';
import { startEmulator } from '../../src/emulator/index.js';
import type { Fleet } from '../../src/fleet/index.js';
import { PresenceBridgePlatform } from '../../src/homebridge/platform.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/waitFor.js';

/**
 * The plugin and the fleet (issue 19): Homebridge's own API object drives the platform class in
 * process, against the HTTPS emulator and a real Mosquitto. `userGroups` and input templates run
 * through the daemon's fleet runner as one instance (accessories for the members, templated topics
 * work, a refresh adds and removes accessories); shards leave the plugin inactive, saying why.
 */

const cleanups = cleanupAfterEach();

function recordingLog(): Logging & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => {
    lines.push(`${level} ${message}`);
  };
  const log = Object.assign((message: string) => at('info')(message), {
    prefix: 'Presence Bridge',
    lines,
    info: at('info'),
    success: at('success'),
    warn: at('warn'),
    error: at('error'),
    debug: at('debug'),
    log: (level: string, message: string) => at(level)(message),
  });
  return log as Logging & { lines: string[] };
}

// Homebridge's storage path can be set once per process
let storage: string;
beforeAll(async () => {
  storage = await mkdtemp(join(tmpdir(), 'pb-hb-fleet-'));
  User.setStoragePath(storage);
});
afterAll(() => rm(storage, { recursive: true, force: true }));

/** The internal events Homebridge's server listens to, typed loosely (the typings list them per overload). */
function accessoryEvents(api: HomebridgeAPI): { on(event: string, listener: (accessories: PlatformAccessory[]) => void): unknown } {
  return api;
}

describe('the plugin with userGroups, templates and shards', () => {
  it('runs a group with a templated input as one instance: accessories follow the members, the templates work', { timeout: 60_000 }, async () => {
    const e = await startEmulator({ appPermissions: ['Presence.ReadWrite.All', 'GroupMember.Read.All'] });
    cleanups.push(() => e.close());
    const [alex, megan, lee] = e.users;
    const group = e.addGroup({ displayName: 'Desks', members: [alex!.id, megan!.id] });
    const broker = await startMosquitto();
    cleanups.push(() => broker.close());
    const desk = await connectAsync(broker.url, { protocolVersion: 5, clientId: 'desk' });
    cleanups.push(() => desk.endAsync());

    const api = new HomebridgeAPI();
    const registered = new Map<string, PlatformAccessory>();
    accessoryEvents(api).on('registerPlatformAccessories', (accessories) => {
      for (const a of accessories) registered.set(a.UUID, a);
    });
    accessoryEvents(api).on('unregisterPlatformAccessories', (accessories) => {
      for (const a of accessories) registered.delete(a.UUID);
    });
    const log = recordingLog();
    const platform = new PresenceBridgePlatform(
      log,
      {
        platform: 'PresenceBridge',
        ...emulatorConfigBlock(e, { graph: { pollSeconds: 60 } }),
        userGroups: [{ id: group.id, refreshMinutes: 60 }],
        mqtt: { url: broker.url, homeAssistant: false, clientId: 'hb-fleet' },
        inputs: [{ type: 'mqtt', name: 'hook', topic: 'desk/{user}/hook', map: { ON: 'Busy/InACall', OFF: 'clear' } }],
      },
      api,
    );
    api.signalFinished();
    let stopped = false;
    cleanups.push(async () => {
      if (stopped) return;
      api.signalShutdown();
      await waitFor(() => log.lines.some((l) => /^info stopped$|stopping failed/.test(l)), { what: 'the plugin to stop' });
    });

    const names = (): string[] => [...registered.values()].map((a) => a.displayName).sort();
    await waitFor(() => names().length === 2, { what: 'accessories for the group members' });
    expect(names()).toEqual([alex!.displayName, megan!.displayName].sort());
    expect(log.lines).toContain('info [fleet] input template "hook" made 2 input(s), e.g. hook/alex-wilber on desk/alex-wilber/hook');
    const pair = (id: string): string => `${e.presenceOf(id).availability}/${e.presenceOf(id).activity}`;
    await waitFor(() => pair(alex!.id) === 'Busy/InACall', { what: 'templated input of a member', onPoll: () => desk.publishAsync('desk/alex-wilber/hook', 'ON', { qos: 1 }).then(() => undefined) });

    // a refresh (the timer's job; called here, the plugin runs on real time) adds and removes accessories
    e.addGroupMembers(group.id, [lee!.id]);
    e.removeGroupMember(group.id, megan!.id);
    await (platform as unknown as { fleet: Fleet }).fleet.runner.refresh();
    await waitFor(() => names().join() === [alex!.displayName, lee!.displayName].sort().join(), { what: 'accessories after the refresh' });
    await waitFor(() => pair(lee!.id) === 'Busy/InACall', { what: "the joiner's templated input", onPoll: () => desk.publishAsync('desk/lee-gu/hook', 'ON', { qos: 1 }).then(() => undefined) });
    await waitFor(() => e.sessionsOf(megan!.id).length === 0, { what: "the leaver's session cleared" });
    expect(log.lines.filter((l) => l.startsWith('error '))).toEqual([]);

    api.signalShutdown();
    await waitFor(() => log.lines.includes('info stopped'), { what: 'the plugin to stop' });
    stopped = true;
  });

  it('stays inactive with shards, naming the option and what to run instead', async () => {
    const e = await startEmulator({ appPermissions: ['Presence.ReadWrite.All', 'GroupMember.Read.All'] });
    cleanups.push(() => e.close());
    const api = new HomebridgeAPI();
    let registrations = 0;
    accessoryEvents(api).on('registerPlatformAccessories', () => (registrations += 1));
    const log = recordingLog();
    new PresenceBridgePlatform(log, { platform: 'PresenceBridge', ...emulatorConfigBlock(e, {}), userGroups: [{ id: e.groups[0]!.id }], fleet: { shard: '1/3' } }, api);
    api.signalFinished();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(log.lines.filter((l) => l.startsWith('error '))).toEqual([
      expect.stringMatching(/^error fleet\.shard \/ fleet\.shardCount: shards are not supported in the Homebridge plugin.*presence-bridge run.*stays inactive$/),
    ]);
    expect(registrations).toBe(0);
    expect(e.requestLog()).toEqual([]);
    api.signalShutdown();
  });
});
