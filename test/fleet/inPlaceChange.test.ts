/**
 * A group change applied to the running bridge (issue 19): the same bridge object, its metrics
 * counters, its broker connection and its users' sessions survive a join and a leave; the joiner's
 * templated topic is subscribed on the running connection (real Mosquitto) and the leaver's is
 * unsubscribed; the leaver's session is cleared. Scraped over real HTTP, parsed by the strict
 * Prometheus text parser.
 */
import { connectAsync } from 'mqtt';
import { describe, expect, it } from 'vitest';
import type { PresenceBridgeConfig } from '../../src/config/schema.js';
import { validateConfig } from '../../src/configuration.js';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';
import { startEmulator } from '../../src/emulator/index.js';
import { createFleet } from '../../src/fleet/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { storageDir } from '../helpers/bridgeOnEmulator.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { capturingLogger } from '../helpers/logger.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/waitFor.js';
import { parsePrometheusText, sampleValue } from '../metrics/promText.js';
import { serveRoutes } from '../metrics/routeServer.js';

const MIN = 60_000;
const cleanups = cleanupAfterEach();

describe('a group change applied in place', () => {
  it('keeps the bridge, its counters and its connection; subscribes the joiner, unsubscribes and clears the leaver', { timeout: 60_000 }, async () => {
    const clock = new ManualClock();
    const e = await startEmulator({ clock, port: 0, host: '127.0.0.1', appPermissions: ['Presence.ReadWrite.All', 'GroupMember.Read.All'] });
    cleanups.push(() => e.close());
    const [alex, megan, lee] = e.users;
    const group = e.addGroup({ displayName: 'Desks', members: [alex!.id, megan!.id] });
    const broker = await startMosquitto();
    cleanups.push(() => broker.close());
    const desk = await connectAsync(broker.url, { protocolVersion: 5, clientId: 'desks' });
    cleanups.push(() => desk.endAsync());
    // Home Assistant's view: the retained discovery config of each user's presence sensor
    const discovery = new Map<string, string>();
    desk.on('message', (topic, payload) => discovery.set(topic.split('/')[3]!, payload.toString()));
    await desk.subscribeAsync('homeassistant/sensor/presence-bridge/+/config', { qos: 1 });
    const announced = (): string[] => [...discovery].filter(([, payload]) => payload !== '').map(([id]) => id).sort();
    const result = validateConfig({
      ...emulatorConfigBlock(e, { graph: { pollSeconds: 0 } }),
      userGroups: [{ id: group.id, refreshMinutes: 5 }],
      mqtt: { url: broker.url, homeAssistant: true },
      inputs: [{ type: 'mqtt', name: 'hook', topic: 'desk/{user}/hook', map: { ON: 'Busy/InACall', DND: 'DoNotDisturb/Presenting', OFF: 'clear' } }],
      metrics: { enabled: true },
    });
    if (!result.ok) throw new Error(result.errors.join('; '));
    const config: PresenceBridgeConfig = result.config;
    const logger = capturingLogger();
    const fleet = await createFleet(config, { logger, clock, storagePath: await storageDir('in-place-', cleanups), shard: { index: 0, count: 1 } });
    cleanups.push(() => fleet.stop());
    const bridge = await fleet.start();
    const server = await serveRoutes(bridge.routes);
    cleanups.push(() => server.close());
    const mapped = async (): Promise<number> => {
      const response = await fetch(`${server.url}/metrics`);
      expect(response.status).toBe(200);
      return sampleValue(parsePrometheusText(await response.text()), 'presence_bridge_input_messages_total', 'presence_bridge_input_messages_total', { outcome: 'mapped' }) ?? 0;
    };
    const pair = (id: string): string => {
      const p = e.presenceOf(id);
      return `${p.availability}/${p.activity}`;
    };
    const publish = (topic: string, value: string): Promise<void> => desk.publishAsync(topic, value, { qos: 1 }).then(() => undefined);

    await waitFor(() => pair(alex!.id) === 'Busy/InACall' && pair(megan!.id) === 'Busy/InACall', {
      what: 'both busy',
      onPoll: async () => {
        await publish('desk/alex-wilber/hook', 'ON');
        await publish('desk/megan-bowen/hook', 'ON');
      },
    });
    await waitFor(() => announced().join() === 'alex-wilber_presence,megan-bowen_presence', { what: 'discovery at start' });
    const before = await mapped();
    expect(before).toBeGreaterThanOrEqual(2);
    const connected = logger.count('info', /^\[mqtt\] connected to the broker/);
    const alexSessions = e.sessionsOf(alex!.id);

    // Lee joins, Megan leaves; the refresh applies it to the same bridge
    e.addGroupMembers(group.id, [lee!.id]);
    e.removeGroupMember(group.id, megan!.id);
    await clock.advance(5 * MIN);
    await waitFor(() => bridge.states().map((s) => s.userKey).sort().join() === 'alex-wilber,lee-gu', { what: 'the refresh' });
    expect(fleet.runner.bridge).toBe(bridge);

    // the joiner's templated topic works on the running connection
    await waitFor(() => pair(lee!.id) === 'DoNotDisturb/Presenting', { what: 'lee set', onPoll: () => publish('desk/lee-gu/hook', 'DND') });
    // the leaver's session is cleared, and her topic is no longer subscribed (nothing reaches the bridge)
    await waitFor(() => e.sessionsOf(megan!.id).length === 0, { what: 'leaver cleared', onPoll: () => clock.advance(100) });
    const signals: string[] = [];
    bridge.events.on('signal', (s) => signals.push(s.signal.input));
    await publish('desk/megan-bowen/hook', 'DND');
    await publish('desk/alex-wilber/hook', 'DND');
    await waitFor(() => signals.includes('hook/alex-wilber'), { what: "alex's signal after megan's" });
    // (a late copy of Lee's DND, published while polling above, may still arrive: only Megan's must not)
    expect(signals.filter((input) => input !== 'hook/lee-gu')).toEqual(['hook/alex-wilber']);
    expect(logger.lines.some((l) => /matches no input/.test(l.message) && l.message.includes('megan-bowen'))).toBe(false);

    // discovery announces the joiner and deletes the leaver's entities (empty retained config)
    await waitFor(() => announced().join() === 'alex-wilber_presence,lee-gu_presence', { what: 'discovery after the refresh' });
    expect(discovery.get('megan-bowen_presence')).toBe('');

    // the counter carried on from where it was (not reset by a new bridge); no reconnect; Alex's session untouched
    const after = await mapped();
    expect(after).toBeGreaterThanOrEqual(before + 2);
    expect(logger.count('info', /^\[mqtt\] connected to the broker/)).toBe(connected);
    expect(e.requestLog().filter((r) => r.route === `/users/${alex!.id}/presence/clearPresence`)).toEqual([]);
    expect(e.sessionsOf(alex!.id).length).toBe(alexSessions.length);
  });
});

describe('working hours follow a group change', () => {
  it("gate a joiner like everyone else, and let the joiner's exempt templated input through", { timeout: 60_000 }, async () => {
    const clock = new ManualClock();
    const e = await startEmulator({ clock, port: 0, host: '127.0.0.1', appPermissions: ['Presence.ReadWrite.All', 'GroupMember.Read.All'] });
    cleanups.push(() => e.close());
    const [alex, , lee] = e.users;
    const group = e.addGroup({ displayName: 'Desks', members: [alex!.id] });
    const broker = await startMosquitto();
    cleanups.push(() => broker.close());
    const desk = await connectAsync(broker.url, { protocolVersion: 5, clientId: 'desks-hours' });
    cleanups.push(() => desk.endAsync());
    // one short window tomorrow: closed now and for the whole test
    const tomorrow = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][(new Date(clock.now()).getUTCDay() + 1) % 7]!;
    const result = validateConfig({
      ...emulatorConfigBlock(e, { graph: { pollSeconds: 0 } }),
      userGroups: [{ id: group.id, refreshMinutes: 5 }],
      mqtt: { url: broker.url, homeAssistant: false },
      workingHours: { timeZone: 'UTC', windows: [{ days: [tomorrow], from: '09:00', to: '09:01' }] },
      inputs: [
        { type: 'mqtt', name: 'hook', topic: 'desk/{user}/hook', map: { ON: 'Busy/InACall' } },
        { type: 'mqtt', name: 'panic', topic: 'panic/{user}', map: { ON: 'DoNotDisturb/Presenting' }, workingHoursExempt: true },
      ],
    });
    if (!result.ok) throw new Error(result.errors.join('; '));
    const fleet = await createFleet(result.config, { logger: capturingLogger(), clock, storagePath: await storageDir('in-place-hours-', cleanups), shard: { index: 0, count: 1 } });
    cleanups.push(() => fleet.stop());
    const bridge = await fleet.start();
    const publish = (topic: string, value: string): Promise<void> => desk.publishAsync(topic, value, { qos: 1 }).then(() => undefined);

    e.addGroupMembers(group.id, [lee!.id]);
    await clock.advance(5 * MIN);
    await waitFor(() => bridge.state('lee-gu') !== undefined, { what: 'the joiner' });
    // outside working hours: the joiner's hook is held back, as it would be for anyone configured at start
    await waitFor(() => bridge.state('lee-gu')?.gated?.note === 'outside working hours', { what: "the joiner's hook held back", onPoll: () => publish('desk/lee-gu/hook', 'ON') });
    expect(e.sessionsOf(lee!.id)).toEqual([]);
    // the exempt template's input, made for the joiner at the refresh, works at any hour
    await waitFor(() => e.presenceOf(lee!.id).availability === 'DoNotDisturb', { what: "the joiner's exempt input", onPoll: () => publish('panic/lee-gu', 'ON') });
  });
});
