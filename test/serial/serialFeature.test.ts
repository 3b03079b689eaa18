import { describe, expect, it } from 'vitest';
import type { Startable } from '../../src/bridgeTypes.js';
import { configSchema } from '../../src/configuration.js';
import { ManualClock } from '../../src/shared/clock.js';
import { createSerialFeature, createSerialFeatureWith } from '../../src/serial/index.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { capturingLogger } from '../helpers/logger.js';
import { RecordingBridge } from '../helpers/recordingBridge.js';
import { userState } from '../helpers/userState.js';
import { waitFor } from '../helpers/waitFor.js';
import { DeviceEnd, serialPeers } from './support.js';

const cleanups = cleanupAfterEach();

const { pair, device } = serialPeers(cleanups);

function config(extra: { inputs?: unknown[]; outputs?: unknown[]; users?: unknown[] }) {
  return configSchema.parse({
    auth: { tenantId: 't', clientId: 'c', clientSecret: 's' },
    users: extra.users ?? [{ key: 'alex', id: 'alex-id' }],
    inputs: extra.inputs ?? [],
    outputs: extra.outputs ?? [],
  });
}

function headset(path: string, extra: Record<string, unknown> = {}) {
  return { name: 'Headset', type: 'serial', path, map: { OFFHOOK: 'Busy/InACall', ONHOOK: 'clear' }, ...extra };
}

async function startFeature(cfg: ReturnType<typeof config>, clock: ManualClock, bridge: RecordingBridge, logger = capturingLogger()) {
  // Backoff timers run on the ManualClock: each poll of waitFor moves it a second.
  const feature = createSerialFeatureWith({ maxLineBytes: 4096 })(cfg, bridge, { logger, clock, storagePath: '/nonexistent' });
  expect(feature).not.toBeNull();
  await feature!.start();
  cleanups.push(() => feature!.stop());
  return feature as Startable;
}

const tick = (clock: ManualClock) => () => clock.advance(1_000);

/** A headset input on a fresh PTY pair, started and with its port open, and the device end. */
async function openHeadset() {
  const p = await pair();
  const clock = new ManualClock();
  const logger = capturingLogger();
  const bridge = new RecordingBridge({ logger });
  await startFeature(config({ inputs: [headset(p.a)] }), clock, bridge, logger);
  await waitFor(() => logger.count('info', /opened/) === 1);
  const dev = await device(p.b);
  return { clock, logger, bridge, dev };
}

describe('serial feature with real PTYs', () => {
  it('is null when the config has no serial input or output', () => {
    const logger = capturingLogger();
    expect(createSerialFeature(config({}), new RecordingBridge({ logger }), { logger, clock: new ManualClock(), storagePath: '/x' })).toBeNull();
  });

  it('turns each line into a raw signal of every input on the port, opening the port once', async () => {
    const p = await pair();
    const clock = new ManualClock();
    const logger = capturingLogger();
    const bridge = new RecordingBridge({ logger });
    await startFeature(
      config({ inputs: [headset(p.a), { name: 'Desk', type: 'serial', path: p.a, field: 'hook', delimiter: '\\n', map: { off: 'Busy/InACall' } }] }),
      clock,
      bridge,
      logger,
    );
    await waitFor(() => logger.count('info', /opened/) === 1, { what: 'port open' });
    const dev = await device(p.b);
    await dev.write('OFFHOOK\r\n{"hook":"off"}\nONH');
    await dev.write('OOK\n');
    await waitFor(() => bridge.signals.length === 6, { what: 'six signals' });
    expect(bridge.values('Headset')).toEqual(['OFFHOOK', '{"hook":"off"}', 'ONHOOK']);
    expect(bridge.values('Desk')).toEqual(['OFFHOOK', '{"hook":"off"}', 'ONHOOK']);
    expect(bridge.signals.every((s) => s.at === clock.now())).toBe(true);
    // A second open of the same path would have failed on the port lock and been logged.
    expect(logger.count('warn', /cannot open/)).toBe(0);
  });

  it('reports an unplug, reopens with backoff when socat comes back on the same link, and acts on the next line', async () => {
    const p = await pair();
    const clock = new ManualClock();
    const logger = capturingLogger();
    const bridge = new RecordingBridge({ logger });
    await startFeature(config({ inputs: [headset(p.a, { onDisconnect: 'clear' })] }), clock, bridge, logger);
    await waitFor(() => logger.count('info', /opened/) === 1, { what: 'port open' });
    let dev = await device(p.b);
    await dev.write('OFFHOOK\n');
    await waitFor(() => bridge.signals.length === 1);

    await dev.close();
    await p.kill();
    await waitFor(() => bridge.disconnects.length === 1, { what: 'disconnect' });
    expect(bridge.disconnects).toEqual(['Headset']);

    // Several failed reopen attempts while the device is away: logged once, not per attempt.
    for (let i = 0; i < 5; i++) await clock.advance(10_000);
    expect(logger.count('warn', /disconnected|cannot open/)).toBe(1);

    await p.restart();
    await waitFor(() => logger.count('info', /is back/) === 1, { what: 'reconnect', onPoll: tick(clock) });
    dev = await device(p.b);
    await dev.write('ONHOOK\n');
    await waitFor(() => bridge.signals.length === 2, { what: 'line after reconnect' });
    expect(bridge.values()).toEqual(['OFFHOOK', 'ONHOOK']);
    expect(logger.count('warn', /disconnected|cannot open/)).toBe(1);
    expect(logger.count('info', /is back/)).toBe(1);
  });

  it('asks the device for its state on every open (queryOnOpen), once per distinct query, and acts on the answer', async () => {
    const p = await pair();
    const clock = new ManualClock();
    const logger = capturingLogger();
    const bridge = new RecordingBridge({ logger });
    let dev = await device(p.b); // the device is there before the bridge opens the port
    const inputs = [headset(p.a, { queryOnOpen: 'STATE?\\n' }), { name: 'Hook 2', type: 'serial', path: p.a, queryOnOpen: 'STATE?\n', map: { OFFHOOK: 'Busy/InACall' } }];
    await startFeature(config({ inputs }), clock, bridge, logger);
    await waitFor(() => dev.received === 'STATE?\n', { what: 'the query' });
    await dev.write('OFFHOOK\n');
    await waitFor(() => bridge.values('Headset').length === 1, { what: 'the answer' });
    expect(bridge.values('Headset')).toEqual(['OFFHOOK']);

    // Unplugged and back: asked again.
    await dev.close();
    await p.kill();
    await waitFor(() => bridge.disconnects.length === 2, { what: 'disconnect' });
    await p.restart();
    dev = await device(p.b);
    await waitFor(() => logger.count('info', /is back/) === 1, { what: 'reconnect', onPoll: tick(clock) });
    await waitFor(() => dev.received === 'STATE?\n', { what: 'the query after the replug' });
  });

  it('keeps trying when the device is missing at start, logging the loss and the recovery once', async () => {
    const p = await pair();
    await p.kill();
    const clock = new ManualClock();
    const logger = capturingLogger();
    const bridge = new RecordingBridge({ logger });
    await startFeature(config({ inputs: [headset(p.a)] }), clock, bridge, logger);
    await waitFor(() => logger.count('warn', /cannot open/) === 1, { what: 'first failed open' });
    for (let i = 0; i < 5; i++) await clock.advance(10_000);
    await waitFor(() => logger.count('debug', /still cannot open/) >= 3, { what: 'more attempts', onPoll: tick(clock) });
    expect(logger.count('warn', /cannot open/)).toBe(1);

    await p.restart();
    await waitFor(() => logger.count('info', /is back/) === 1, { what: 'device appears', onPoll: tick(clock) });
    const dev = await device(p.b);
    await dev.write('OFFHOOK\n');
    await waitFor(() => bridge.signals.length === 1);
    expect(bridge.values()).toEqual(['OFFHOOK']);
    // Missing at start counts as one disconnect (its onDisconnect applies), so an intent restored
    // from before a restart does not outlive a device that is gone; not one per failed attempt.
    expect(bridge.disconnects).toEqual(['Headset']);
  });

  it('survives garbage bytes and a 1 MB line, and still acts on the next line', async () => {
    const { logger, bridge, dev } = await openHeadset();
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256).filter((b) => b !== 0x0a));
    await dev.write(Buffer.concat([garbage, Buffer.from('\n')]));
    await dev.write(Buffer.concat([Buffer.alloc(1024 * 1024, 0x41), Buffer.from('\n')]));
    await dev.write('OFFHOOK\n');
    await waitFor(() => bridge.values().includes('OFFHOOK'), { what: 'OFFHOOK after garbage', timeoutMs: 30_000 });
    expect(logger.count('warn', /dropped a line longer than 4096 bytes/)).toBe(1);
    // The garbage line (under the limit) went through as text with replacement characters.
    expect(bridge.values().filter((v) => v !== 'OFFHOOK')).toHaveLength(1);
    expect(bridge.values()[0]).toContain('\uFFFD');
    expect(logger.count('info', /opened/)).toBe(1);
    expect(bridge.disconnects).toEqual([]);
  });

  it('warns about over-long lines at most once a minute per port, counting the rest', async () => {
    const { clock, logger, bridge, dev } = await openHeadset();
    const long = `${'x'.repeat(5000)}\n`;
    await dev.write(long.repeat(5) + 'OFFHOOK\n');
    await waitFor(() => bridge.values().includes('OFFHOOK'), { what: 'line after junk' });
    expect(logger.count('warn', /dropped a line/)).toBe(1);
    await clock.advance(60_000);
    await dev.write(long + 'ONHOOK\n');
    await waitFor(() => bridge.values().includes('ONHOOK'), { what: 'second line after junk' });
    expect(logger.count('warn', /dropped a line longer than 4096 bytes \(and 4 more since the last warning\)/)).toBe(1);
    expect(bridge.values()).toEqual(['OFFHOOK', 'ONHOOK']);
  });

  it('stop releases the port (its lock) and cancels a pending reopen', async () => {
    const p = await pair();
    const clock = new ManualClock();
    const logger = capturingLogger();
    const bridge = new RecordingBridge({ logger });
    const feature = await startFeature(config({ inputs: [headset(p.a)] }), clock, bridge, logger);
    await waitFor(() => logger.count('info', /opened/) === 1);
    // While the bridge holds the port, its exclusive lock keeps others out.
    await expect(DeviceEnd.open(p.a)).rejects.toThrow(/lock/i);
    await feature.stop();
    const other = await device(p.a);
    await other.close();

    const missing = await pair();
    await missing.kill();
    const feature2 = await startFeature(config({ inputs: [headset(missing.a)] }), clock, bridge, logger);
    await waitFor(() => logger.count('warn', /cannot open/) === 1);
    expect(clock.pending()).toBe(1);
    await feature2.stop();
    expect(clock.pending()).toBe(0);
  });

  it('drives a busy light: one line per change, none repeated, the current one again after its reconnect', async () => {
    const p = await pair();
    const clock = new ManualClock();
    const logger = capturingLogger();
    const bridge = new RecordingBridge({ logger });
    // Busy as typed into the Homebridge UI form: a backslash and an n, which must mean a newline.
    const templates = { Busy: 'RED\\n', DoNotDisturb: 'RED BLINK\n', Available: 'GREEN\n', Away: 'OFF\n', Offline: 'OFF\n' };
    // The light's end is open first: a PTY drops what arrives before its slave is opened.
    let dev = await device(p.b);
    await startFeature(config({ outputs: [{ name: 'Light', type: 'serial', path: p.a, templates }] }), clock, bridge, logger);
    // Nothing known yet: PresenceUnknown falls back to Offline's line.
    await waitFor(() => dev.received === 'OFF\n', { what: 'initial line' });

    bridge.emitState(userState('alex', { desired: { availability: 'Busy', activity: 'InACall' } }));
    await waitFor(() => dev.received === 'OFF\nRED\n', { what: 'desired Busy' });
    bridge.emitState(userState('alex', { desired: { availability: 'Busy', activity: 'InACall' }, confirmed: { availability: 'Busy', activity: 'InACall' } }));
    bridge.emitState(userState('bob', { actual: { availability: 'Available', activity: 'Available' } }));
    // Read-back wins over the asserted pair.
    bridge.emitState(userState('alex', { confirmed: { availability: 'Busy', activity: 'InACall' }, actual: { availability: 'DoNotDisturb', activity: 'Presenting' } }));
    await waitFor(() => dev.received === 'OFF\nRED\nRED BLINK\n', { what: 'DoNotDisturb from read-back' });

    // A light that reset on its own asks for the current line.
    await dev.write('READY\r\n');
    await waitFor(() => dev.received === 'OFF\nRED\nRED BLINK\nRED BLINK\n', { what: 'line again on READY' });

    // The light resets on unplug: after it is back it gets the same line again.
    await dev.close();
    await p.kill();
    await waitFor(() => logger.count('warn', /disconnected/) === 1, { what: 'light unplugged' });
    await p.restart();
    dev = await device(p.b);
    await waitFor(() => logger.count('info', /is back/) === 1, { what: 'light back', onPoll: tick(clock) });
    await waitFor(() => dev.received === 'RED BLINK\n', { what: 'same line after reconnect' });

    // A change while unplugged is shown once the light is back.
    await dev.close();
    await p.kill();
    await waitFor(() => logger.count('warn', /disconnected/) === 2, { what: 'unplugged again' });
    bridge.emitState(userState('alex', { actual: { availability: 'Away', activity: 'Away' } }));
    await p.restart();
    dev = await device(p.b);
    await waitFor(() => dev.received === 'OFF\n', { what: 'current line after reconnect', onPoll: tick(clock) });
    bridge.emitState(userState('alex', { actual: { availability: 'Away', activity: 'Away' } }));
    bridge.emitState(userState('alex', { actual: { availability: 'AvailableIdle', activity: 'Available' } }));
    await waitFor(() => dev.received === 'OFF\nGREEN\n', { what: 'AvailableIdle as Available' });
  });
});
