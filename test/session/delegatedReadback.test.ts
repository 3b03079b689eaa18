import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CoreBridge } from '../../src/bridge.js';
import { createBridge } from '../../src/bridge.js';
import { validateConfig } from '../../src/configuration.js';
import type { Emulator } from '../../src/emulator/index.js';
import { startEmulator } from '../../src/emulator/index.js';
import { createGraphStack } from '../../src/graph/index.js';
import { ManualClock, yieldToEventLoop } from '../../src/shared/clock.js';
import { capturingLogger } from '../helpers/logger.js';
import { emulatorConfigBlock } from '../../src/emulator/configBlock.js';

/**
 * Delegated mode (Presence.ReadWrite): read-back reads the signed-in user with GET /me/presence
 * (getPresencesByUserId needs Presence.Read.All, which the sign-in lacks), and says once which
 * configured users are not the signed-in account.
 */
describe('read-back in delegated mode', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.reverse()) await fn();
    cleanup.length = 0;
  });

  async function setup(users: (emulator: Emulator) => { key: string; id: string }[], signInAs = 0) {
    const clock = new ManualClock(Date.now());
    const emulator = await startEmulator({ clock, deviceCodeIntervalSeconds: 1, tokenLifetimeSeconds: 3600 });
    cleanup.push(() => emulator.close());
    const storage = await mkdtemp(join(tmpdir(), 'pb-delegated-rb-'));
    cleanup.push(() => rm(storage, { recursive: true, force: true }));
    const result = validateConfig({
      ...emulatorConfigBlock(emulator, { mode: 'delegated', graph: { expiration: 'PT1H', pollSeconds: 30 } }),
      mqtt: { url: 'mqtt://127.0.0.1:1' }, // never connected: no features
      users: users(emulator),
      inputs: [{ type: 'mqtt', name: 'desk', topic: 'desk/button', user: users(emulator)[0]!.key, map: { busy: 'Busy/InACall' } }],
    });
    if (!result.ok) throw new Error(result.errors.join('; '));
    const config = result.config;
    const login = createGraphStack(config, { logger: capturingLogger(), clock, storagePath: storage });
    await login.tokens.login((p) => emulator.approveDeviceCode(p.userCode, emulator.users[signInAs]!.id));
    await login.close();
    emulator.clearRequestLog();
    const logger = capturingLogger();
    const bridge: CoreBridge = createBridge(config, { logger, clock, storagePath: storage, features: [], random: () => 0.5 });
    const settle = async () => {
      for (let i = 0; i < 3; i++) {
        await yieldToEventLoop();
        await bridge.whenIdle();
      }
    };
    cleanup.push(async () => {
      const stopping = bridge.stop();
      await clock.advance(10_000, settle);
      await stopping;
    });
    await bridge.start();
    await settle();
    const advance = (ms: number) => clock.advance(ms, settle);
    return { clock, emulator, bridge, logger, advance, settle };
  }

  const presenceReads = (emulator: Emulator) =>
    emulator
      .requestLog()
      .filter((e) => e.kind !== 'identity' && (e.method === 'GET' || e.route === '/communications/getPresencesByUserId'))
      .map((e) => `${e.method} ${e.route} ${e.status}`);

  it('reads the signed-in user with GET /me/presence, never getPresencesByUserId, and sees a change made elsewhere', async () => {
    const { emulator, bridge, logger, advance } = await setup((e) => [{ key: 'alex', id: e.users[0]!.id }]);
    await advance(95_000);
    const reads = presenceReads(emulator);
    expect(reads.length).toBeGreaterThanOrEqual(3);
    expect(new Set(reads)).toEqual(new Set(['GET /me/presence 200']));
    // a preferred presence shows only while a session exists: the user's Teams client holds one
    emulator.addSession(emulator.users[0]!.id, { clientId: 'teams-desktop', availability: 'Available', activity: 'Available' });
    emulator.setPreferred(emulator.users[0]!.id, { availability: 'DoNotDisturb', activity: 'DoNotDisturb' });
    await advance(30_000);
    expect(bridge.states()[0]?.actual).toMatchObject({ availability: 'DoNotDisturb' });
    expect(logger.texts().filter((l) => l.startsWith('warn') || l.startsWith('error'))).toEqual([]);
  });

  it('matches a user configured by user principal name', async () => {
    const { emulator, bridge, advance } = await setup((e) => [{ key: 'alex', id: e.users[0]!.userPrincipalName }]);
    emulator.addSession(emulator.users[0]!.id, { clientId: 'teams-desktop', availability: 'Available', activity: 'Available' });
    emulator.setPreferred(emulator.users[0]!.id, { availability: 'Away', activity: 'Away' });
    await advance(31_000);
    expect(bridge.states()[0]?.actual).toMatchObject({ availability: 'Away' });
  });

  it('says once that users other than the signed-in account cannot be read', async () => {
    const { emulator, logger, advance } = await setup((e) => [
      { key: 'alex', id: e.users[0]!.id },
      { key: 'megan', id: e.users[1]!.id },
    ]);
    await advance(5 * 30_000);
    const warnings = logger.texts().filter((l) => l.startsWith('warn'));
    const others = warnings.filter((l) => l.includes(emulator.users[1]!.id));
    expect(others).toHaveLength(1);
    expect(others[0]).toContain(`signed in as ${emulator.users[0]!.userPrincipalName}`);
    expect(others[0]).toContain('can only set its own presence');
    expect(warnings.some((l) => l.includes('read-back failed'))).toBe(false);
  });

  it('logs a repeated read-back refusal once, and again when it recovers and fails anew', async () => {
    const { emulator, logger, advance } = await setup((e) => [{ key: 'alex', id: e.users[0]!.id }]);
    emulator.injectFault({ kind: 'status', status: 503, count: 4, path: '/me/presence' });
    await advance(5 * 30_000);
    const failures = () => logger.texts().filter((l) => l.startsWith('warn') && l.includes('read-back failed'));
    expect(failures()).toHaveLength(1);
    expect(failures()[0]).toContain('UNAVAILABLE');
    expect(logger.texts().filter((l) => l.includes('read-back works again'))).toHaveLength(1);
    emulator.injectFault({ kind: 'status', status: 503, count: 1, path: '/me/presence' });
    await advance(2 * 30_000);
    expect(failures()).toHaveLength(2);
  });
});
