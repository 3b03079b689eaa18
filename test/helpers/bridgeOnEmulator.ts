import { validateConfig } from '../../src/configuration.js';
import type { PresenceBridgeConfig } from '../../src/config/schema.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import type { ManualClock } from '../../src/shared/clock.js';
import type { Cleanup } from './cleanups.js';
import { removeDir, tempDir } from './tempDir.js';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';

/** The project's Graph emulator on a free loopback port and on `clock`, closed by `cleanups`. */
export async function emulatorOn(clock: ManualClock, cleanups: Cleanup[]): Promise<Emulator> {
  const emulator = await startEmulator({ clock, port: 0, host: '127.0.0.1' });
  cleanups.push(() => emulator.close());
  return emulator;
}

/**
 * A config through the real validator: application sign-in as the emulator's apps[0] with its
 * secret, Graph and the CA of `emulator`, and `rest` (users, inputs, outputs, mqtt …); `graph`
 * adds to the Graph block. Throws the validation errors.
 */
export function emulatorConfig(emulator: Emulator, { graph, ...rest }: { graph?: Record<string, unknown>; [block: string]: unknown }): PresenceBridgeConfig {
  const result = validateConfig({
    ...emulatorConfigBlock(emulator, { graph: graph }),
    ...rest,
  });
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.config;
}

/** `availability/activity` the emulator shows for a user. */
export function presenceText(emulator: Emulator, userId: string): string {
  const p = emulator.presenceOf(userId);
  return `${p.availability}/${p.activity}`;
}

/** A storage folder for the bridge, removed by `cleanups`. */
export async function storageDir(prefix: string, cleanups: Cleanup[]): Promise<string> {
  const dir = await tempDir(prefix);
  cleanups.push(() => removeDir(dir));
  return dir;
}

/**
 * Stops a bridge on a ManualClock: the shutdown clear goes through the rate limiter and a bound on
 * the clock, so the clock moves a second at a time (20 s at most) until the stop is done.
 */
export async function stopMovingClock(bridge: { stop(): Promise<void> }, clock: ManualClock): Promise<void> {
  let done = false;
  const stopping = bridge.stop().finally(() => (done = true));
  for (let i = 0; i < 20 && !done; i++) await clock.advance(1000);
  await stopping;
}
