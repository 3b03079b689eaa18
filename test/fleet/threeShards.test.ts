/**
 * Three shards of one fleet (issue 19), in process, against one real Mosquitto and the HTTPS
 * emulator with 3,000 users from a group: every user owned by exactly one shard, each shard's
 * Graph calls only for its users and within its share of the budget, a shard stopped while
 * inputs for its users are published (QoS 1, persistent session) gets them when it returns, and
 * a member added and one removed are picked up at the next refresh.
 */
import { connectAsync } from 'mqtt';
import { describe, expect, it } from 'vitest';
import type { CoreBridge } from '../../src/bridge.js';
import type { GraphCallEvent } from '../../src/bridgeTypes.js';
import type { PresenceBridgeConfig } from '../../src/config/schema.js';
import { validateConfig } from '../../src/configuration.js';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { createFleet, shardOf, type Fleet } from '../../src/fleet/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { storageDir } from '../helpers/bridgeOnEmulator.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { capturingLogger } from '../helpers/logger.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/waitFor.js';

const cleanups = cleanupAfterEach();
const SHARDS = 3;
const USERS = 3000;
const BUDGET = 1500;
const MIN = 60_000;

interface Running {
  fleet: Fleet;
  calls: GraphCallEvent[];
  keys(): string[];
}

describe('three shards, 3,000 users from a group', () => {
  it('owns each user once, calls Graph only for its users within budget / 3, loses nothing while a shard is down, and follows the group', { timeout: 120_000 }, async () => {
    const clock = new ManualClock();
    const e: Emulator = await startEmulator({ clock, port: 0, host: '127.0.0.1', appPermissions: ['Presence.ReadWrite.All', 'GroupMember.Read.All'] });
    cleanups.push(() => e.close());
    const members = e.addUsers(Array.from({ length: USERS }, (_, i) => ({ userPrincipalName: `desk${String(i).padStart(4, '0')}@contoso.example` })));
    const group = e.addGroup({ displayName: 'All desks', members: members.map((m) => m.id) });
    const broker = await startMosquitto();
    cleanups.push(() => broker.close());
    const desk = await connectAsync(broker.url, { protocolVersion: 5, clientId: 'desk-devices' });
    cleanups.push(() => desk.endAsync());
    // each shard says online on its own retained status topic once its subscriptions are in place
    let online = 0;
    desk.on('message', (topic, payload) => {
      if (/^presence-bridge\/status\/shard-\d-of-3$/.test(topic) && payload.toString() === 'online') online += 1;
    });
    await desk.subscribeAsync('presence-bridge/status/#', { qos: 1 });
    const result = validateConfig({
      ...emulatorConfigBlock(e, { graph: { maxRequestsPer30s: BUDGET, pollSeconds: 0 } }),
      userGroups: [{ id: group.id, refreshMinutes: 10 }],
      mqtt: { url: broker.url, homeAssistant: false, commandTopics: false, clientId: 'fleet' },
      inputs: [{ type: 'mqtt', name: 'hook', topic: 'desk/{user}/hook', map: { ON: 'Busy/InACall', DND: 'DoNotDisturb/Presenting', OFF: 'clear' } }],
      onShutdown: 'keep',
    });
    if (!result.ok) throw new Error(result.errors.join('; '));
    const config: PresenceBridgeConfig = result.config;
    const storage = await storageDir('three-shards-', cleanups);
    const logger = capturingLogger();

    const start = async (index: number): Promise<Running> => {
      const calls: GraphCallEvent[] = [];
      let current: CoreBridge | undefined;
      const fleet = await createFleet(config, {
        logger,
        clock,
        storagePath: storage,
        shard: { index, count: SHARDS },
        onBridge: (bridge) => {
          current = bridge;
          bridge.events.on('graphCall', (c) => calls.push(c));
          return Promise.resolve();
        },
      });
      await fleet.start();
      // features see which shard they run in
      expect(current!.instance).toEqual({ id: `${config.name} ${index}/${SHARDS}`, shard: { index, count: SHARDS } });
      return { fleet, calls, keys: () => current!.states().map((s) => s.userKey) };
    };
    const shards: Running[] = [];
    for (let i = 0; i < SHARDS; i++) shards.push(await start(i));
    cleanups.push(async () => {
      for (const s of shards) await s.fleet.stop();
    });

    // every user owned by exactly one shard, the one its hash names
    const owner = new Map<string, number>();
    shards.forEach((s, i) => {
      for (const key of s.keys()) {
        expect(owner.has(key), `${key} owned twice`).toBe(false);
        owner.set(key, i);
      }
    });
    expect(owner.size).toBe(USERS);
    const keyOf = (i: number): string => `desk${String(i).padStart(4, '0')}`;
    for (let i = 0; i < USERS; i += 97) expect(owner.get(keyOf(i))).toBe(shardOf(members[i]!.id, SHARDS));
    for (const s of shards) expect(s.fleet.runner.plan!.config.graph.maxRequestsPer30s).toBe(BUDGET / SHARDS);

    // inputs for 30 users of each shard
    const sample = Array.from({ length: 90 }, (_, i) => i * 31);
    const idOf = (i: number): string => members[i]!.id;
    const pair = (i: number): string => {
      const p = e.presenceOf(idOf(i));
      return `${p.availability}/${p.activity}`;
    };
    const publishAll = async (value: string, which: readonly number[]): Promise<void> => {
      for (const i of which) await desk.publishAsync(`desk/${keyOf(i)}/hook`, value, { qos: 1 });
    };
    await waitFor(() => online >= SHARDS, { what: 'three shards subscribed' });
    await publishAll('ON', sample);
    await waitFor(() => sample.every((i) => pair(i) === 'Busy/InACall'), { what: 'sample busy', timeoutMs: 30_000, onPoll: () => clock.advance(200) });

    // each shard's calls are for its own users only; together they are every presence call Graph saw
    shards.forEach((s, i) => {
      const users = s.calls.filter((c) => c.userKey !== null).map((c) => c.userKey!);
      expect(users.length).toBeGreaterThan(0);
      for (const key of users) expect(owner.get(key)).toBe(i);
    });
    const writes = () => e.requestLog().filter((r) => r.route.endsWith('/presence/setPresence'));
    // a call's event follows its answer: wait until every answered call was reported
    await waitFor(() => writes().length === shards.reduce((n, s) => n + s.calls.filter((c) => c.operation === 'setPresence').length, 0), { what: 'every call reported', timeoutMs: 5000 });
    const graphWrites = writes();
    const setIds = new Set(graphWrites.map((r) => r.route.split('/')[2]!.toLowerCase()));
    expect(setIds).toEqual(new Set(sample.map((i) => idOf(i).toLowerCase())));
    // within budget: no shard made more than its share in any 30 s (all of these fit in one window)
    for (const s of shards) expect(s.calls.length).toBeLessThanOrEqual(BUDGET / SHARDS);
    expect(e.requestLog().some((r) => r.status === 429)).toBe(false);

    // shard 1 goes down; inputs for its users are published meanwhile (QoS 1)
    const down = sample.filter((i) => owner.get(keyOf(i)) === 1);
    expect(down.length).toBeGreaterThan(5);
    await shards[1]!.fleet.stop();
    // only the broker's persistent session of shard 1 (same client id, clean start off) can bring these back
    await publishAll('DND', down);
    await clock.advance(MIN);
    expect(down.every((i) => pair(i) === 'Busy/InACall')).toBe(true);
    shards[1] = await start(1);
    await waitFor(() => down.every((i) => pair(i) === 'DoNotDisturb/Presenting'), { what: 'queued inputs delivered after the restart', timeoutMs: 30_000, onPoll: () => clock.advance(200) });
    expect(logger.lines.some((l) => /connected to the broker \(session resumed\)/.test(l.message))).toBe(true);
    // the other shards' users kept theirs
    expect(sample.filter((i) => owner.get(keyOf(i)) !== 1).every((i) => pair(i) === 'Busy/InACall')).toBe(true);

    // a member added and one removed are picked up at the next refresh, by exactly one shard
    const [joiner] = e.addUsers([{ userPrincipalName: 'newdesk@contoso.example' }]);
    e.addGroupMembers(group.id, [joiner!.id]);
    const leaver = sample[0]!;
    e.removeGroupMember(group.id, idOf(leaver));
    await clock.advance(10 * MIN);
    await waitFor(() => shards.filter((s) => s.keys().includes('newdesk')).length === 1 && shards.every((s) => !s.keys().includes(keyOf(leaver))), { what: 'refresh', timeoutMs: 30_000 });
    expect(shards.findIndex((s) => s.keys().includes('newdesk'))).toBe(shardOf(joiner!.id, SHARDS));
    // the leaver's session is cleared after the new bridge's start-up grace
    await waitFor(() => e.sessionsOf(idOf(leaver)).length === 0, { what: 'leaver cleared', timeoutMs: 30_000, onPoll: () => clock.advance(1000) });
  });
});
