import type { FeatureFactory } from './bridgeTypes.js';
import type { FeatureDefinition } from './feature.js';
import { httpFeature } from './httpServer/index.js';
import { createMqttFeature } from './mqtt/index.js';
import { createSerialFeature } from './serial/index.js';
import { statusPageFeature } from './statusPage/feature.js';

/** The built-in features createBridge wires, in start order (each returns null when unused). */
export const BUILT_IN_FEATURES: readonly FeatureFactory[] = [createMqttFeature, createSerialFeature];

/** Feature definitions (src/feature.ts), created together and started in this order; `http` last, so every route is registered before it listens. */
export const FEATURE_DEFINITIONS: readonly FeatureDefinition<unknown>[] = [statusPageFeature, httpFeature];
