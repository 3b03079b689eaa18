import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBridge } from '../../src/bridge.js';
import type { CoreBridge } from '../../src/bridge.js';
import type { Emulator } from '../../src/emulator/index.js';
import { createMqttFeature } from '../../src/mqtt/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { emulatorConfig, emulatorOn, presenceText, stopMovingClock, storageDir } from '../helpers/bridgeOnEmulator.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import type { Mosquitto } from '../helpers/mosquitto.js';
import { Watcher, changed, recordingLogger, waitFor } from './support.js';

/**
 * End to end: a real Mosquitto, the real bridge core with the MQTT feature, the project's HTTPS
 * Graph emulator (real MSAL, real undici). One ManualClock drives the bridge and the emulator.
 */

let broker: Mosquitto;
beforeAll(async () => {
  broker = await startMosquitto({ extraConfig: ['max_queued_messages 0'] });
});
afterAll(async () => {
  await broker.close();
});

const cleanups = cleanupAfterEach();

interface Setup {
  base: string;
  clock: ManualClock;
  emulator: Emulator;
  bridge: CoreBridge;
  watcher: Watcher;
  userId: string;
  logger: ReturnType<typeof recordingLogger>;
  presence(): string;
  state(): Record<string, unknown> | undefined;
  /** Waits for `condition`, moving the clock a second between checks (renewals, read-back, limiter). */
  until(condition: () => boolean, what: string, timeoutMs?: number): Promise<void>;
}

let counter = 0;
async function setup(protocolVersion: 4 | 5): Promise<Setup> {
  const base = `e2e${protocolVersion}-${++counter}`;
  const clock = new ManualClock();
  const emulator = await emulatorOn(clock, cleanups);
  const user = emulator.users[0]!;
  const config = emulatorConfig(emulator, {
    graph: { pollSeconds: 30 },
    users: [{ key: 'alex', id: user.id, name: 'Alex' }],
    mqtt: { url: broker.url, protocolVersion, baseTopic: base, clientId: `bridge-${base}`, preferTopic: true },
    inputs: [
      { name: 'Desk button', type: 'mqtt', topic: `${base}-z2m/desk_button`, field: 'action', user: 'alex', map: { single: 'toggle', hold: 'DoNotDisturb/Presenting' }, toggle: ['Busy/InACall'] },
      { name: 'Headset', type: 'mqtt', topic: `${base}-esp/+/hook`, user: 'alex', map: { OFFHOOK: 'Busy/InACall', ONHOOK: 'clear' } },
    ],
  });
  const storage = await storageDir('pb-mqtt-', cleanups);
  const watcher = await Watcher.connect(broker.url, protocolVersion);
  cleanups.push(() => watcher.close());
  const logger = recordingLogger();
  const bridge = createBridge(config, { logger, clock, storagePath: storage, features: [createMqttFeature], random: () => 0.5 });
  bridge.events.on('graphCall', changed);
  bridge.events.on('state', changed);
  await bridge.start();
  cleanups.push(() => stopMovingClock(bridge, clock));
  const s: Setup = {
    base,
    clock,
    emulator,
    bridge,
    watcher,
    userId: user.id,
    logger,
    presence: () => presenceText(emulator, user.id),
    state: () => watcher.json(`${base}/alex/state`) as Record<string, unknown> | undefined,
    until: (condition, what, timeoutMs = 30_000) => waitFor(condition, what, timeoutMs, () => clock.advance(1000)),
  };
  await s.until(() => watcher.last(`${base}/status`)?.text === 'online' && s.state() !== undefined, 'bridge online with state');
  return s;
}

function setPresenceCalls(emulator: Emulator): string[] {
  return emulator
    .requestLog()
    .filter((e) => /\/presence\/(setPresence|clearPresence|setUserPreferredPresence|clearUserPreferredPresence)$/.test(e.path))
    .map((e) => `${e.path.replace(/.*\//, '')} ${e.status}`);
}

describe.each([5, 4] as const)('MQTT through the bridge to the Graph emulator, MQTT %s', (protocolVersion) => {
  it('a button press reaches Graph as setPresence and the state and presence topics follow', async () => {
    const s = await setup(protocolVersion);
    expect(s.presence()).toBe('Offline/Offline');
    await s.watcher.publish(`${s.base}-z2m/desk_button`, '{"action":"single","battery":97}');
    await s.until(() => s.presence() === 'Busy/InACall', 'Busy/InACall at Graph');
    await s.until(() => s.state()?.confirmed === 'Busy/InACall', 'confirmed on the state topic');
    expect(s.state()).toMatchObject({ desired: 'Busy/InACall', source: 'Desk button', confirmed: 'Busy/InACall', health: 'ok', problem: false });
    expect(typeof s.state()?.sessionExpiresAt).toBe('string');
    await s.until(() => (s.watcher.json(`${s.base}/alex/presence`) as { availability?: string } | undefined)?.availability === 'Busy', 'read-back on the presence topic');
    expect(s.watcher.json(`${s.base}/alex/presence`)).toMatchObject({ availability: 'Busy', activity: 'InACall', known: true });

    // The second press toggles back to clear.
    await s.watcher.publish(`${s.base}-z2m/desk_button`, '{"action":"single"}');
    await s.until(() => s.presence() === 'Offline/Offline' && s.state()?.confirmed === null, 'cleared');
    expect(s.state()).toMatchObject({ desired: 'clear', confirmed: null });
    expect(setPresenceCalls(s.emulator)).toEqual(['setPresence 200', 'clearPresence 200']);
  });

  it('the command topic sets, clears and prefers through Graph; bad payloads are answered on the error topic', async () => {
    const s = await setup(protocolVersion);
    await s.watcher.publish(`${s.base}/alex/set`, 'DoNotDisturb/Presenting');
    await s.until(() => s.presence() === 'DoNotDisturb/Presenting' && s.state()?.source === 'mqtt-command', 'DND from the set topic');
    expect(s.state()).toMatchObject({ desired: 'DoNotDisturb/Presenting', source: 'mqtt-command' });

    await s.watcher.publish(`${s.base}/alex/set`, '{"availability":"Busy","activity":"InACall"');
    await s.watcher.publish(`${s.base}/alex/set`, 'Busy/Busy');
    await s.watcher.publish(`${s.base}/carol/set`, 'Busy/InACall');
    await s.until(() => s.watcher.on(`${s.base}/alex/error`).length === 2 && s.watcher.on(`${s.base}/carol/error`).length === 1, 'errors');
    expect(s.presence()).toBe('DoNotDisturb/Presenting');

    // A timed command replaces the command input's intent and ends by itself.
    await s.watcher.publish(`${s.base}/alex/set`, '{"availability":"Busy","activity":"InAConferenceCall","expiration":"PT2M"}');
    await s.until(() => s.presence() === 'Busy/InAConferenceCall', 'the timed command at Graph');
    const startedAt = s.clock.now();
    await s.until(() => s.presence() === 'Offline/Offline' && s.state()?.desired === 'clear', 'the timed command ended');
    expect(s.clock.now() - startedAt).toBeGreaterThanOrEqual(60_000); // not at once: it ran its course

    await s.watcher.publish(`${s.base}/alex/set`, 'Away/Away');
    await s.until(() => s.presence() === 'Away/Away', 'Away from the set topic');
    await s.watcher.publish(`${s.base}/alex/set`, 'clear');
    await s.until(() => s.presence() === 'Offline/Offline', 'clear from the set topic');

    await s.watcher.publish(`${s.base}/alex/prefer`, 'Busy/Busy');
    await s.until(() => setPresenceCalls(s.emulator).includes('setUserPreferredPresence 200'), 'preferred presence at Graph');
    // a preferred presence shows only while a session exists (setUserPreferredPresence page)
    expect(s.presence()).toBe('Offline/Offline');
    s.emulator.addSession(s.emulator.users[0]!.id, { clientId: 'teams-desktop', availability: 'Available', activity: 'Available' });
    expect(s.presence()).toBe('Busy/Busy');
    await s.watcher.publish(`${s.base}/alex/prefer`, 'clear');
    await s.until(() => setPresenceCalls(s.emulator).includes('clearUserPreferredPresence 200'), 'preferred presence cleared');
  });

  it('the broker is restarted mid-run and inputs published after the restart are acted on', async () => {
    const s = await setup(protocolVersion);
    await s.watcher.publish(`${s.base}-esp/desk1/hook`, 'OFFHOOK');
    await s.until(() => s.presence() === 'Busy/InACall', 'Busy before the restart');
    const onlines = (): number => s.watcher.on(`${s.base}/status`).filter((m) => m.text === 'online').length;
    const onlineBefore = onlines();
    await broker.restart();
    await s.until(() => s.logger.lines.filter((l) => l.message.includes('connected to the broker')).length >= 2, 'bridge reconnected');
    // `online` goes out once the bridge's subscriptions are granted: only then can an input reach it
    await s.until(() => s.watcher.client.connected && onlines() > onlineBefore, 'bridge subscribed again and online');
    await s.watcher.publish(`${s.base}-esp/desk1/hook`, 'ONHOOK');
    await s.until(() => s.presence() === 'Offline/Offline', 'ONHOOK after the restart clears');
    await s.until(() => s.state()?.desired === 'clear', 'state topic after the restart');
  });

  it('10,000 random payloads on the input topics leave the bridge running and correct', async () => {
    const s = await setup(protocolVersion);
    let seed = 7 + protocolVersion;
    const random = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 10_000; i++) {
      const r = random();
      let payload: Buffer;
      if (r < 0.4) payload = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * 256)));
      else if (r < 0.8) payload = Buffer.from(`{"action":"${Math.floor(random() * 1e6).toString(36)}"}`);
      else if (r < 0.99) payload = Buffer.from(['OFFHOOK', 'ONHOOK', 'offhook ', 'HOOK', '', 'null'][Math.floor(random() * 6)]!);
      else payload = Buffer.alloc(70_000, 0x41);
      const topic = random() < 0.5 ? `${s.base}-z2m/desk_button` : `${s.base}-esp/desk${Math.floor(random() * 3)}/hook`;
      sends.push(s.watcher.publish(topic, payload));
      if (sends.length >= 200) await Promise.all(sends.splice(0));
    }
    await Promise.all(sends);
    await s.watcher.publish(`${s.base}-esp/desk2/hook`, 'OFFHOOK');
    await s.until(() => s.presence() === 'Busy/InACall' && s.state()?.confirmed === 'Busy/InACall', 'the last word holds at Graph and on the state topic', 60_000);
    await s.watcher.publish(`${s.base}-esp/desk2/hook`, 'ONHOOK');
    await s.until(() => s.presence() === 'Offline/Offline' && s.state()?.desired === 'clear', 'and the bridge still answers', 60_000);
    const warnings = s.logger.lines.filter((l) => (l.level === 'warn' || l.level === 'error') && l.message.startsWith('[mqtt]'));
    expect(warnings.length).toBeLessThanOrEqual(50);
  });
});
