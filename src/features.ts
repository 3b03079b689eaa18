import type { FeatureFactory } from './bridgeTypes.js';
import type { FeatureDefinition } from './feature.js';
import { httpApiFeature } from './httpApi/index.js';
import { createMqttFeature } from './mqtt/index.js';
import { createSerialFeature } from './serial/index.js';

/** The built-in features createBridge wires, in start order (each returns null when unused). */
export const BUILT_IN_FEATURES: readonly FeatureFactory[] = [createMqttFeature, createSerialFeature];

/** Features written on the seam of src/feature.ts, until the registry above is a list of them (issue 17). */
export const FEATURE_DEFINITIONS: readonly FeatureDefinition[] = [httpApiFeature];
