import { createBridge } from '../../src/bridge.js';
import type { CoreBridge } from '../../src/bridge.js';
import type { Emulator } from '../../src/emulator/index.js';
import { createMqttFeature } from '../../src/mqtt/index.js';
import type { Clock } from '../../src/shared/clock.js';
import { ManualClock } from '../../src/shared/clock.js';
import { emulatorConfig, emulatorOn, presenceText, stopMovingClock, storageDir } from '../helpers/bridgeOnEmulator.js';
import type { Cleanup } from '../helpers/cleanups.js';
import { Watcher, changed, recordingLogger, waitFor } from '../mqtt/support.js';

/**
 * The hostile-input suite's bridge: a real Mosquitto (the caller's), the real bridge core with the
 * MQTT feature, the project's HTTPS Graph emulator on a ManualClock. Users alex, sam and kim are the
 * emulator's three users. `clock` is what the bridge runs on (the emulator's ManualClock unless
 * another one is given, e.g. a counting system clock).
 */
export interface HostileSetup {
  readonly base: string;
  readonly emulatorClock: ManualClock;
  readonly emulator: Emulator;
  readonly bridge: CoreBridge;
  readonly watcher: Watcher;
  readonly logger: ReturnType<typeof recordingLogger>;
  readonly ids: { readonly alex: string; readonly sam: string; readonly kim: string };
  presence(user: 'alex' | 'sam' | 'kim'): string;
  /** Graph presence-writing calls as `operation user status`, in order. */
  writes(): string[];
}

export interface HostileOptions {
  readonly url: string;
  readonly protocolVersion?: 4 | 5;
  readonly cleanups: Cleanup[];
  /** The bridge's clock; defaults to the emulator's ManualClock. */
  readonly clock?: (emulatorClock: ManualClock) => Clock;
  readonly mqtt?: Record<string, unknown>;
  readonly graph?: Record<string, unknown>;
  readonly inputs?: (base: string) => unknown[];
  /** Runs before the bridge starts (to plant retained messages). */
  readonly before?: (watcher: Watcher, base: string) => Promise<void>;
  readonly watcherOptions?: Parameters<typeof Watcher.connect>[3];
  /** The base topic; defaults to a fresh one per bridge. */
  readonly base?: string;
}

let counter = 0;

export async function hostileBridge(options: HostileOptions): Promise<HostileSetup> {
  const { cleanups } = options;
  const base = options.base ?? `hostile-${process.pid}-${++counter}`;
  const emulatorClock = new ManualClock();
  const emulator = await emulatorOn(emulatorClock, cleanups);
  const [alex, sam, kim] = emulator.users;
  if (!alex || !sam || !kim) throw new Error('the emulator needs three users');
  const protocolVersion = options.protocolVersion ?? 5;
  const config = emulatorConfig(emulator, {
    graph: { pollSeconds: 0, ...options.graph },
    users: [
      { key: 'alex', id: alex.id },
      { key: 'sam', id: sam.id },
      { key: 'kim', id: kim.id },
    ],
    mqtt: { url: options.url, protocolVersion, baseTopic: base, clientId: `bridge-${base}`, homeAssistant: false, ...options.mqtt },
    inputs: options.inputs?.(base) ?? [],
    onShutdown: 'keep',
  });
  const storage = await storageDir('pb-hostile-', cleanups);
  const watcher = await Watcher.connect(options.url, protocolVersion, [`${base}/#`], options.watcherOptions);
  cleanups.push(() => watcher.close());
  await options.before?.(watcher, base);
  const logger = recordingLogger();
  const clock = options.clock?.(emulatorClock) ?? emulatorClock;
  const bridge = createBridge(config, { logger, clock, storagePath: storage, features: [createMqttFeature], random: () => 0.5 });
  bridge.events.on('graphCall', changed);
  bridge.events.on('state', changed);
  await bridge.start();
  cleanups.push(() => (clock === emulatorClock ? stopMovingClock(bridge, emulatorClock) : bridge.stop()));
  const names = new Map([
    [alex.id, 'alex'],
    [sam.id, 'sam'],
    [kim.id, 'kim'],
  ]);
  const ids = { alex: alex.id, sam: sam.id, kim: kim.id };
  return {
    base,
    emulatorClock,
    emulator,
    bridge,
    watcher,
    logger,
    ids,
    presence: (user) => presenceText(emulator, ids[user]),
    writes: () =>
      emulator
        .requestLog()
        .filter((e) => /\/presence\/(setPresence|clearPresence|setUserPreferredPresence|clearUserPreferredPresence)$/.test(e.path))
        .map((e) => {
          const id = /users\/([^/]+)\//.exec(e.path)?.[1] ?? '';
          return `${e.path.replace(/.*\//, '')} ${names.get(id) ?? id} ${e.status}`;
        }),
  };
}

/** Waits for the bridge's `online` status on the watcher. */
export function online(s: HostileSetup): Promise<void> {
  return waitFor(() => s.watcher.last(`${s.base}/status`)?.text === 'online', 'bridge online');
}

export { waitFor };
