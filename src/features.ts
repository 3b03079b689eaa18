import type { FeatureFactory } from './bridgeTypes.js';
import type { PresenceBridgeConfig } from './config/schema.js';
import { lazyStartable } from './core/lazyStartable.js';
import { defineFeature } from './core/registeredFeature.js';
import type { RegisteredFeature } from './feature.js';
import { fleetFeature, userGroupsFeature } from './fleetConfig/feature.js';
import { homekitInputs } from './homekit/feature.js';
import { httpApiFeature } from './httpApi/index.js';
import { httpFeature } from './httpServer/index.js';
import { mqttFeature } from './mqtt/feature.js';
import { createSerialFeature } from './serial/index.js';
import { serialFeature } from './serial/feature.js';
import { statusPageFeature } from './statusPage/feature.js';
import { httpOutputFeature } from './httpOutput/index.js';
import { metricsFeature } from './metrics/definition.js';
import { workingHoursFeature } from './workingHours/index.js';

/**
 * The registry: every feature the bridge knows, in start order. A new input, output or service
 * is its own folder exporting one FeatureDefinition plus ONE line here; the config schema,
 * validation, the Homebridge form and docs/configuration.md are assembled from this list
 * (src/configuration.ts), and the core builds each feature with `build(config, context)`.
 */

export { defineFeature };

export const FEATURES: readonly RegisteredFeature[] = [
  defineFeature(mqttFeature),
  defineFeature(serialFeature),
  defineFeature(homekitInputs),
  defineFeature(userGroupsFeature),
  defineFeature(fleetFeature),
  defineFeature(workingHoursFeature),
  defineFeature(httpOutputFeature),
  defineFeature(statusPageFeature),
  defineFeature(httpApiFeature),
  defineFeature(metricsFeature),
  // last: it listens once every feature before it has registered its routes
  defineFeature(httpFeature),
];

/** Every input name a feature delivers through `bridge.setIntent` (`mqtt-command`, `homekit`): the one list. */
export function builtInInputs(features: readonly RegisteredFeature[] = FEATURES): string[] {
  return features.flatMap((f) => f.reservedInputs ?? []);
}

/** The built-in input names of the features this config uses (`mqtt-command` only with an `mqtt` section). */
export function activeBuiltInInputs(config: PresenceBridgeConfig, features: readonly RegisteredFeature[] = FEATURES): string[] {
  return features.filter((f) => f.uses(config)).flatMap((f) => f.reservedInputs ?? []);
}

/**
 * The factories createBridge wires today, in start order (each returns null when unused).
 * @deprecated for the core: iterate {@link FEATURES} with `build(config, context)` instead.
 */
export const BUILT_IN_FEATURES: readonly FeatureFactory[] = [
  // mqtt.js loads only for a config with an mqtt section (issue 16, memory)
  (config, bridge, deps) =>
    config.mqtt ? lazyStartable(async () => (await import('./mqtt/index.js')).createMqttFeature(config, bridge, deps) ?? { start: async () => {}, stop: async () => {} }) : null,
  createSerialFeature,
];

/**
 * Feature definitions on the issue-17 seam (src/feature.ts), waiting for the registry to take
 * them: its config assembly and the runtime's gate list and FeatureContext.
 */
export const FEATURE_DEFINITIONS = [workingHoursFeature, httpOutputFeature] as const;
