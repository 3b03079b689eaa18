import type { PresenceBridgeConfig } from '../config/schema.js';
import type { FeatureDefinition } from '../feature.js';
import { featureBridge } from '../core/featureBridge.js';
import { checkSerialRaw, normaliseSerial } from './configChecks.js';
import { serialInputSchema, serialOutputSchema } from './configSchema.js';
import { SerialFeature, serialPortUses } from './index.js';

/**
 * Serial as a feature: inputs and busy lights of type `serial`, one open port per path however
 * many entries use it.
 */

export const serialFeature: FeatureDefinition<PresenceBridgeConfig> = {
  name: 'serial',
  // SerialFeature prefixes its own lines
  logPrefix: null,
  inputTypes: [serialInputSchema],
  outputTypes: [serialOutputSchema],
  checkRaw: checkSerialRaw,
  normalise: normaliseSerial,
  docRules: 'Serial inputs and outputs on the same port agree on the baud rate.',
  select: (config) => (config.inputs.some((i) => i.type === 'serial') || config.outputs.some((o) => o.type === 'serial') ? config : null),
  create: (config, context) =>
    new SerialFeature(
      serialPortUses(config, context.logger),
      config.users.map((u) => u.key),
      featureBridge(context),
      { logger: context.logger, clock: context.clock, storagePath: context.storagePath },
      {},
    ),
};
