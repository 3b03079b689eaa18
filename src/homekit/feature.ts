import type { HomekitConfig } from '../config/schema.js';
import type { FeatureDefinition } from '../feature.js';

/**
 * The Homebridge side in the registry: the input name HomeKit switches act as. The accessories
 * themselves are built by the platform (they need Homebridge's API), not by `create`.
 */

/** The input name HomeKit switches act as in the arbiter. */
export const HOMEKIT_INPUT = 'homekit';

export const homekitInputs: FeatureDefinition<HomekitConfig> = {
  name: 'homekit',
  reservedInputs: [HOMEKIT_INPUT],
  reservedFor: 'HomeKit switches',
  // Always in use: the plugin exposes switches whenever the `homekit` options allow.
  select: (config) => config.homekit,
};
