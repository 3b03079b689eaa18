import { describe, expect, it } from 'vitest';
import type { FeatureContext } from '../../src/feature.js';
import { FEATURES } from '../../src/features.js';
import { validateConfig } from '../../src/configuration.js';
import { ManualClock } from '../../src/shared/clock.js';
import { SerialFeature } from '../../src/serial/index.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { featureContext } from '../helpers/featureContext.js';
import { capturingLogger } from '../helpers/logger.js';
import { RecordingBridge } from '../helpers/recordingBridge.js';
import { waitFor } from '../helpers/waitFor.js';
import { serialPeers } from './support.js';

/**
 * The serial feature as the core builds it: through its registry entry, from the validated
 * config and a context of real pieces, on real PTYs (socat).
 */

const cleanups = cleanupAfterEach();
const { pair, device } = serialPeers(cleanups);
const serial = FEATURES.find((f) => f.name === 'serial')!;

function validConfig(raw: Record<string, unknown>) {
  const result = validateConfig({ auth: { tenantId: 't', clientId: 'c', clientSecret: 's' }, users: [{ key: 'alex', id: 'alex@contoso.example' }], ...raw });
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}

describe('the serial registry entry', () => {
  it('is unused, and builds nothing, without a serial input or output', () => {
    const config = validConfig({ inputs: [] });
    expect(serial.uses(config)).toBe(false);
    expect(serial.build(config, {} as FeatureContext)).toBeNull();
  });

  it('builds a SerialFeature that turns lines into signals, with normalised template keys for its light', async () => {
    const p = await pair();
    const config = validConfig({
      inputs: [{ name: 'Headset', type: 'serial', path: p.a, map: { OFFHOOK: 'Busy/InACall', ONHOOK: 'clear' } }],
      outputs: [{ name: 'Light', type: 'serial', path: '/dev/null-light-not-there', templates: { busy: 'RED\\n' } }],
    });
    expect(config.outputs[0]).toMatchObject({ templates: { Busy: 'RED\\n' } });
    const clock = new ManualClock();
    const logger = capturingLogger();
    const bridge = new RecordingBridge({ logger });
    const context = featureContext({ logger, clock, config, bridge, events: bridge.events });
    const feature = serial.build(config, context);
    expect(feature).toBeInstanceOf(SerialFeature);
    await feature!.start();
    cleanups.push(() => feature!.stop());
    await waitFor(() => logger.count('info', new RegExp(`opened ${p.a}`)) === 1, { what: 'port open' });
    const dev = await device(p.b);
    await dev.write('OFFHOOK\n');
    await waitFor(() => bridge.signals.length === 1, { what: 'a signal' });
    expect(bridge.signals).toEqual([{ input: 'Headset', value: 'OFFHOOK', at: clock.now() }]);
  });
});
