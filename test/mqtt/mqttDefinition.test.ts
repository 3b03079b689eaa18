import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeatureContext } from '../../src/feature.js';
import { FEATURES } from '../../src/features.js';
import { validateConfig } from '../../src/configuration.js';
import { ManualClock } from '../../src/shared/clock.js';
import { cleanupAfterEach } from '../helpers/cleanups.js';
import { featureContext } from '../helpers/featureContext.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { RecordingBridge, Watcher, recordingLogger, waitFor } from './support.js';

/**
 * The MQTT feature as the core builds it: through its registry entry, from the validated config
 * and a context of real pieces (listen-only events, a route table, an undici client), against a
 * real Mosquitto.
 */

let broker: Mosquitto;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker.close();
});

const mqtt = FEATURES.find((f) => f.name === 'mqtt')!;

function validConfig(raw: Record<string, unknown>) {
  const result = validateConfig({ auth: { tenantId: 't', clientId: 'c', clientSecret: 's' }, users: [{ key: 'alex', id: 'alex@contoso.example' }], ...raw });
  if (!result.ok) throw new Error(result.errors.join('\n'));
  return result.config;
}

describe('the mqtt registry entry', () => {
  const cleanups = cleanupAfterEach();

  it('is unused, and builds nothing, without an mqtt section', () => {
    const config = validConfig({});
    expect(mqtt.uses(config)).toBe(false);
    expect(mqtt.build(config, {} as FeatureContext)).toBeNull();
  });

  it('builds an MqttFeature that turns messages into signals and intents, and follows state through the listen-only events', async () => {
    const base = `def-${Date.now() % 100000}`;
    const config = validConfig({
      mqtt: { url: broker.url, baseTopic: base, homeAssistant: false },
      inputs: [{ name: 'Desk', type: 'mqtt', topic: `${base}-dev/desk`, map: { ON: 'Busy/InACall', OFF: 'clear' } }],
    });
    const clock = new ManualClock();
    const bridge = new RecordingBridge([{ key: 'alex', id: 'alex-id' }], clock.now());
    const context = featureContext({ logger: recordingLogger(), clock, config, bridge, events: bridge.events });
    const feature = mqtt.build(config, context);
    // a part whose MqttFeature (and mqtt.js) is built when it starts (issue 16, memory)
    expect(feature).not.toBeNull();
    cleanups.push(() => feature!.stop());
    const watcher = await Watcher.connect(broker.url, 5);
    cleanups.push(() => watcher.close());
    await feature!.start();
    await waitFor(() => watcher.last(`${base}/status`)?.text === 'online', 'online');

    await watcher.publish(`${base}-dev/desk`, 'ON');
    await watcher.publish(`${base}/alex/set`, 'DoNotDisturb/Presenting');
    await waitFor(() => bridge.signals.length >= 1 && bridge.intents.length >= 1, 'a signal and an intent');
    expect(bridge.signals).toEqual([{ input: 'Desk', value: 'ON', at: clock.now() }]);
    expect(bridge.intents[0]).toMatchObject({ userKey: 'alex', input: 'mqtt-command' });

    bridge.update('alex', { desired: { availability: 'Busy', activity: 'InACall' } });
    const desired = () => (JSON.parse(watcher.last(`${base}/alex/state`)?.text ?? '{}') as { desired?: string }).desired;
    await waitFor(() => desired() === 'Busy/InACall', 'the new state on the state topic');
    expect(JSON.parse(watcher.last(`${base}/alex/state`)!.text)).toMatchObject({ desired: 'Busy/InACall' });
  });
});
