import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/configuration.js';
import { MqttFeature, STATE_CLIENT_ID_SUFFIX } from '../../src/mqtt/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import type { Mosquitto } from '../helpers/mosquitto.js';
import { RecordingBridge, Watcher, changed, recordingLogger, waitFor } from './support.js';

/**
 * Mosquitto leaves Nagle's algorithm on by default: a PUBACK it owes us for one of our QoS 1
 * publishes holds back the next packet it has for the same socket until our delayed ACK. So no
 * input may share a connection with the acknowledgements of our own state publishes. The broker's
 * debug log names the client of every PUBLISH it receives and sends, which shows, without any
 * timing, which connection carries what.
 */
let broker: Mosquitto;
beforeAll(async () => {
  broker = await startMosquitto({ extraConfig: ['log_type debug'] });
});
afterAll(async () => {
  await broker.close();
});

interface Publish {
  readonly direction: 'Received' | 'Sending';
  readonly client: string;
  readonly qos: number;
  readonly topic: string;
}

/** PUBLISH packets in the broker's log: `Received PUBLISH from <client> (d0, q1, r1, m2, 'topic', …)`. */
function publishes(log: string): Publish[] {
  const out: Publish[] = [];
  for (const m of log.matchAll(/(Received|Sending) PUBLISH (?:from|to) (\S+) \(d\d, q(\d), r\d, m\d+, '([^']*)'/g)) {
    out.push({ direction: m[1] as Publish['direction'], client: m[2]!, qos: Number(m[3]), topic: m[4]! });
  }
  return out;
}

describe('retained state publishing', () => {
  const cleanups = cleanupAfterEach();

  it('inputs arrive on a connection that carries no state publish of ours, so no PUBACK of ours is queued ahead of them', async () => {
    const base = `pbs-${Date.now() % 100000}`;
    const clientId = `test-${base}`;
    const config = configSchema.parse({
      auth: { tenantId: 't', clientId: 'c', clientSecret: 's' },
      users: [{ key: 'alex', id: 'id-alex' }],
      mqtt: { url: broker.url, baseTopic: base, clientId },
      inputs: [{ name: 'Desk', type: 'mqtt', topic: `${base}-dev/desk`, user: 'alex', map: { busy: 'Busy/InACall', off: 'clear' } }],
    });
    const clock = new ManualClock();
    const bridge = new RecordingBridge([{ key: 'alex', id: 'id-alex' }], clock.now());
    const watcher = await Watcher.connect(broker.url, 5, [`${base}/#`]);
    cleanups.push(() => watcher.close());
    const feature = new MqttFeature({ ...config, mqtt: config.mqtt! }, bridge, { logger: recordingLogger(), clock, storagePath: '/nonexistent' });
    cleanups.push(() => feature.stop());
    feature.connection.onConnect(changed);
    await feature.start();
    await waitFor(() => feature.connection.connections >= 1 && watcher.last(`${base}/status`)?.text === 'online', 'online');

    // inputs and state changes interleaved, as a busy desk makes them
    const busy = { availability: 'Busy' as const, activity: 'InACall' };
    for (let i = 0; i < 5; i++) {
      await watcher.publish(`${base}-dev/desk`, i % 2 === 0 ? 'busy' : 'off');
      bridge.update('alex', i % 2 === 0 ? { desired: busy, source: 'Desk', health: 'pending' } : { desired: null, source: null, health: 'ok' });
      await waitFor(() => bridge.signals.length >= i + 1 && watcher.on(`${base}/alex/state`).some((m) => m.text.includes(i % 2 === 0 ? '"pending"' : '"desired":"clear"')), `round ${i}`);
    }
    await waitFor(() => publishes(broker.output()).filter((p) => p.direction === 'Sending' && p.client === clientId).length >= 5, 'the inputs in the broker log');

    const log = publishes(broker.output());
    const inputsTo = new Set(log.filter((p) => p.direction === 'Sending' && p.topic === `${base}-dev/desk`).map((p) => p.client));
    expect(inputsTo).toEqual(new Set([clientId])); // the bridge's inputs arrive on its main connection
    const fromMain = log.filter((p) => p.direction === 'Received' && p.client === clientId);
    // the main connection publishes only the bridge's status: nothing per state change
    expect(fromMain.map((p) => p.topic)).toEqual([`${base}/status`]);
    const stateFrom = new Set(log.filter((p) => p.direction === 'Received' && /\/alex\/(state|presence)$/.test(p.topic)).map((p) => p.client));
    expect(stateFrom).toEqual(new Set([`${clientId}${STATE_CLIENT_ID_SUFFIX}`]));
    // still QoS 1 and retained: the contract of docs/mqtt.md is unchanged
    expect(log.filter((p) => p.direction === 'Received' && p.topic.endsWith('/alex/state')).every((p) => p.qos === 1)).toBe(true);
    const late = await Watcher.connect(broker.url, 5, [`${base}/alex/state`]);
    await waitFor(() => late.on(`${base}/alex/state`).length >= 1, 'the retained state');
    await late.close();
    expect(late.last(`${base}/alex/state`)).toMatchObject({ retain: true });
  });

  it('the final state is at the broker before the bridge says offline', async () => {
    const base = `pbo-${Date.now() % 100000}`;
    const config = configSchema.parse({
      auth: { tenantId: 't', clientId: 'c', clientSecret: 's' },
      users: [{ key: 'alex', id: 'id-alex' }],
      mqtt: { url: broker.url, baseTopic: base, clientId: `test-${base}` },
      inputs: [],
    });
    const clock = new ManualClock();
    const bridge = new RecordingBridge([{ key: 'alex', id: 'id-alex' }], clock.now());
    const watcher = await Watcher.connect(broker.url, 5, [`${base}/#`]);
    cleanups.push(() => watcher.close());
    const feature = new MqttFeature({ ...config, mqtt: config.mqtt! }, bridge, { logger: recordingLogger(), clock, storagePath: '/nonexistent' });
    feature.connection.onConnect(changed);
    await feature.start();
    await waitFor(() => feature.connection.connections >= 1 && watcher.on(`${base}/alex/state`).length >= 1, 'online and the first state');
    bridge.update('alex', { desired: { availability: 'Busy', activity: 'InACall' }, source: 'last words', health: 'pending' });
    await feature.stop(); // the change is still queued for the next turn: stop sends it first
    await waitFor(() => watcher.last(`${base}/status`)?.text === 'offline', 'offline');
    const order = watcher.messages
      .filter((m) => m.topic === `${base}/status` || m.topic === `${base}/alex/state`)
      .map((m) => (m.topic.endsWith('/status') ? m.text : (JSON.parse(m.text) as { source: string | null }).source));
    expect(order.slice(-2)).toEqual(['last words', 'offline']);
  });
});
