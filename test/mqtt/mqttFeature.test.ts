import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/configuration.js';
import type { PresenceBridgeConfig } from '../../src/config/schema.js';
import { GraphError } from '../../src/graph/types.js';
import { MqttFeature, createMqttFeature } from '../../src/mqtt/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import type { Mosquitto } from '../helpers/mosquitto.js';
import { RecordingBridge, Watcher, changed, recordingLogger, waitFor } from './support.js';

const USERS = [
  { key: 'alex', id: 'id-alex', name: 'Alex Wilber' },
  { key: 'megan', id: 'id-megan' },
];

function makeConfig(url: string, protocolVersion: 4 | 5, base: string, extra: Record<string, unknown> = {}): PresenceBridgeConfig {
  return configSchema.parse({
    auth: { tenantId: 't', clientId: 'c', clientSecret: 's' },
    users: USERS,
    mqtt: { url, protocolVersion, baseTopic: base, clientId: `test-${base}`, preferTopic: true },
    inputs: [
      { name: 'Desk button', type: 'mqtt', topic: `${base}-dev/desk_button`, field: 'action', user: 'alex', map: { single: 'toggle' }, toggle: ['Busy/InACall'] },
      { name: 'Headsets', type: 'mqtt', topic: `${base}-dev/headset/+`, user: 'megan', map: { OFFHOOK: 'Busy/InACall', ONHOOK: 'clear' } },
    ],
    ...extra,
  });
}

let broker: Mosquitto;
beforeAll(async () => {
  broker = await startMosquitto({ extraConfig: ['max_queued_messages 100000'] });
});
afterAll(async () => {
  await broker.close();
});

describe.each([5, 4] as const)('MQTT feature over MQTT %s', (protocolVersion) => {
  let counter = 0;
  const cleanups = cleanupAfterEach();

  async function setup(extra: Record<string, unknown> = {}, before?: (w: Watcher, base: string) => Promise<void>) {
    const base = `pb${protocolVersion}-${++counter}-${Date.now() % 100000}`;
    const config = makeConfig(broker.url, protocolVersion, base, extra);
    const clock = new ManualClock();
    const bridge = new RecordingBridge(USERS, clock.now());
    const logger = recordingLogger();
    const watcher = await Watcher.connect(broker.url, protocolVersion);
    cleanups.push(() => watcher.close());
    if (before) await before(watcher, base);
    const feature = new MqttFeature({ ...config, mqtt: config.mqtt! }, bridge, { logger, clock, storagePath: '/nonexistent' }, { connection: { reconnectMinMs: 100, reconnectMaxMs: 500 } });
    cleanups.push(() => feature.stop());
    feature.connection.onConnect(changed); // the state topics now come over their own connection, maybe before this one counts
    await feature.start();
    await waitFor(() => feature.connection.connections >= 1 && watcher.last(`${base}/status`)?.text === 'online', 'online');
    return { base, config, clock, bridge, logger, watcher, feature };
  }

  it('factory returns null without an mqtt block and a feature with one', () => {
    const config = makeConfig('mqtt://127.0.0.1:1', protocolVersion, 'x');
    const bridge = new RecordingBridge(USERS);
    const deps = { logger: recordingLogger(), clock: new ManualClock(), storagePath: '/nonexistent' };
    expect(createMqttFeature({ ...config, mqtt: undefined }, bridge, deps)).toBeNull();
    expect(createMqttFeature(config, bridge, deps)).toBeInstanceOf(MqttFeature);
  });

  it('turns input messages into signals, wildcards included, stamped by the clock', async () => {
    const { base, bridge, watcher, clock } = await setup();
    await watcher.publish(`${base}-dev/desk_button`, '{"action":"single"}');
    await watcher.publish(`${base}-dev/headset/left`, 'OFFHOOK');
    await watcher.publish(`${base}-dev/other`, 'ignored');
    await watcher.publish(`${base}-dev/headset/left`, '');
    await waitFor(() => bridge.signals.length >= 2, 'two signals');
    await clock.advance(1000);
    await watcher.publish(`${base}-dev/headset/right`, 'ONHOOK');
    await waitFor(() => bridge.signals.length >= 3, 'three signals');
    expect(bridge.signals).toEqual([
      { input: 'Desk button', value: '{"action":"single"}', at: clock.now() - 1000 },
      { input: 'Headsets', value: 'OFFHOOK', at: clock.now() - 1000 },
      { input: 'Headsets', value: 'ONHOOK', at: clock.now() },
    ]);
  });

  it('takes a retained message present at subscribe time as the current state', async () => {
    const { bridge } = await setup({}, async (w, base) => {
      await w.publish(`${base}-dev/headset/left`, 'OFFHOOK', true);
    });
    await waitFor(() => bridge.signals.length >= 1, 'retained signal');
    expect(bridge.signals[0]).toMatchObject({ input: 'Headsets', value: 'OFFHOOK' });
  });

  it('acts on the set topic and answers bad payloads on the error topic', async () => {
    const { base, bridge, watcher, clock } = await setup();
    const at = clock.now();
    await watcher.publish(`${base}/alex/set`, 'Busy/InACall');
    await watcher.publish(`${base}/alex/set`, '{"availability":"DoNotDisturb","activity":"Presenting","expiration":"PT30M"}');
    await watcher.publish(`${base}/megan/set`, 'clear');
    await waitFor(() => bridge.intents.length >= 3, 'three intents');
    expect(bridge.intents).toEqual([
      { userKey: 'alex', input: 'mqtt-command', intent: { kind: 'set', pair: { availability: 'Busy', activity: 'InACall' }, at } },
      { userKey: 'alex', input: 'mqtt-command', intent: { kind: 'set', pair: { availability: 'DoNotDisturb', activity: 'Presenting' }, at, until: at + 30 * 60_000 } },
      { userKey: 'megan', input: 'mqtt-command', intent: { kind: 'clear', at } },
    ]);

    const bad: [string, string, string | Buffer, string][] = [
      ['alex', 'set', 'Busy/Busy', 'is not a presence setPresence accepts'],
      ['alex', 'set', '{"availability":"Busy",', 'malformed JSON'],
      ['alex', 'set', Buffer.from([0xff, 0xfe, 0x00]), 'not valid UTF-8'],
      ['alex', 'prefer', 'Busy/InACall', 'is not a preferred presence'],
      ['nobody', 'set', 'Busy/InACall', 'unknown user "nobody"'],
    ];
    for (const [user, verb, payload] of bad) await watcher.publish(`${base}/${user}/${verb}`, payload);
    await waitFor(() => watcher.on(`${base}/alex/error`).length >= 4 && watcher.on(`${base}/nobody/error`).length >= 1, 'error answers');
    const answers = [...watcher.on(`${base}/alex/error`), ...watcher.on(`${base}/nobody/error`)].map((m) => JSON.parse(m.text) as { error: string; topic: string });
    bad.forEach(([user, verb, , error], i) => {
      expect(answers[i]?.topic).toBe(`${base}/${user}/${verb}`);
      expect(answers[i]?.error).toContain(error);
    });
    expect(bridge.intents).toHaveLength(3);
    expect(bridge.prefers).toHaveLength(0);
  });

  it('answers a flood of bad commands under the drop log rate limit, and keeps acting on good ones', async () => {
    const { base, bridge, watcher, clock, logger } = await setup();
    for (let i = 0; i < 100; i++) await watcher.publish(`${base}/alex/set`, `nonsense ${i}`);
    await watcher.publish(`${base}/alex/set`, 'Away/Away');
    await waitFor(() => bridge.intents.length === 1, 'the good command after the flood');
    await waitFor(() => watcher.on(`${base}/alex/error`).length === 5, 'five answers');
    expect(logger.lines.filter((l) => l.level === 'warn' && l.message.includes('rejected'))).toHaveLength(5);
    await clock.advance(60_000);
    expect(logger.lines.some((l) => l.message === `[mqtt] 95 more dropped message(s) on ${base}/alex/set in the last 60 s were not logged`)).toBe(true);
    await watcher.publish(`${base}/alex/set`, 'nonsense again');
    await waitFor(() => watcher.on(`${base}/alex/error`).length === 6, 'answered again in the next minute');
    expect(watcher.on(`${base}/alex/error`)).toHaveLength(6);
  });

  it('forwards prefer commands and reports a Graph refusal on the error topic', async () => {
    const { base, bridge, watcher } = await setup();
    await watcher.publish(`${base}/alex/prefer`, '{"availability":"Offline","activity":"OffWork","expiration":"PT8H"}');
    await watcher.publish(`${base}/alex/prefer`, 'clear');
    await waitFor(() => bridge.prefers.length >= 2, 'two prefers');
    expect(bridge.prefers).toEqual([
      { userKey: 'alex', presence: { availability: 'Offline', activity: 'OffWork' }, expiration: 'PT8H' },
      { userKey: 'alex', presence: null },
    ]);
    bridge.preferError = new GraphError('forbidden', { code: 'FORBIDDEN', status: 403, hint: 'grant Presence.ReadWrite.All', retryable: false });
    await watcher.publish(`${base}/alex/prefer`, 'Busy/Busy');
    await waitFor(() => watcher.on(`${base}/alex/error`).length >= 1, 'error answer');
    expect((watcher.json(`${base}/alex/error`) as { error: string }).error).toContain('grant Presence.ReadWrite.All');
  });

  it('publishes retained state and presence on every change, never an identical payload twice', async () => {
    const { base, bridge, watcher, clock } = await setup();
    const stateTopic = `${base}/alex/state`;
    await waitFor(() => watcher.on(stateTopic).length >= 1 && watcher.on(`${base}/alex/presence`).length >= 1, 'initial state');
    expect(watcher.json(stateTopic)).toEqual({
      desired: 'clear', source: null, confirmed: null, sessionExpiresAt: null, nextRenewalAt: null, health: 'ok', problem: false, lastError: null,
    });
    expect(watcher.json(`${base}/alex/presence`)).toEqual({ availability: 'PresenceUnknown', activity: 'PresenceUnknown', known: false, overridden: false });

    const busy = { availability: 'Busy' as const, activity: 'InACall' };
    bridge.update('alex', { desired: busy, source: 'Desk button', health: 'pending', updatedAt: clock.now() + 1 });
    await waitFor(() => watcher.on(stateTopic).length >= 2, 'pending state'); // changes in one turn coalesce
    bridge.update('alex', { updatedAt: clock.now() + 2 }); // nothing MQTT shows changed
    bridge.update('alex', {
      confirmed: busy, health: 'unhealthy', sessionExpiresAt: Date.UTC(2026, 0, 5, 10), actual: busy, updatedAt: clock.now() + 3,
      lastError: { code: 'THROTTLED', message: 'm', hint: 'slow down', at: Date.UTC(2026, 0, 5, 9) },
    });
    await waitFor(() => watcher.on(stateTopic).length >= 3 && (watcher.json(`${base}/alex/presence`) as { known: boolean }).known, 'state updates');
    const states = watcher.on(stateTopic);
    expect(states).toHaveLength(3);
    expect(JSON.parse(states[1]!.text)).toMatchObject({ desired: 'Busy/InACall', source: 'Desk button', health: 'pending', problem: false });
    expect(watcher.json(stateTopic)).toEqual({
      desired: 'Busy/InACall', source: 'Desk button', confirmed: 'Busy/InACall', sessionExpiresAt: '2026-01-05T10:00:00.000Z', nextRenewalAt: null,
      health: 'unhealthy', problem: true, lastError: { code: 'THROTTLED', hint: 'slow down', at: '2026-01-05T09:00:00.000Z' },
    });
    expect(watcher.json(`${base}/alex/presence`)).toEqual({ availability: 'Busy', activity: 'InACall', known: true, overridden: false });

    // Retained: a newcomer gets the latest state at once.
    const late = await Watcher.connect(broker.url, protocolVersion, [`${base}/+/state`]);
    await waitFor(() => late.on(stateTopic).length >= 1, 'retained state for a newcomer');
    await late.close();
    expect(late.last(stateTopic)).toMatchObject({ retain: true });
    expect(JSON.parse(late.last(stateTopic)!.text)).toMatchObject({ health: 'unhealthy' });
  });

  it('coalesces a burst of 200 state changes for one user: few publishes, the final state retained', async () => {
    const { base, bridge, watcher } = await setup();
    const stateTopic = `${base}/alex/state`;
    await waitFor(() => watcher.on(stateTopic).length >= 1, 'initial state');
    const before = watcher.on(stateTopic).length;
    const busy = { availability: 'Busy' as const, activity: 'InACall' };
    // one burst within a turn of the event loop (as a flood of signals handled back to back)
    for (let i = 1; i <= 200; i++) {
      bridge.update('alex', { desired: busy, source: `burst ${i}`, health: i % 2 === 0 ? 'ok' : 'pending' });
      await Promise.resolve();
    }
    await waitFor(() => (watcher.json(stateTopic) as { source: string | null }).source === 'burst 200', 'final state');
    const burst = watcher.on(stateTopic).slice(before);
    expect(burst.length).toBeLessThanOrEqual(2);
    expect(watcher.json(stateTopic)).toMatchObject({ desired: 'Busy/InACall', source: 'burst 200', health: 'ok' });

    // spread over turns of the event loop, with a publish awaiting its PUBACK most of the time
    for (let i = 1; i <= 200; i++) {
      bridge.update('alex', { source: `spread ${i}`, health: i === 200 ? 'retrying' : 'ok' });
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => (watcher.json(stateTopic) as { source: string | null }).source === 'spread 200', 'final spread state');
    const spread = watcher.on(stateTopic).slice(before + burst.length);
    expect(spread.length).toBeGreaterThanOrEqual(1); // how many depends on PUBACK round trips, not on the 200 changes
    expect(spread.map((m) => (JSON.parse(m.text) as { source: string }).source)).toEqual(
      [...spread.map((m) => (JSON.parse(m.text) as { source: string }).source)].sort((a, b) => Number(a.split(' ')[1]) - Number(b.split(' ')[1])),
    ); // in order: never an older state after a newer one

    // the last retained payload is the final state, also for a newcomer
    const late = await Watcher.connect(broker.url, protocolVersion, [`${base}/alex/state`]);
    await waitFor(() => late.on(stateTopic).length >= 1, 'retained state for a newcomer');
    await late.close();
    expect(late.last(stateTopic)!.retain).toBe(true);
    expect(JSON.parse(late.last(stateTopic)!.text)).toMatchObject({ source: 'spread 200', health: 'retrying' });
  });

  it('publishes the latest state still waiting when it stops, before offline', async () => {
    const { base, bridge, watcher, feature } = await setup();
    const stateTopic = `${base}/alex/state`;
    await waitFor(() => watcher.on(stateTopic).length >= 1, 'initial state');
    bridge.update('alex', { source: 'first', health: 'pending' });
    await new Promise((r) => setImmediate(r)); // 'first' is now awaiting its PUBACK
    bridge.update('alex', { source: 'last words', health: 'ok' });
    await feature.stop();
    await waitFor(() => watcher.last(`${base}/status`)?.text === 'offline', 'offline');
    expect(watcher.json(stateTopic)).toMatchObject({ source: 'last words' });
  });

  it('publishes Home Assistant discovery with the topics HA expects', async () => {
    const { base, watcher } = await setup();
    const node = base.replace(/[^A-Za-z0-9_-]/g, '_');
    const topics = ['select', 'sensor', 'binary_sensor'].flatMap((c) => USERS.map((u) => `homeassistant/${c}/${node}/${u.key}_${c === 'select' ? 'presence_set' : c === 'sensor' ? 'presence' : 'problem'}/config`));
    await waitFor(() => topics.every((t) => watcher.last(t)), 'discovery');
    type Disc = Record<string, unknown> & { device: Record<string, unknown> };
    const select = watcher.json(topics[0]!) as Disc;
    expect(select).toMatchObject({
      command_topic: `${base}/alex/set`,
      state_topic: `${base}/alex/state`,
      value_template: '{{ value_json.desired }}',
      options: ['Available/Available', 'Busy/InACall', 'Busy/InAConferenceCall', 'Away/Away', 'DoNotDisturb/Presenting', 'clear'],
      availability_topic: `${base}/status`,
      payload_available: 'online',
      payload_not_available: 'offline',
      unique_id: `presence_bridge_${node}_alex_presence_set`,
    });
    expect(select.device).toMatchObject({ identifiers: [`presence_bridge_${node}_alex`], name: 'Alex Wilber Teams presence', manufacturer: 'homebridge-presence-bridge', model: 'Teams presence bridge' });
    expect(select.device.sw_version).toMatch(/^\d+\.\d+\.\d+/);
    const sensor = watcher.json(topics[2]!) as Disc;
    expect(sensor).toMatchObject({ state_topic: `${base}/alex/presence`, json_attributes_topic: `${base}/alex/presence`, availability_topic: `${base}/status` });
    const problem = watcher.json(topics[4]!) as Disc;
    expect(problem).toMatchObject({ device_class: 'problem', state_topic: `${base}/alex/state`, payload_on: 'ON', payload_off: 'OFF', availability_topic: `${base}/status` });
    const all = topics.map((t) => watcher.json(t) as Disc);
    expect(new Set(all.map((d) => d.unique_id)).size).toBe(6);
    const late = await Watcher.connect(broker.url, protocolVersion, [`homeassistant/+/${node}/#`]);
    await waitFor(() => late.messages.length >= 6, 'retained discovery for a newcomer');
    await late.close();
    expect(late.messages.every((m) => m.retain)).toBe(true);
    expect(late.messages.map((m) => m.topic).sort()).toEqual([...topics].sort());
    // One device per user, shared by its three entities.
    expect(new Set(all.map((d) => JSON.stringify(d.device))).size).toBe(2);
  });

  it('publishes no discovery when homeAssistant is off, and offline on stop', async () => {
    const { base, watcher, feature } = await setup();
    await feature.stop();
    await waitFor(() => watcher.last(`${base}/status`)?.text === 'offline', 'offline on stop');
    const cfg = makeConfig(broker.url, protocolVersion, `${base}-noha`);
    const noHa = new MqttFeature({ ...cfg, mqtt: { ...cfg.mqtt!, homeAssistant: false } }, new RecordingBridge(USERS), { logger: recordingLogger(), clock: new ManualClock(), storagePath: '/x' });
    cleanups.push(() => noHa.stop());
    await noHa.start();
    await waitFor(() => watcher.last(`${base}-noha/alex/state`) !== undefined, 'noha state');
    expect(watcher.messages.some((m) => m.topic.startsWith('homeassistant/') && m.topic.includes(`${base}-noha`.replace(/[^A-Za-z0-9_-]/g, '_')))).toBe(false);
  });

  it('marks itself offline through the last will when its connection dies', async () => {
    const { base, watcher, feature } = await setup();
    // Cut the TCP connection without a DISCONNECT: the broker publishes the will.
    (feature.connection as unknown as { client: { stream: { destroy(): void } } }).client.stream.destroy();
    await waitFor(() => watcher.on(`${base}/status`).some((m) => m.text === 'offline'), 'will');
    await waitFor(() => watcher.last(`${base}/status`)?.text === 'online', 'back online');
  });
});
