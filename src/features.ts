import type { FeatureFactory } from './bridgeTypes.js';
import { createMqttFeature } from './mqtt/index.js';
import { createSerialFeature } from './serial/index.js';

/** The built-in features createBridge wires, in start order (each returns null when unused). */
export const BUILT_IN_FEATURES: readonly FeatureFactory[] = [createMqttFeature, createSerialFeature];
