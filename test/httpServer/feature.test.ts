import { describe, expect, it } from 'vitest';
import { createBridge } from '../../src/bridge.js';
import type { FeatureContext } from '../../src/feature.js';
import { httpFeature, HttpServerFeature } from '../../src/httpServer/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { UndiciHttpClient } from '../../src/shared/httpClient.js';
import { ReadinessChecks } from '../../src/shared/readiness.js';
import { RouteTable } from '../../src/shared/routeTable.js';
import type { StatusSnapshot } from '../../src/statusPage/index.js';
import { statusPageFeature } from '../../src/statusPage/feature.js';
import { emulatorConfig, emulatorOn, stopMovingClock, storageDir } from '../helpers/bridgeOnEmulator.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { capturingLogger } from '../helpers/logger.js';
import { freePort } from '../helpers/net.js';

/*
 * The http and statusPage features through their definitions (select, create) with a
 * FeatureContext built here from real pieces: a real bridge on the emulator, its event bus, a
 * RouteTable, readiness checks. This is what any host that builds the context gets.
 */

const cleanups = cleanupAfterEach();

describe('http and statusPage features', () => {
  it('are off without an http section, and serve routes registered by any feature created before the server starts', async () => {
    const clock = new ManualClock();
    const emulator = await emulatorOn(clock, cleanups);
    const port = await freePort();
    const users = [{ key: 'alex', id: emulator.users[0]!.id, name: 'Alex Wilber' }];
    expect(httpFeature.select(emulatorConfig(emulator, { users }))).toBeNull();
    expect(statusPageFeature.select(emulatorConfig(emulator, { users }))).toBeNull();
    const config = emulatorConfig(emulator, { graph: { pollSeconds: 0 }, users, http: { port }, name: 'Desk' });
    const bridge = createBridge(config, { logger: capturingLogger(), clock, storagePath: await storageDir('pb-feature-', cleanups), features: [] });
    await bridge.start();
    cleanups.push(() => stopMovingClock(bridge, clock));

    const logger = capturingLogger();
    const routes = new RouteTable();
    const readiness = new ReadinessChecks();
    let warmedUp = false;
    readiness.add('cache', () => (warmedUp ? null : 'warming up'));
    const context: FeatureContext = {
      logger,
      clock,
      storagePath: '/nonexistent',
      config,
      bridge,
      events: bridge.events,
      http: new UndiciHttpClient(),
      routes,
      instance: { id: 'test', shard: { index: 0, count: 1 } },
      readiness,
    };
    const http = httpFeature.create!(httpFeature.select(config)!, context) as HttpServerFeature;
    // created after the http feature, but before it starts: its routes are served
    const page = statusPageFeature.create!(statusPageFeature.select(config)!, context);
    await page.start();
    await http.start();
    cleanups.push(async () => {
      await http.stop();
      await page.stop();
    });
    expect(http.listening?.url).toBe(`http://127.0.0.1:${port}/`);
    expect(logger.count('info', new RegExp(`^status page at http://127\\.0\\.0\\.1:${port}/$`))).toBe(1);

    const state = (await (await fetch(`http://127.0.0.1:${port}/api/state`)).json()) as StatusSnapshot;
    expect(state.name).toBe('Desk');
    expect(state.users.map((u) => u.displayName)).toEqual(['Alex Wilber']);
    const notReady = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { waiting: unknown }).waiting).toEqual([{ name: 'cache', reason: 'warming up' }]);
    warmedUp = true;
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);

    await http.stop();
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
