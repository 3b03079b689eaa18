import type { FeatureDefinition } from '../feature.js';
import type { PresenceBridgeConfig } from '../config/schema.js';
import { checkMqttRaw } from './configChecks.js';
import { mqttInputSchema, mqttSchema, type MqttConfig } from './configSchema.js';
import { COMMAND_INPUT } from './mqttCommands.js';
import { featureBridge } from '../core/featureBridge.js';
import { lazyStartable } from '../core/lazyStartable.js';

/**
 * MQTT as a feature: the `mqtt` section, inputs of type `mqtt`, the command topics' input name,
 * and the MqttFeature that serves them all over the broker connection.
 */

export type MqttSlice = PresenceBridgeConfig & { mqtt: MqttConfig };

export const mqttFeature: FeatureDefinition<MqttSlice> = {
  name: 'mqtt',
  // MqttFeature prefixes its own lines ([mqtt], [state topics])
  logPrefix: null,
  section: {
    key: 'mqtt',
    schema: mqttSchema.optional(),
    title: 'MQTT',
    description: 'Broker connection for MQTT inputs, the command topic, state topics and Home Assistant discovery.',
  },
  inputTypes: [mqttInputSchema],
  reservedInputs: [COMMAND_INPUT],
  reservedFor: 'MQTT command topic',
  checkRaw: checkMqttRaw,
  form: { title: 'MQTT', description: 'Broker for MQTT inputs, the command topic, state topics and Home Assistant discovery.', expanded: false, paths: ['mqtt'] },
  docRules: '`mqtt` is required when an input has type `mqtt`, and its URL starts with `mqtt://`, `mqtts://`, `ws://` or `wss://`.',
  select: (config) => (config.mqtt ? { ...config, mqtt: config.mqtt } : null),
  // mqtt.js and the feature's code load only for a config with an mqtt section (issue 16, memory)
  create: (slice, context) =>
    lazyStartable(async () => {
      const { MqttFeature } = await import('./index.js');
      return new MqttFeature(slice, featureBridge(context), { logger: context.logger, clock: context.clock, storagePath: context.storagePath, ...(context.readiness ? { readiness: context.readiness } : {}) }, { shard: context.instance.shard });
    }),
};
