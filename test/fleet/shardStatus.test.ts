/**
 * Per-shard status (issue 19): each shard of N > 1 has its own retained status topic and last will
 * (`<base>/status/shard-<I>-of-<N>`), so a shard that dies is seen offline while its sibling stays
 * online, and Home Assistant's availability of a user follows the shard that serves them. Real
 * Mosquitto, the HTTPS emulator, two shards in process; shard 1 reaches the broker through a TCP
 * relay that is cut without a DISCONNECT, so the broker fires its will.
 */
import { connectAsync } from 'mqtt';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { PresenceBridgeConfig } from '../../src/config/schema.js';
import { validateConfig } from '../../src/configuration.js';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';
import { startEmulator } from '../../src/emulator/index.js';
import { createFleet, shardOf } from '../../src/fleet/index.js';
import { statusTopic } from '../../src/mqtt/mqttConnection.js';
import { ManualClock } from '../../src/shared/clock.js';
import { storageDir } from '../helpers/bridgeOnEmulator.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { capturingLogger } from '../helpers/logger.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/waitFor.js';

const cleanups = cleanupAfterEach();

/** A TCP relay to the broker whose cut drops every connection through it and refuses new ones. */
async function startRelay(brokerPort: number): Promise<{ url: string; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: brokerPort });
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('close', end);
      s.on('error', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const cut = (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    return closed;
  };
  cleanups.push(() => (server.listening ? cut() : Promise.resolve()));
  return { url: `mqtt://127.0.0.1:${port}`, cut };
}

describe('per-shard status topics', () => {
  it('keeps <base>/status for a lone instance and names the shard for one of several', () => {
    expect(statusTopic({ baseTopic: 'pb' })).toBe('pb/status');
    expect(statusTopic({ baseTopic: 'pb' }, { index: 0, count: 1 })).toBe('pb/status');
    expect(statusTopic({ baseTopic: 'pb' }, { index: 2, count: 3 })).toBe('pb/status/shard-2-of-3');
  });

  it('a killed shard reads offline through its own will while its sibling stays online; discovery points each user at their shard', { timeout: 60_000 }, async () => {
    const clock = new ManualClock();
    const e = await startEmulator({ clock, port: 0, host: '127.0.0.1', appPermissions: ['Presence.ReadWrite.All', 'GroupMember.Read.All'] });
    cleanups.push(() => e.close());
    const members = e.addUsers(Array.from({ length: 12 }, (_, i) => ({ userPrincipalName: `seat${i}@contoso.example` })));
    const group = e.addGroup({ displayName: 'Seats', members: members.map((m) => m.id) });
    const broker = await startMosquitto();
    cleanups.push(() => broker.close());
    const relay = await startRelay(broker.port);
    const watcher = await connectAsync(broker.url, { protocolVersion: 5, clientId: 'status-watcher' });
    cleanups.push(() => watcher.endAsync());
    const retained = new Map<string, string>();
    watcher.on('message', (topic, payload) => retained.set(topic, payload.toString()));
    await watcher.subscribeAsync(['presence-bridge/status', 'presence-bridge/status/#', 'homeassistant/#'], { qos: 1 });

    const configFor = (url: string): PresenceBridgeConfig => {
      const result = validateConfig({
        ...emulatorConfigBlock(e, { graph: { pollSeconds: 0 } }),
        userGroups: [{ id: group.id, refreshMinutes: 10 }],
        mqtt: { url, homeAssistant: true, clientId: 'fleet' },
        onShutdown: 'keep',
      });
      if (!result.ok) throw new Error(result.errors.join('; '));
      return result.config;
    };
    const storage = await storageDir('shard-status-', cleanups);
    const logger = capturingLogger();
    const fleets = await Promise.all(
      [broker.url, relay.url].map((url, index) => createFleet(configFor(url), { logger, clock, storagePath: storage, shard: { index, count: 2 } })),
    );
    for (const fleet of fleets) {
      cleanups.push(() => fleet.stop());
      await fleet.start();
    }
    const s0 = 'presence-bridge/status/shard-0-of-2';
    const s1 = 'presence-bridge/status/shard-1-of-2';
    await waitFor(() => retained.get(s0) === 'online' && retained.get(s1) === 'online', { what: 'both shards online' });

    // each user's discovery availability is their owning shard's status topic
    const availabilityOf = (key: string): string | undefined => {
      const config = retained.get(`homeassistant/sensor/presence-bridge/${key}_presence/config`);
      return config === undefined ? undefined : (JSON.parse(config) as { availability_topic: string }).availability_topic;
    };
    const keys = members.map((_, i) => `seat${i}`);
    await waitFor(() => keys.every((k) => availabilityOf(k) !== undefined), { what: 'discovery of every user' });
    const owners = members.map((m) => shardOf(m.id, 2));
    expect(new Set(owners)).toEqual(new Set([0, 1]));
    keys.forEach((key, i) => expect(availabilityOf(key)).toBe(owners[i] === 0 ? s0 : s1));

    // shard 1's connection dies without a DISCONNECT: the broker publishes its will on its own topic only
    await relay.cut();
    await waitFor(() => retained.get(s1) === 'offline', { what: "shard 1's will" });
    expect(retained.get(s0)).toBe('online');
    // a fresh subscriber sees the same retained picture: one shard online, one offline
    const late = await connectAsync(broker.url, { protocolVersion: 5, clientId: 'late-watcher' });
    cleanups.push(() => late.endAsync());
    const seen = new Map<string, string>();
    late.on('message', (topic, payload) => seen.set(topic, payload.toString()));
    await late.subscribeAsync(['presence-bridge/status', 'presence-bridge/status/#'], { qos: 1 });
    await waitFor(() => seen.size >= 2, { what: 'retained status topics' });
    expect(Object.fromEntries(seen)).toEqual({ [s0]: 'online', [s1]: 'offline' });
  });
});
