import type { FeatureFactory } from './bridgeTypes.js';
import { createMqttFeature } from './mqtt/index.js';
import { createSerialFeature } from './serial/index.js';
import { httpOutputFeature } from './httpOutput/index.js';
import { workingHoursFeature } from './workingHours/index.js';

/** The built-in features createBridge wires, in start order (each returns null when unused). */
export const BUILT_IN_FEATURES: readonly FeatureFactory[] = [createMqttFeature, createSerialFeature];

/**
 * Feature definitions on the issue-17 seam (src/feature.ts), waiting for the registry to take
 * them: its config assembly and the runtime's gate list and FeatureContext.
 */
export const FEATURE_DEFINITIONS = [workingHoursFeature, httpOutputFeature] as const;
