import { describe, expect, it } from 'vitest';
import { createBridge, type CoreBridge } from '../../src/bridge.js';
import type { Emulator } from '../../src/emulator/index.js';
import { createSerialFeatureWith } from '../../src/serial/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { emulatorConfig, emulatorOn, presenceText, stopMovingClock, storageDir } from '../helpers/bridgeOnEmulator.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { capturingLogger } from '../helpers/logger.js';
import { waitFor } from '../helpers/waitFor.js';
import { serialPeers } from './support.js';

/**
 * End to end: a device on a real socat PTY, the real bridge core, the project's HTTPS Graph
 * emulator (real MSAL, real undici). One ManualClock drives the bridge, the emulator and the
 * serial reconnect backoff.
 */

const cleanups = cleanupAfterEach();

const TEMPLATES = { Busy: 'RED\n', DoNotDisturb: 'RED BLINK\n', Available: 'GREEN\n', Away: 'OFF\n', Offline: 'OFF\n' };

interface Setup {
  clock: ManualClock;
  emulator: Emulator;
  bridge: CoreBridge;
  logger: ReturnType<typeof capturingLogger>;
  presence(): string;
  /** Poll until `condition`, moving the clock a second per poll (backoff timers, renewals). */
  until(condition: () => boolean, what: string, timeoutMs?: number): Promise<void>;
}

async function setup(options: { inputs?: unknown[]; outputs?: unknown[]; pollSeconds?: number }): Promise<Setup> {
  const clock = new ManualClock();
  const emulator = await emulatorOn(clock, cleanups);
  const user = emulator.users[0]!;
  const config = emulatorConfig(emulator, {
    graph: { pollSeconds: options.pollSeconds ?? 0 },
    users: [{ key: 'alex', id: user.id }],
    inputs: options.inputs ?? [],
    outputs: options.outputs ?? [],
  });
  const storage = await storageDir('pb-serial-', cleanups);
  const logger = capturingLogger();
  const bridge = createBridge(config, { logger, clock, storagePath: storage, features: [createSerialFeatureWith()], random: () => 0.5 });
  await bridge.start();
  cleanups.push(() => stopMovingClock(bridge, clock));
  const presence = (): string => presenceText(emulator, user.id);
  const until = (condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> =>
    waitFor(condition, { what, timeoutMs, onPoll: () => clock.advance(1000) });
  return { clock, emulator, bridge, logger, presence, until };
}

const { pair, device } = serialPeers(cleanups);

function headset(path: string, onDisconnect: 'keep' | 'clear' = 'clear') {
  return { name: 'Headset', type: 'serial', path, onDisconnect, map: { OFFHOOK: 'Busy/InACall', ONHOOK: 'clear' } };
}

describe('serial headset and busy light through the bridge to the Graph emulator', () => {
  it('OFFHOOK reaches Graph as Busy/InACall and ONHOOK clears it', async () => {
    const p = await pair();
    const dev = await device(p.b);
    const s = await setup({ inputs: [headset(p.a)] });
    await s.until(() => s.logger.count('info', /opened/) === 1, 'port open');
    expect(s.presence()).toBe('Offline/Offline');

    await dev.write('OFFHOOK\r\n');
    await s.until(() => s.presence() === 'Busy/InACall', 'Busy/InACall at Graph');
    expect(s.emulator.sessionsOf(s.emulator.users[0]!.id)).toHaveLength(1);

    await dev.write('ONHOOK\r\n');
    await s.until(() => s.presence() === 'Offline/Offline', 'cleared at Graph');
    expect(s.emulator.sessionsOf(s.emulator.users[0]!.id)).toHaveLength(0);
    const routes = s.emulator.requestLog().filter((e) => /\/presence\/(set|clear)Presence$/.test(e.path)).map((e) => `${e.method} ${e.path.replace(/.*\//, '')} ${e.status}`);
    expect(routes).toEqual(['POST setPresence 200', 'POST clearPresence 200']);
  });

  it('socat killed and restarted on the same link: with onDisconnect keep the presence holds, and the next line is acted on', async () => {
    const p = await pair();
    let dev = await device(p.b);
    const s = await setup({ inputs: [headset(p.a, 'keep')] });
    await s.until(() => s.logger.count('info', /opened/) === 1, 'port open');
    await dev.write('OFFHOOK\n');
    await s.until(() => s.presence() === 'Busy/InACall', 'Busy/InACall');

    await dev.close();
    await p.kill();
    await s.until(() => s.logger.count('info', /input "Headset" disconnected; its presence is kept/) === 1, 'disconnect seen');
    // Minutes pass with the device away; the session is renewed all along.
    for (let i = 0; i < 10; i++) await s.clock.advance(60_000);
    expect(s.presence()).toBe('Busy/InACall');

    await p.restart();
    dev = await device(p.b);
    await s.until(() => s.logger.count('info', /is back/) === 1, 'reconnect');
    await dev.write('ONHOOK\n');
    await s.until(() => s.presence() === 'Offline/Offline', 'ONHOOK after reconnect clears');
    expect(s.logger.count('warn', /disconnected|cannot open/)).toBe(1);
  });

  it('onDisconnect clear: the user is cleared when the device vanishes', async () => {
    const p = await pair();
    const dev = await device(p.b);
    const s = await setup({ inputs: [headset(p.a, 'clear')] });
    await s.until(() => s.logger.count('info', /opened/) === 1, 'port open');
    await dev.write('OFFHOOK\n');
    await s.until(() => s.presence() === 'Busy/InACall', 'Busy/InACall');

    await dev.close();
    await p.kill();
    await s.until(() => s.presence() === 'Offline/Offline', 'cleared after unplug');
    await s.bridge.whenIdle();
    expect(s.bridge.state('alex')).toMatchObject({ desired: null, confirmed: null });
  });

  it('the busy light gets the right lines, and the current one again after its own reconnect', async () => {
    const sensor = await pair();
    const light = await pair();
    const hook = await device(sensor.b);
    let lamp = await device(light.b);
    const s = await setup({
      inputs: [headset(sensor.a)],
      outputs: [{ name: 'Light', type: 'serial', path: light.a, templates: TEMPLATES }],
    });
    await s.until(() => s.logger.count('info', /opened/) === 2, 'both ports open');
    await s.until(() => lamp.received === 'OFF\n', 'light off at start');

    await hook.write('OFFHOOK\n');
    await s.until(() => s.presence() === 'Busy/InACall', 'Busy/InACall');
    await s.until(() => lamp.received === 'OFF\nRED\n', 'light red');

    await lamp.close();
    await light.kill();
    await s.until(() => s.logger.count('warn', /disconnected/) === 1, 'light unplugged');
    await light.restart();
    lamp = await device(light.b);
    await s.until(() => lamp.received === 'RED\n', 'red again after the light reconnects');

    await hook.write('ONHOOK\n');
    await s.until(() => s.presence() === 'Offline/Offline', 'cleared');
    await s.until(() => lamp.received === 'RED\nOFF\n', 'light off after clear');
    // Renewals and other state events with the same availability write nothing more.
    for (let i = 0; i < 5; i++) await s.clock.advance(60_000);
    expect(lamp.received).toBe('RED\nOFF\n');
  });

  it('with read-back on, the light follows the presence Graph reports, a user-preferred override included', async () => {
    const sensor = await pair();
    const light = await pair();
    const hook = await device(sensor.b);
    const lamp = await device(light.b);
    const s = await setup({
      inputs: [headset(sensor.a)],
      outputs: [{ name: 'Light', type: 'serial', path: light.a, templates: TEMPLATES }],
      pollSeconds: 30,
    });
    await s.until(() => s.logger.count('info', /opened/) === 2, 'both ports open');
    await s.until(() => s.bridge.state('alex')?.actual !== null && lamp.received === 'OFF\n', 'first read-back shown');
    // The light turns red at once, without waiting for the next poll (the clock does not move).
    await hook.write('OFFHOOK\n');
    await waitFor(() => lamp.received === 'OFF\nRED\n', { what: 'red before the next poll' });
    expect(s.bridge.state('alex')?.actual?.availability).not.toBe('Busy');
    await s.until(() => s.bridge.state('alex')?.actual?.availability === 'Busy', 'read-back catches up');
    s.emulator.setPreferred(s.emulator.users[0]!.id, { availability: 'DoNotDisturb', activity: 'DoNotDisturb' });
    await s.until(() => lamp.received.endsWith('RED BLINK\n'), 'override shown');
    s.emulator.setPreferred(s.emulator.users[0]!.id, null);
    await s.until(() => lamp.received.endsWith('RED BLINK\nRED\n'), 'back to the session after the override ends');
  });

  it('garbage bytes and a 1 MB line leave the bridge running', async () => {
    const p = await pair();
    const dev = await device(p.b);
    const s = await setup({ inputs: [headset(p.a)] });
    await s.until(() => s.logger.count('info', /opened/) === 1, 'port open');

    const garbage = Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 256));
    await dev.write(garbage);
    await dev.write(Buffer.concat([Buffer.from('\n'), Buffer.alloc(1024 * 1024, 0x5a), Buffer.from('\r\n')]));
    await dev.write('OFFHOOK\n');
    await s.until(() => s.presence() === 'Busy/InACall', 'OFFHOOK after garbage', 30_000);
    await s.bridge.whenIdle();
    expect(s.logger.count('warn', /dropped a line longer than/)).toBeGreaterThanOrEqual(1);
    expect(s.logger.count('error', /./)).toBe(0);
    expect(s.bridge.state('alex')).toMatchObject({ health: 'ok', source: 'Headset' });
  });
});
