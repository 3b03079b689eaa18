import type { FeatureFactory } from './bridgeTypes.js';
import { factoryFeature } from './core/factoryFeature.js';
import type { FeatureDefinition } from './feature.js';
import { metricsFeature } from './metrics/index.js';
import { COMMAND_INPUT, createMqttFeature } from './mqtt/index.js';
import { createSerialFeature } from './serial/index.js';

/** The built-in features createBridge wires, in start order (each returns null when unused). */
export const BUILT_IN_FEATURES: readonly FeatureFactory[] = [createMqttFeature, createSerialFeature];

/** The input the plugin's HomeKit switches deliver through `setIntent`. */
const HOMEKIT_INPUT = 'homekit';

/**
 * The registry: every feature the daemon and the plugin run, in start order. (MQTT and serial are
 * still factories wrapped here until each has its own FeatureDefinition.)
 */
export const FEATURES: readonly FeatureDefinition[] = [
  factoryFeature({ name: 'mqtt', factory: createMqttFeature, reservedInputs: [COMMAND_INPUT], uses: (config) => config.mqtt !== undefined }),
  factoryFeature({ name: 'serial', factory: createSerialFeature }),
  // the plugin's switches: no runtime part here (the platform calls setIntent), just the input name
  { name: 'homekit', reservedInputs: [HOMEKIT_INPUT], select: () => ({}) },
  metricsFeature,
];
