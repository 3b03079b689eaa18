import { describe, expect, it } from 'vitest';
import { createBridge } from '../../src/bridge.js';
import { metricsFeature } from '../../src/metrics/index.js';
import { createSerialFeatureWith } from '../../src/serial/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { RouteTable } from '../../src/shared/routeTable.js';
import { emulatorConfig, emulatorOn, stopMovingClock, storageDir } from '../helpers/bridgeOnEmulator.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { capturingLogger } from '../helpers/logger.js';
import { waitFor } from '../helpers/waitFor.js';
import { serialPeers } from '../serial/support.js';
import { parsePrometheusText, sampleValue } from './promText.js';
import { serveRoutes } from './routeServer.js';

/** The serial side of dropped payloads: a real PTY device sends an over-long line, /metrics counts it. */

const cleanups = cleanupAfterEach();
const { pair, device } = serialPeers(cleanups);

describe('dropped serial lines in /metrics (issue 19)', () => {
  it('counts each over-long line once, and a normal line as an input message', async () => {
    const p = await pair();
    const dev = await device(p.b);
    const clock = new ManualClock();
    const emulator = await emulatorOn(clock, cleanups);
    const config = emulatorConfig(emulator, {
      graph: { pollSeconds: 0 },
      users: [{ key: 'alex', id: emulator.users[0]!.id }],
      inputs: [{ name: 'Headset', type: 'serial', path: p.a, map: { OFFHOOK: 'Busy/InACall', ONHOOK: 'clear' } }],
      metrics: { enabled: true },
    });
    const routes = new RouteTable();
    const logger = capturingLogger();
    const bridge = createBridge(config, { logger, clock, storagePath: await storageDir('pb-metrics-serial-', cleanups), routes, features: [createSerialFeatureWith({ maxLineBytes: 32 }), metricsFeature], random: () => 0.5 });
    const server = await serveRoutes(routes);
    cleanups.push(() => server.close());
    await bridge.start();
    cleanups.push(() => stopMovingClock(bridge, clock));
    const until = (condition: () => boolean, what: string): Promise<void> => waitFor(condition, { what, timeoutMs: 20_000, onPoll: () => clock.advance(1000) });
    await until(() => logger.count('info', /opened/) === 1, 'port open');
    let drops = 0;
    let signals = 0;
    bridge.events.on('dropped', () => drops++);
    bridge.events.on('signal', () => signals++);

    await dev.write(`${'X'.repeat(100)}\r\n`);
    await dev.write(`${'Y'.repeat(40)}\r\nOFFHOOK\r\n`);
    await until(() => drops === 2 && signals === 1, 'two drops and one signal');

    const response = await fetch(`${server.url}/metrics`);
    const families = parsePrometheusText(await response.text());
    expect(sampleValue(families, 'presence_bridge_dropped_payloads_total', 'presence_bridge_dropped_payloads_total', { source: 'serial', reason: 'lineTooLong' })).toBe(2);
    expect(sampleValue(families, 'presence_bridge_input_messages_total', 'presence_bridge_input_messages_total', { outcome: 'mapped' })).toBe(1);
  });
});
