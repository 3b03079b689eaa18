import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/configuration.js';
import { MqttFeature, type MqttFeatureOptions } from '../../src/mqtt/index.js';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { MAX_PAYLOAD_BYTES } from '../../src/shared/payloadGuard.js';
import { ManualClock } from '../../src/shared/clock.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { seededRandom } from '../helpers/random.js';
import type { Mosquitto } from '../helpers/mosquitto.js';
import { RecordingBridge, Watcher, changed, recordingLogger, waitFor } from './support.js';

const USERS = [{ key: 'alex', id: 'id-alex' }];

let broker: Mosquitto;
beforeAll(async () => {
  // The fuzz run publishes faster than QoS 1 delivery drains; let the broker queue all of it.
  broker = await startMosquitto({ extraConfig: ['max_queued_messages 0', 'max_inflight_messages 0'] });
});
afterAll(async () => {
  await broker.close();
});

interface Fuzz {
  readonly payload: Buffer;
  /** The text the bridge must receive, or null when the payload must be dropped. */
  readonly expect: string | null;
}

/** Payloads labelled by construction, independently of the guard under test. */
function fuzzPayload(random: () => number): Fuzz {
  const int = (n: number) => Math.floor(random() * n);
  const kind = int(100);
  if (kind < 25) {
    // random bytes, made invalid for sure: 0xFF never occurs in UTF-8
    const bytes = Buffer.alloc(1 + int(64));
    for (let i = 0; i < bytes.length; i++) bytes[i] = int(256);
    bytes[int(bytes.length)] = 0xff;
    return { payload: bytes, expect: null };
  }
  if (kind < 35) {
    // valid UTF-8 with a control character
    const text = `a${String.fromCharCode(int(9))}b`;
    return { payload: Buffer.from(text), expect: null };
  }
  if (kind < 37) return { payload: Buffer.alloc(MAX_PAYLOAD_BYTES + 1 + int(1000), 0x61), expect: null };
  if (kind < 40) {
    // truncated multi-byte sequence
    return { payload: Buffer.concat([Buffer.from('ok'), Buffer.from('✓').subarray(0, 2)]), expect: null };
  }
  if (kind < 70) {
    // printable text: letters, digits, punctuation, accents, emoji
    const alphabet = 'abcXYZ019 {}[]":,./\\-_äöüß✓😀\t';
    const chars = Array.from(alphabet);
    let text = '';
    const length = 1 + int(40);
    for (let i = 0; i < length; i++) text += chars[int(chars.length)];
    return { payload: Buffer.from(text), expect: text };
  }
  const known = ['single', 'double', 'hold', '{"action":"single"}', '{"action":"hold"}', 'OFFHOOK', 'ONHOOK', '{"action":null}', '{}', 'null', '42'];
  const text = known[int(known.length)]!;
  return { payload: Buffer.from(text), expect: text };
}

/**
 * A TCP relay in front of the real broker that can stop passing bytes towards the bridge while
 * keeping both connections open: a broker (or a network path) that has stopped answering.
 */
async function startFreezableRelay(brokerPort: number): Promise<{ url: string; freeze(): void; thaw(): void; close(): Promise<void> }> {
  let frozen = false;
  const sockets = new Set<Socket>();
  const held: { to: Socket; data: Buffer }[] = [];
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: brokerPort });
    sockets.add(client).add(upstream);
    client.on('data', (data) => upstream.write(data));
    upstream.on('data', (data) => (frozen ? held.push({ to: client, data }) : client.write(data)));
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
  return {
    url: `mqtt://127.0.0.1:${port}`,
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const { to, data } of held.splice(0)) if (!to.destroyed) to.write(data);
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.each([5, 4] as const)('MQTT resilience over MQTT %s', (protocolVersion) => {
  const cleanups = cleanupAfterEach();

  async function setup(base: string, connection: MqttFeatureOptions['connection'] = {}, url: string = broker.url) {
    const config = configSchema.parse({
      auth: { tenantId: 't', clientId: 'c', clientSecret: 's' },
      users: USERS,
      mqtt: { url, protocolVersion, baseTopic: base, clientId: `res-${base}` },
      inputs: [
        { name: 'Button', type: 'mqtt', topic: `${base}-dev/button`, map: { single: 'Busy/InACall' } },
        { name: 'Hooks', type: 'mqtt', topic: `${base}-dev/hook/+`, map: { OFFHOOK: 'Busy/InACall', ONHOOK: 'clear' } },
      ],
    });
    const clock = new ManualClock();
    const bridge = new RecordingBridge(USERS, clock.now());
    const logger = recordingLogger();
    const watcher = await Watcher.connect(broker.url, protocolVersion);
    cleanups.push(() => watcher.close());
    const feature = new MqttFeature({ ...config, mqtt: config.mqtt! }, bridge, { logger, clock, storagePath: '/x' }, { connection: { reconnectMinMs: 50, reconnectMaxMs: 400, ...connection } });
    cleanups.push(() => feature.stop());
    feature.connection.onConnect(changed); // the state topics come over their own connection, maybe before this one counts
    await feature.start();
    await waitFor(() => feature.connection.connections >= 1 && watcher.last(`${base}/status`)?.text === 'online', 'online');
    return { bridge, logger, watcher, feature, clock };
  }

  it('survives a broker restart: resubscribes, republishes retained topics and acts on inputs sent afterwards', async () => {
    const base = `restart${protocolVersion}`;
    const { bridge, logger, watcher, feature } = await setup(base);
    await watcher.publish(`${base}-dev/hook/left`, 'OFFHOOK');
    await waitFor(() => bridge.signals.length === 1, 'signal before restart');

    await broker.stop();
    await waitFor(() => logger.lines.some((l) => l.message.includes('lost the broker connection')), 'the bridge notices');
    expect(feature.connection.connected).toBe(false);
    await broker.restart();
    await waitFor(() => feature.connection.connections >= 2, 'reconnected with subscriptions');
    // Persistence is off: the session and retained messages are gone, so the bridge must have
    // subscribed again and republished status, state and discovery.
    await waitFor(() => watcher.client.connected, 'watcher back');
    await watcher.publish(`${base}-dev/hook/right`, 'ONHOOK');
    await watcher.publish(`${base}-dev/button`, 'single');
    await waitFor(() => bridge.signals.length === 3, 'signals after restart');
    expect(bridge.signals.map((s) => [s.input, s.value])).toEqual([
      ['Hooks', 'OFFHOOK'],
      ['Hooks', 'ONHOOK'],
      ['Button', 'single'],
    ]);
    const late = await Watcher.connect(broker.url, protocolVersion, [`${base}/#`, `homeassistant/+/${base}/#`]);
    cleanups.push(() => late.close());
    await waitFor(() => late.last(`${base}/status`)?.text === 'online' && late.last(`${base}/alex/state`) !== undefined && late.messages.filter((m) => m.topic.startsWith('homeassistant/')).length === 3, 'retained topics again');
    expect(late.messages.every((m) => m.retain)).toBe(true);

    await watcher.publish(`${base}/alex/set`, 'DoNotDisturb/Presenting');
    await waitFor(() => bridge.intents.length === 1, 'command after restart');
  });

  it('stops promptly while the broker is down, with messages waiting to be sent: no time passes on its clock', async () => {
    const base = `down${protocolVersion}`;
    // The connections' timers (reconnect backoff, stop bound) run on this clock, which never moves:
    // a stop that waited for any timer would not finish.
    const connectionClock = new ManualClock();
    const { bridge, feature, logger } = await setup(base, { clock: connectionClock });
    await broker.stop();
    try {
      await waitFor(() => logger.lines.filter((l) => l.message.includes('lost the broker connection')).length === 2, 'both connections notice');
      expect(connectionClock.pending()).toBe(2); // one reconnect each, waiting for the clock
      bridge.update('alex', { health: 'retrying' }); // not sent: offline
      void feature.connection.publish(`${base}/alex/error`, 'queued while offline');
      const startedAt = connectionClock.now();
      await feature.stop();
      expect(connectionClock.now()).toBe(startedAt);
      expect(connectionClock.pending()).toBe(0); // reconnects cancelled, no stop bound left armed
      expect(feature.connection.connected).toBe(false);
      expect(logger.lines.some((l) => l.message.includes('did not answer'))).toBe(false);
    } finally {
      await broker.restart();
    }
  });

  it('a broker that stops answering holds stop for exactly stopTimeoutMs on the connection clock, then is cut off', async () => {
    const base = `frozen${protocolVersion}`;
    const relay = await startFreezableRelay(broker.port);
    cleanups.push(() => relay.close());
    const connectionClock = new ManualClock();
    const stopTimeoutMs = 3_000;
    const { feature, logger, watcher } = await setup(base, { clock: connectionClock, stopTimeoutMs }, relay.url);
    await waitFor(() => feature.stateConnection.connected, 'state connection up');
    relay.freeze(); // the TCP connections stay open; nothing reaches the bridge any more
    let stopped = false;
    const stopping = feature.stop().then(() => {
      stopped = true;
    });
    // The offline publish waits for a PUBACK that never comes: only the clock ends the wait.
    await connectionClock.advance(stopTimeoutMs - 1);
    expect(stopped).toBe(false);
    let advances = 0;
    while (!stopped && advances < 2) {
      await connectionClock.advance(stopTimeoutMs);
      advances++;
    }
    await stopping;
    expect(stopped).toBe(true);
    expect(logger.lines.filter((l) => l.message.includes(`did not answer within ${stopTimeoutMs} ms`)).length).toBeGreaterThanOrEqual(1);
    expect(connectionClock.pending()).toBe(0);
    // The broker publishes the last will when the cut connection drops: the bridge still reads offline.
    relay.thaw();
    await waitFor(() => watcher.last(`${base}/status`)?.text === 'offline', 'offline through the will');
  });

  it('keeps its session while it is away: an input sent during a bridge restart is delivered when it is back', async () => {
    const base = `session${protocolVersion}`;
    const first = await setup(base);
    await first.feature.stop();
    await waitFor(() => first.watcher.last(`${base}/status`)?.text === 'offline', 'offline');
    await first.watcher.publish(`${base}-dev/hook/left`, 'OFFHOOK');
    const second = await setup(base); // same client id: the broker kept the session and queued the message
    await waitFor(() => second.bridge.signals.length === 1, 'queued message delivered');
    expect(second.bridge.signals[0]).toMatchObject({ input: 'Hooks', value: 'OFFHOOK', at: second.clock.now() });
    expect(first.bridge.signals).toHaveLength(0);
  });

  it('keeps serving through 10,000 random payloads, passes exactly the valid ones and keeps its log short', async () => {
    const base = `fuzz${protocolVersion}`;
    const { bridge, logger, watcher } = await setup(base);
    // Seeded: the same 10,000 payloads on every run.
    const random = seededRandom(20261129 + protocolVersion);
    const topics = [`${base}-dev/button`, `${base}-dev/hook/left`, `${base}-dev/hook/right`];
    const expected: [string, string][] = [];
    let dropped = 0;
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 10_000; i++) {
      const topic = topics[Math.floor(random() * topics.length)]!;
      const fuzz = fuzzPayload(random);
      if (fuzz.expect === null) dropped++;
      else expected.push([topic.endsWith('button') ? 'Button' : 'Hooks', fuzz.expect]);
      sends.push(watcher.publish(topic, fuzz.payload));
      if (sends.length >= 200) await Promise.all(sends.splice(0));
    }
    await Promise.all(sends);
    await watcher.publish(topics[1]!, 'OFFHOOK');
    expected.push(['Hooks', 'OFFHOOK']);
    await waitFor(() => bridge.signals.length >= expected.length, `all ${expected.length} valid signals`, 60_000);
    expect(dropped).toBeGreaterThan(3000);
    expect(bridge.signals.map((s) => [s.input, s.value])).toEqual(expected);
    const warnings = logger.lines.filter((l) => l.level === 'warn' || l.level === 'error');
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.length).toBeLessThanOrEqual(50);

    // Still serving commands and state after the flood.
    await watcher.publish(`${base}/alex/set`, 'Busy/InACall');
    await waitFor(() => bridge.intents.length === 1, 'command after the flood');
    bridge.update('alex', { health: 'pending' });
    await waitFor(() => (watcher.json(`${base}/alex/state`) as { health?: string } | undefined)?.health === 'pending', 'state after the flood');
  });
});
