import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBridge, STARTUP_GRACE_MS, type CoreBridge } from '../../src/bridge.js';
import type { UserState } from '../../src/bridgeTypes.js';
import { validateConfig } from '../../src/configuration.js';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { ManualClock, yieldToEventLoop } from '../../src/shared/clock.js';
import { INTENT_STORE_FILE } from '../../src/session/intentStore.js';
import { SESSION_LEDGER_FILE } from '../../src/session/sessionLedger.js';
import { capturingLogger, type CapturingLogger } from '../helpers/logger.js';

const MIN = 60_000;

/**
 * A bridge started again on the same storage folder, with a ManualClock shared with the emulator:
 * what the inputs said before the restart comes back without any input reporting (issue 20).
 */

let clock: ManualClock;
let emulator: Emulator;
let storage: string;
let running: CoreBridge[] = [];
let logger: CapturingLogger;

beforeEach(async () => {
  clock = new ManualClock();
  emulator = await startEmulator({ clock });
  storage = await mkdtemp(join(tmpdir(), 'pb-restore-'));
  logger = capturingLogger();
});

afterEach(async () => {
  for (const bridge of running.splice(0)) await stopBridge(bridge);
  await emulator.close();
  await rm(storage, { recursive: true, force: true });
});

function userIds(): [string, string] {
  return [emulator.users[0]!.id, emulator.users[1]!.id];
}

function makeBridge(options: { onShutdown?: 'clear' | 'keep'; users?: number; mqtt?: boolean } = {}): CoreBridge {
  const [a, b] = userIds();
  const users = [{ key: 'alex', id: a }, { key: 'sam', id: b }].slice(0, options.users ?? 2);
  const raw = {
    ...emulatorConfigBlock(emulator, { graph: { expiration: 'PT1H', pollSeconds: 0 } }),
    ...(options.mqtt === false ? {} : { mqtt: { url: 'mqtt://127.0.0.1:1' } }),
    onShutdown: options.onShutdown ?? 'clear',
    users,
    inputs: [
      { type: 'mqtt', name: 'desk', topic: 'desk/button', user: 'alex', map: { on: 'Busy/InACall', off: 'clear', single: 'toggle', meeting: { set: 'Busy/InAConferenceCall', for: 'PT30M' } }, toggle: ['Busy/InACall', 'DoNotDisturb/Presenting'] },
    ],
  };
  const result = validateConfig(raw);
  if (!result.ok) throw new Error(result.errors.join('; '));
  const bridge = createBridge(result.config, { logger, clock, storagePath: storage, features: [], random: () => 0.5 });
  running.push(bridge);
  return bridge;
}

async function settle(bridge: CoreBridge): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await yieldToEventLoop();
    await bridge.whenIdle();
  }
}

async function stopBridge(bridge: CoreBridge): Promise<void> {
  running = running.filter((b) => b !== bridge);
  let done = false;
  const stopping = bridge.stop().finally(() => (done = true));
  for (let i = 0; i < 20 && !done; i++) {
    await settle(bridge);
    if (!done) await clock.advance(1000, () => settle(bridge));
  }
  await stopping;
}

/** Presence calls for a user since `from` (an index in the request log), as `set Pair` / `clear`. */
function calls(userId: string, from = 0): string[] {
  return emulator
    .requestLog()
    .slice(from)
    .flatMap((e) => {
      if (e.route === `/users/${userId}/presence/setPresence`) {
        const body = e.body as { availability: string; activity: string };
        return [`set ${body.availability}/${body.activity}`];
      }
      return e.route === `/users/${userId}/presence/clearPresence` ? ['clear'] : [];
    });
}

const presence = (userId: string): string => {
  const p = emulator.presenceOf(userId);
  return `${p.availability}/${p.activity}`;
};

async function signal(bridge: CoreBridge, value: string): Promise<void> {
  bridge.signal({ input: 'desk', value, at: clock.now() });
  await settle(bridge);
}

describe('intents restored at start', () => {
  it('onShutdown: clear clears on a clean stop, and the next start asserts the held intents again (button, HomeKit, command)', async () => {
    const [alexId, samId] = userIds();
    const first = makeBridge();
    await first.start();
    const askedAt = clock.now();
    await signal(first, 'ON');
    first.setIntent('sam', 'homekit', { kind: 'set', pair: { availability: 'DoNotDisturb', activity: 'Presenting' }, at: clock.now() });
    await settle(first);
    expect(presence(alexId)).toBe('Busy/InACall');
    expect(presence(samId)).toBe('DoNotDisturb/Presenting');
    await stopBridge(first);
    expect(calls(alexId)).toEqual(['set Busy/InACall', 'clear']);
    expect(calls(samId)).toEqual(['set DoNotDisturb/Presenting', 'clear']);
    const file = join(storage, INTENT_STORE_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    await clock.advance(MIN);
    const mark = emulator.requestLog().length;
    const second = makeBridge();
    const states: UserState[] = [];
    second.events.on('state', (s) => states.push(s));
    await second.start();
    await settle(second);
    expect(calls(alexId, mark)).toEqual(['set Busy/InACall']);
    expect(calls(samId, mark)).toEqual(['set DoNotDisturb/Presenting']);
    expect(second.activeIntents('sam').map((i) => i.input)).toEqual(['homekit']);
    expect(states.some((s) => s.userKey === 'sam' && s.source === 'homekit')).toBe(true);
    expect(logger.texts()).toContain(`info alex: restored Busy/InACall from input "desk" (asked ${new Date(askedAt).toISOString()})`);
    // The crash ledger's grace finds both wanted: nothing is cleared, and both are renewed.
    await clock.advance(STARTUP_GRACE_MS + 50 * MIN, () => settle(second));
    expect(calls(alexId, mark)).toEqual(['set Busy/InACall', 'set Busy/InACall']);
    expect(calls(samId, mark)).toEqual(['set DoNotDisturb/Presenting', 'set DoNotDisturb/Presenting']);
  });

  it('a timed intent keeps its original end across a restart', async () => {
    const [alexId] = userIds();
    const first = makeBridge({ onShutdown: 'keep' });
    await first.start();
    await signal(first, 'meeting');
    const end = clock.now() + 30 * MIN;
    await clock.advance(10 * MIN, () => settle(first));
    await stopBridge(first);
    await clock.advance(5 * MIN);
    const mark = emulator.requestLog().length;
    const second = makeBridge({ onShutdown: 'keep' });
    await second.start();
    await settle(second);
    expect(second.activeIntents('alex')).toEqual([{ input: 'desk', pair: { availability: 'Busy', activity: 'InAConferenceCall' }, at: end - 30 * MIN, until: end }]);
    expect(presence(alexId)).toBe('Busy/InAConferenceCall');
    await clock.advanceTo(end - 1, () => settle(second));
    expect(calls(alexId, mark)).toEqual(['set Busy/InAConferenceCall']);
    await clock.advanceTo(end, () => settle(second));
    expect(calls(alexId, mark)).toEqual(['set Busy/InAConferenceCall', 'clear']);
  });

  it('a toggle goes on from its restored position, and a new report replaces what was restored', async () => {
    const [alexId] = userIds();
    const first = makeBridge({ onShutdown: 'keep' });
    await first.start();
    await signal(first, 'single');
    expect(presence(alexId)).toBe('Busy/InACall');
    await stopBridge(first);
    const second = makeBridge({ onShutdown: 'keep' });
    await second.start();
    await settle(second);
    expect(presence(alexId)).toBe('Busy/InACall');
    await signal(second, 'single'); // the second press of the cycle: DoNotDisturb, not Busy again
    await clock.advance(3000, () => settle(second)); // one call per 2 s per user
    expect(presence(alexId)).toBe('DoNotDisturb/Presenting');
    await signal(second, 'off');
    await clock.advance(3000, () => settle(second));
    expect(presence(alexId)).toBe('Offline/Offline');
    await stopBridge(second);
    // An input that reports clear is forgotten on disk too.
    const after = JSON.parse(await readFile(join(storage, INTENT_STORE_FILE), 'utf8')) as { intents: unknown[] };
    expect(after.intents).toEqual([]);
  });

  it('nothing is restored after a down time longer than graph.expiration; the ledger then clears the session', async () => {
    const [alexId] = userIds();
    const first = makeBridge({ onShutdown: 'keep' });
    await first.start();
    await signal(first, 'ON');
    await stopBridge(first);
    await clock.advance(61 * MIN);
    const mark = emulator.requestLog().length;
    const second = makeBridge({ onShutdown: 'keep' });
    await second.start();
    await settle(second);
    expect(second.activeIntents('alex')).toEqual([]);
    expect(logger.texts().some((l) => l.includes('not restoring Busy/InACall from input "desk": the bridge was down longer than graph.expiration (PT1H)'))).toBe(true);
    await clock.advance(STARTUP_GRACE_MS, () => settle(second));
    expect(calls(alexId, mark)).toEqual(['clear']);
  });

  it('a user removed from the config is cleared after the start-up grace, and leaves the ledger', async () => {
    const [, samId] = userIds();
    const first = makeBridge({ onShutdown: 'keep' });
    await first.start();
    first.setIntent('sam', 'mqtt-command', { kind: 'set', pair: { availability: 'Busy', activity: 'InACall' }, at: clock.now() });
    await settle(first);
    await stopBridge(first);
    expect(presence(samId)).toBe('Busy/InACall');
    const mark = emulator.requestLog().length;
    const second = makeBridge({ onShutdown: 'keep', users: 1 });
    await second.start();
    await settle(second);
    expect(calls(samId, mark)).toEqual([]);
    await clock.advance(STARTUP_GRACE_MS, () => settle(second));
    expect(calls(samId, mark)).toEqual(['clear']);
    expect(emulator.sessionsOf(samId)).toEqual([]);
    await stopBridge(second);
    const ledger = JSON.parse(await readFile(join(storage, SESSION_LEDGER_FILE), 'utf8')) as { users: string[] };
    expect(ledger.users).not.toContain(samId);
  });

  it('a broken intent file is logged and ignored; the bridge starts', async () => {
    await writeFile(join(storage, INTENT_STORE_FILE), '{"version":1,"intents":[{"user":"alex"', { mode: 0o600 });
    const bridge = makeBridge();
    await bridge.start();
    await settle(bridge);
    expect(bridge.activeIntents('alex')).toEqual([]);
    expect(logger.texts().some((l) => l.startsWith('warn [intents] ignoring'))).toBe(true);
  });
});
