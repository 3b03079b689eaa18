import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/configuration.js';
import type { PresenceBridgeConfig } from '../../src/config/schema.js';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { createFleet, type Fleet } from '../../src/fleet/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { capturingLogger } from '../helpers/logger.js';
import { storageDir } from '../helpers/bridgeOnEmulator.js';
import { waitFor } from '../helpers/waitFor.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { connectAsync } from 'mqtt';

const MIN = 60_000;
const cleanups = cleanupAfterEach();

async function emulator(clock: ManualClock, appPermissions: string[]): Promise<Emulator> {
  const e = await startEmulator({ clock, port: 0, host: '127.0.0.1', appPermissions });
  cleanups.push(() => e.close());
  return e;
}

function fleetConfig(e: Emulator, groupId: string, extra: Record<string, unknown> = {}): PresenceBridgeConfig {
  const result = validateConfig({ ...emulatorConfigBlock(e, {}), userGroups: [{ id: groupId, refreshMinutes: 5 }], ...extra });
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.config;
}

const presence = (e: Emulator, id: string): string => {
  const p = e.presenceOf(id);
  return `${p.availability}/${p.activity}`;
};

describe('users from an Entra group (transitiveMembers through the real Graph stack)', () => {
  it('reads members with paging, keys them from the UPN, and takes joins and leaves at the next refresh, clearing the leaver', async () => {
    const clock = new ManualClock();
    const e = await emulator(clock, ['Presence.ReadWrite.All', 'GroupMember.Read.All']);
    const [alex, megan, lee] = e.users;
    const inner = e.addGroup({ displayName: 'Inner', members: [megan!.id] });
    const group = e.addGroup({ displayName: 'Desks', members: [alex!.id, inner.id] });
    const logger = capturingLogger();
    const broker = await startMosquitto();
    cleanups.push(() => broker.close());
    const publisher = await connectAsync(broker.url, { protocolVersion: 5 });
    cleanups.push(() => publisher.endAsync());
    const config = fleetConfig(e, group.id, {
      mqtt: { url: broker.url, homeAssistant: false },
      inputs: [{ type: 'mqtt', name: 'hook', topic: 'desk/{user}/hook', map: { ON: 'Busy/InACall', DND: 'DoNotDisturb/Presenting', OFF: 'clear' } }],
    });
    const fleet: Fleet = await createFleet(config, { logger, clock, storagePath: await storageDir('fleet-', cleanups), shard: { index: 0, count: 1 }, memberPageSize: 1 });
    cleanups.push(() => fleet.stop());
    const first = await fleet.start();
    expect(first.states().map((s) => s.userKey).sort()).toEqual(['alex-wilber', 'megan-bowen']);
    // page size 1: three members (two users and the nested group) took three pages
    expect(e.requestLog().filter((r) => r.route.endsWith('/transitiveMembers')).length).toBe(3);

    // the template made one input per member, subscribed on the broker
    expect(logger.lines.map((l) => l.message)).toContain('[fleet] input template "hook" made 2 input(s), e.g. hook/alex-wilber on desk/alex-wilber/hook');
    await waitFor(() => presence(e, alex!.id) === 'Busy/InACall' && presence(e, megan!.id) === 'DoNotDisturb/Presenting', {
      what: 'both set',
      onPoll: async () => {
        await publisher.publishAsync('desk/alex-wilber/hook', 'ON', { qos: 1 });
        await publisher.publishAsync('desk/megan-bowen/hook', 'DND', { qos: 1 });
      },
    });

    // Lee joins, Megan leaves (through the nested group); nothing changes before the refresh
    e.addGroupMembers(group.id, [lee!.id]);
    e.removeGroupMember(inner.id, megan!.id);
    const keys = (): string[] => first.states().map((s) => s.userKey).sort();
    await clock.advance(4 * MIN);
    expect(keys()).toEqual(['alex-wilber', 'megan-bowen']);
    await clock.advance(MIN);
    // applied to the running bridge, not a new one
    await waitFor(() => keys().join() === 'alex-wilber,lee-gu', { what: 'the refresh' });
    expect(fleet.runner.bridge).toBe(first);
    // the joiner's templated input works once the running connection subscribed to it
    await waitFor(() => presence(e, lee!.id) === 'Busy/InACall', { what: 'lee set', onPoll: () => publisher.publishAsync('desk/lee-gu/hook', 'ON', { qos: 1 }).then(() => undefined) });
    expect(logger.lines.map((l) => l.message)).toEqual(expect.arrayContaining([expect.stringContaining('joined: lee-gu'), expect.stringContaining('left (their sessions are cleared): megan-bowen')]));
    // the leaver's session is cleared; Alex keeps his (never cleared)
    await waitFor(() => presence(e, megan!.id) === 'PresenceUnknown/PresenceUnknown' || e.sessionsOf(megan!.id).length === 0, { what: 'leaver cleared', onPoll: () => clock.advance(100) });
    expect(e.sessionsOf(megan!.id)).toEqual([]);
    expect(presence(e, alex!.id)).toBe('Busy/InACall');
    const alexCalls = e.requestLog().filter((r) => r.route === `/users/${alex!.id}/presence/clearPresence`);
    expect(alexCalls).toEqual([]);
  });

  it('refuses to start without GroupMember.Read.All, saying what to grant and where', async () => {
    const clock = new ManualClock();
    const e = await emulator(clock, ['Presence.ReadWrite.All']);
    const fleet = await createFleet(fleetConfig(e, e.groups[0]!.id), { logger: capturingLogger(), clock, storagePath: await storageDir('fleet-', cleanups), shard: { index: 0, count: 1 } });
    cleanups.push(() => fleet.stop());
    await expect(fleet.start()).rejects.toThrow(/HTTP 403 Authorization_RequestDenied.*GroupMember\.Read\.All.*Grant admin consent/);
  });

  it('keeps its users when a refresh fails, and logs why', async () => {
    const clock = new ManualClock();
    const e = await emulator(clock, ['Presence.ReadWrite.All', 'GroupMember.Read.All']);
    const logger = capturingLogger();
    const fleet = await createFleet(fleetConfig(e, e.groups[0]!.id), { logger, clock, storagePath: await storageDir('fleet-', cleanups), shard: { index: 0, count: 1 } });
    cleanups.push(() => fleet.stop());
    const bridge = await fleet.start();
    expect(bridge.states()).toHaveLength(3);
    e.injectFault({ kind: 'status', status: 503, count: 1, path: `/groups/` });
    await clock.advance(5 * MIN);
    await waitFor(() => logger.count('error', /reading the groups failed, keeping the current 3 user/) === 1, { what: 'error line' });
    expect(fleet.runner.bridge).toBe(bridge);
  });
});
